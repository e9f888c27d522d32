"""One error tree with structured fields, turned into text only at the CLI or HTTP boundary.

Row-level problems in a clerk's data are *findings* (data, see :mod:`hub.validate`), never
exceptions. These errors are for what stops a whole operation: an unreadable file, a broken spec,
a store that cannot be opened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class HubError(Exception):
    """Base of every error the hub raises on purpose. ``message`` is Chinese, for the user."""

    message: str
    file: str | None = None
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    code: str = "hub-error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.sheet) if p)
        if self.row is not None:
            where += f" 第{self.row}行"
        if self.column:
            where += f" “{self.column}”列"
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "message": self.message}
        for key in ("file", "sheet", "row", "column", "hint"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.details:
            out["details"] = self.details
        return out


@dataclass
class IngestError(HubError):
    """A file that cannot be read as a ledger at all (corrupt, empty, no header, too large...)."""

    code: str = "ingest-error"


@dataclass
class SchemaError(HubError):
    """The canonical model in ``schemas/`` is malformed."""

    code: str = "schema-error"


@dataclass
class SpecError(HubError):
    """A mapping spec is malformed; ``problems`` lists every problem found at once."""

    code: str = "spec-error"
    problems: list[str] = field(default_factory=list)


@dataclass
class StoreError(HubError):
    code: str = "store-error"


@dataclass
class ExportError(HubError):
    code: str = "export-error"


@dataclass
class ValidationEngineError(HubError):
    """The validation machinery itself failed (e.g. a great-expectations expectation raised).

    Never a judgement on the clerk's data: it is a failure of the hub.
    """

    code: str = "validation-engine-error"


@dataclass
class ResourceError(HubError):
    """The hub could not finish for want of a resource it does not control: the disk is full, a
    file cannot be written. Not the user's input: the CLI exits 70."""

    code: str = "disk-full"
    exit_code: int = 70


@dataclass
class StoreMemoryError(ResourceError):
    """A step of the store needed more memory than its limit (``HUB_STORE_MEMORY_MB``) and could not
    spill: the operator raises the limit and runs the command again. The CLI exits 70."""

    code: str = "store-memory"
