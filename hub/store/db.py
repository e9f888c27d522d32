"""The one module that talks to DuckDB.

Everything else in the hub passes SQL (strings or sqlglot expressions, rendered here in the
``duckdb`` dialect) and Arrow tables through :class:`Database`. Backend differences live in
:data:`CAPABILITIES`, never as ``if engine == ...`` in the stages. Tables the hub owns carry the
``hub_`` prefix; their DDL lives in ``hub/store/ddl/*.sql``, applied in file-name order (each stage
owns its file), and is idempotent.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from hub.errors import StoreError
from hub.paths import hub_home

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

DDL_DIR = Path(__file__).parent / "ddl"


@dataclass(frozen=True)
class Capabilities:
    sqlglot_dialect: str = "duckdb"
    supports_transactions: bool = True
    supports_arrow: bool = True


CAPABILITIES = Capabilities()

# DuckDB allows one read-write process per file; another process gets this IOException at connect.
_LOCK_ERROR = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (.*?) \(PID (\d+)\)")

#: DuckDB's memory for the store (its buffer manager: hash tables, sorts, cached blocks), in MB
#: (``HUB_STORE_MEMORY_MB``); past it DuckDB spills to ``HUB_HOME/tmp`` (docs/limits.md). DuckDB's own
#: default is 80 % of the machine's memory, which let one upload grow the server to gigabytes.
STORE_MEMORY_MB = 1024


def store_memory_mb() -> int:
    """The store's memory limit in force: ``HUB_STORE_MEMORY_MB`` when it is a whole number of at
    least 64, else :data:`STORE_MEMORY_MB`."""
    raw = os.environ.get("HUB_STORE_MEMORY_MB", "").strip()
    try:
        mb = int(raw) if raw else STORE_MEMORY_MB
    except ValueError:
        return STORE_MEMORY_MB
    return mb if mb >= 64 else STORE_MEMORY_MB


def store_config(path: Path) -> dict[str, Any]:
    """The settings a store file is opened with: its memory limit and where it spills (``tmp`` beside
    it, under HUB_HOME), created 0700 since spilled blocks hold ID numbers."""
    spill = path.parent / "tmp"
    spill.mkdir(mode=0o700, parents=True, exist_ok=True)
    return {"memory_limit": f"{store_memory_mb()}MB", "temp_directory": str(spill)}


@dataclass
class StoreLocked(StoreError):
    """Another process (``hub serve``, or a long CLI command) holds the store. Not the user's
    input: the CLI exits 70 (see ``exit_code``) after waiting or going through the server."""

    code: str = "store-locked"
    exit_code: int = 70

    @property
    def holder_pid(self) -> int | None:
        pid = self.details.get("pid")
        return int(pid) if pid else None


def is_lock_error(exc: BaseException) -> bool:
    """The one place that recognises DuckDB's "another process holds the file" error."""
    return isinstance(exc, duckdb.Error) and bool(_LOCK_ERROR.search(str(exc)))


def _locked(exc: BaseException, path: Path | str | None) -> StoreLocked:
    found = _LOCK_HOLDER.search(str(exc))
    details: dict[str, Any] = {"pid": int(found.group(2)), "program": found.group(1)} if found else {}
    who = f"进程 {details['pid']}" if details else "另一个进程"
    return StoreLocked(
        f"数据库正被{who}使用（通常是 hub serve 或另一个 hub 命令）。",
        file=str(path) if path is not None else None,
        hint="稍后再试；或在运行 hub serve 的机器上以同一用户执行命令，命令会交给服务执行。",
        details=details,
    )


