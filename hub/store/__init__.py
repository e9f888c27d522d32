"""The store: one DuckDB file under the workspace. :mod:`hub.store.db` is the only module that
imports duckdb; every other stage hands it SQL (text or sqlglot trees) and Arrow tables."""

from hub.store.db import Database, open_store

__all__ = ["Database", "open_store"]
