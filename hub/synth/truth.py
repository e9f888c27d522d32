"""Ground truth of a written ledger, and the seeded defect plan that produced it."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hub.model import load_schema

# Defect codes every writer understands (a writer ignores the ones that do not apply to its kind).
DEFECT_CODES = (
    "id-checksum",
    "id-precision-lost",
    "id-date-invalid",
    "id-format",
    "id-legacy-converted",
    "required-missing",
    "name-note-removed",
    "code-unknown",
    "village-unknown",
    "date-invalid",
    "phone-invalid",
    "sex-id-mismatch",
    "birthdate-id-mismatch",
    "number-invalid",
    "cert-mismatch",
    "uscc-checksum",
    "uscc-format",
)


@dataclass(frozen=True)
class Defects:
    """Seeded defect rates: ``rates[code]`` is the share of eligible data rows given that defect
    (at least one row when the rate is positive); ``noise`` the share of cells written in a harmless
    messy spelling (full-width digits, apostrophes, ``男性``, ``1级`` ...); ``duplicates`` the number
    of rows pasted twice."""

    rates: Mapping[str, float] = field(default_factory=dict)
    noise: float = 0.3
    duplicates: int = 0
    seed: int = 0

    @classmethod
    def clean(cls, seed: int = 0) -> Defects:
        return cls(rates={}, noise=0.0, duplicates=0, seed=seed)

    @classmethod
    def uniform(
        cls, rate: float = 0.02, *, noise: float = 0.3, duplicates: int = 1, seed: int = 0
    ) -> Defects:
        return cls(rates=dict.fromkeys(DEFECT_CODES, rate), noise=noise, duplicates=duplicates, seed=seed)


@dataclass(frozen=True)
class Expected:
    code: str
    severity: str
    field: str  # canonical field whose cell carries the defect ("" for whole-row findings)


@dataclass
class TruthRow:
    sheet: str
    row: int  # as Excel (or a text editor for CSV) shows it
    key: str  # true 18-digit ID (person ledgers) or true USCC (business register)
    name: str | None  # the name cell as written (business name for businesses)
    codes: list[Expected] = field(default_factory=list)
    hidden: bool = False
    note: str | None = None


@dataclass
class Truth:
    file: str
    kind: str  # a key of schemas/ledgers.yaml
    township_code: str
    rows: list[TruthRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def codes(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.rows:
            for e in r.codes:
                out[e.code] = out.get(e.code, 0) + 1
        return out


def expected(code: str, field_name: str) -> Expected:
    severity = load_schema().findings[code].severity  # KeyError for a code not in findings.yaml
    return Expected(code, severity, field_name)


def plan_defects(
    eligible: Mapping[str, Sequence[int]], n_rows: int, defects: Defects, rng: random.Random
) -> dict[int, str]:
    """Row index → the one defect it gets. Each row gets at most one defect."""
    taken: dict[int, str] = {}
    for code in DEFECT_CODES:
        rate = defects.rates.get(code, 0.0)
        pool = [i for i in eligible.get(code, ()) if i not in taken]
        if rate <= 0 or not pool:
            continue
        count = min(len(pool), max(1, round(rate * n_rows)))
        for i in rng.sample(pool, count):
            taken[i] = code
    return taken