class Database:
    """A DuckDB connection with the hub's tables. Thread-safe through a lock (DuckDB connections
    are not safe to share between threads without one)."""

    def __init__(
        self,
        path: Path | str | None,
        *,
        read_only: bool = False,
        threads: int | None = None,
        ddl: bool = True,
    ):
        self.path = None if path is None else Path(path)
        self.capabilities = CAPABILITIES
        self._lock = threading.RLock()
        # One unit of work at a time in this process (a CLI command run by the server, an upload job):
        # statements are serialised by ``_lock``; whole commands by this one (``exclusive()``).
        self._unit = threading.RLock()
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            config: dict[str, Any] = {} if self.path is None else store_config(self.path)
            if threads:
                config["threads"] = threads
            self.con = duckdb.connect(
                ":memory:" if self.path is None else str(self.path), read_only=read_only, config=config
            )
        except (duckdb.Error, OSError) as exc:
            if is_lock_error(exc):
                raise _locked(exc, path) from exc
            raise StoreError(f"无法打开数据库：{exc}", file=str(path)) from exc
        self._in_tx = False
        # DuckDB's own progress bar would write into the CLI's output (and --json); the hub shows its own
        self.con.execute("SET enable_progress_bar = false")
        if ddl and not read_only:
            self.apply_ddl()

    # -- schema -------------------------------------------------------------------------------
    def apply_ddl(self) -> None:
        for ddl in sorted(DDL_DIR.glob("*.sql")):
            self.con.execute(ddl.read_text(encoding="utf-8"))

    # -- running SQL ----------------------------------------------------------------------------
    def render(self, query: str | exp.Expression) -> str:
        if isinstance(query, str):
            return query
        return query.sql(dialect=self.capabilities.sqlglot_dialect)

    def execute(
        self, query: str | exp.Expression, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> None:
        with self._lock:
            self.con.execute(self.render(query), params)

    def rows(
        self, query: str | exp.Expression, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[tuple[Any, ...]]:
        with self._lock:
            return self.con.execute(self.render(query), params).fetchall()

    def dicts(
        self, query: str | exp.Expression, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        with self._lock:
            cur = self.con.execute(self.render(query), params)
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

    def scalar(
        self, query: str | exp.Expression, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> Any:
        with self._lock:
            row = self.con.execute(self.render(query), params).fetchone()
        return None if row is None else row[0]

    def arrow(
        self, query: str | exp.Expression, params: Sequence[Any] | dict[str, Any] | None = None
    ) -> pa.Table:
        with self._lock:
            relation = self.con.sql(self.render(query), params=params)
            if hasattr(relation, "to_arrow_table"):
                return relation.to_arrow_table()
            return relation.arrow()  # duckdb < 1.4

    def df(self, query: str | exp.Expression, params: Sequence[Any] | dict[str, Any] | None = None) -> Any:
        with self._lock:
            return self.con.execute(self.render(query), params).df()

    def register(self, name: str, table: Any) -> None:
        """Expose an Arrow table or pandas frame as a view ``name`` (zero-copy)."""
        with self._lock:
            self.con.register(name, table)

    def unregister(self, name: str) -> None:
        with self._lock, contextlib.suppress(duckdb.Error):
            self.con.unregister(name)

    def table_exists(self, name: str) -> bool:
        return bool(
            self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name])
        )

    def columns(self, name: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self.rows(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [name],
            )
        ]

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """All or nothing: an exception inside rolls the store back to where it was."""
        with self._lock:
            if self._in_tx:  # nested: the outer transaction decides
                yield self
                return
            self.con.execute("BEGIN TRANSACTION")
            self._in_tx = True
            try:
                yield self
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
            else:
                self.con.execute("COMMIT")
            finally:
                self._in_tx = False

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[Database]:
        """Hold the store for one whole unit of work (a command of the local admin channel, a job):
        other units of this process wait; single statements of other threads still run."""
        with self._unit:
            yield self

    def reader(self) -> Database:
        """A second connection to the same store, for work beside the unit in flight (the validation
        of an upload job's staged file, :meth:`hub.facade.Hub.stage`): its own temp tables, macros,
        registered views and lock, run by DuckDB concurrently with this one's statements. Close it
        after use."""
        other = object.__new__(Database)
        other.path, other.capabilities = self.path, self.capabilities
        other._lock, other._unit, other._in_tx = threading.RLock(), threading.RLock(), False
        with self._lock:
            other.con = self.con.cursor()
        other.con.execute("SET enable_progress_bar = false")
        return other

    def close(self) -> None:
        with self._lock:
            self.con.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def is_engine_error(exc: BaseException) -> bool:
        return isinstance(exc, duckdb.Error)


def open_store(home: Path | None = None, *, read_only: bool = False) -> Database:
    """Open (creating if needed) the store ``HUB_HOME/hub.duckdb``; :class:`StoreLocked` when
    another process holds it (the CLI then goes through the server or waits, see ``cli.py``)."""
    root = home or hub_home()
    path = root / "hub.duckdb"
    if read_only and not path.exists():
        return Database(None)
    return Database(path, read_only=read_only)
