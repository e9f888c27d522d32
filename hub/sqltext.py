"""SQL text helpers for the stages that build SQL as text (importing no engine: start-up stays light)."""

from __future__ import annotations


def sql_literal(text: str | None) -> str:
    """A SQL string literal (quotes doubled), or NULL."""
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"
