"""Linkage configuration: thresholds and where the trained model lives (documented in docs/linkage.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hub.paths import hub_home

#: Person ledger kinds whose rows are linked (businesses are merged on the USCC alone).
PERSON_KINDS = ("population", "disability", "dibao")
#: ID errors a match may make good (the row is otherwise complete).
FILLABLE_CODES = ("id-format", "id-checksum", "id-precision-lost", "id-date-invalid", "required-missing")


def _env_int(name: str, default: int) -> int:
    try:
        return max(int(os.environ.get(name, default)), 2)
    except ValueError:
        return default


def _default_model_path() -> Path:
    return hub_home() / "linkage" / "model.json"


@dataclass(frozen=True)
class LinkageConfig:
    #: Pairs at or above this probability are merged automatically (and may fill a rejected row's ID).
    upper: float = 0.99
    #: Pairs between ``lower`` and ``upper`` go to review; below ``lower`` they are not kept.
    lower: float = 0.80
    #: Candidates listed on a rejected row that could not be filled.
    max_candidates: int = 3
    #: The trained Splink model (JSON); trained from the hub's own rows when missing.
    model_path: Path = field(default_factory=_default_model_path)
    #: Retrain even when a model exists.
    retrain: bool = False
    #: Minimum number of records before training (EM needs data); below it the saved or default model
    #: links, with a warning (docs/linkage.md).
    min_records_to_train: int = 200
    #: Of records equal on every linkage feature, this many are compared; the rest take their
    #: group's cluster without pairwise comparison (``HUB_LINK_MAX_IDENTICAL``; docs/linkage.md).
    max_identical: int = field(default_factory=lambda: _env_int("HUB_LINK_MAX_IDENTICAL", 20))
    #: A blocking block yielding more pairs than a block of this many records is not compared
    #: pairwise; a warning names it (``HUB_LINK_MAX_BLOCK``; docs/linkage.md).
    max_block: int = field(default_factory=lambda: _env_int("HUB_LINK_MAX_BLOCK", 2000))
