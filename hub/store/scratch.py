"""Scratch tables: every table whose name starts with ``__`` (Splink's ``__splink__*``, the linkage
stage's ``__link_*``, ``__fill_*``…) is scratch by convention and never outlives its step.

:func:`drop_scratch` is the one place they are dropped: at the end of entity resolution, and
defensively before it and at the start of every ingest (a process killed mid-step leaves Splink's
tables in the file). Views registered from Arrow (temporary views, e.g. ``__hub_stage``) belong to
whoever registered them and are left alone.
"""

from __future__ import annotations

from hub.store.db import Database

_FIND = r"""
SELECT 'TABLE', database_name, schema_name, table_name FROM duckdb_tables()
WHERE starts_with(table_name, '__')
UNION ALL
SELECT 'VIEW', database_name, schema_name, view_name FROM duckdb_views()
WHERE starts_with(view_name, '__') AND NOT temporary AND NOT internal
"""


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def scratch_tables(db: Database) -> list[str]:
    """The scratch tables and views present, as ``schema.name`` (temporary ones of this connection too)."""
    return sorted(f"{schema}.{name}" for _, _, schema, name in db.rows(_FIND))


def drop_scratch(db: Database) -> int:
    """Drop every scratch table (and persistent scratch view); returns how many were dropped."""
    found = db.rows(_FIND)
    for kind, catalog, schema, name in found:
        db.execute(f"DROP {kind} IF EXISTS {_ident(catalog)}.{_ident(schema)}.{_ident(name)}")
    return len(found)
