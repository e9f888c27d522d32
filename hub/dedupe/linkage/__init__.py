"""Entity resolution beyond the ID number (Splink on DuckDB): see docs/linkage.md."""

from __future__ import annotations

from hub.dedupe.linkage.config import LinkageConfig
from hub.dedupe.linkage.fill import FillResult, resolve_rejected
from hub.dedupe.linkage.misuse import detect_id_misuse, flag_id_misuse
from hub.dedupe.linkage.pipeline import LinkSummary, run_linkage
from hub.dedupe.linkage.review import decide, explain, pending_pairs

__all__ = [
    "FillResult", "LinkSummary", "LinkageConfig", "decide", "detect_id_misuse", "explain", "flag_id_misuse",
    "pending_pairs", "resolve_rejected", "run_linkage",
]  # fmt: skip
