"""Which ledger a sheet is, from the canonical fields its columns map to (``schemas/ledgers.yaml``).

A kind is a candidate when every ``requires_any`` group has at least one present field. Candidates
are ranked by the signature fields present, counting first the *specific* ones (fields whose entity
is not a generic person/household/membership attribute: 低保, 残疾, business fields), then all of
them; the first kind in file order wins ties. Counting specific fields first keeps a disability or
低保 ledger that also lists many person columns (sex, birth date, address…) from being taken for a
population roster, and a population roster with 户主姓名/与户主关系 columns from being taken for 低保.

Rows carry facts, not a sheet kind: a specific field filled on only a few rows (残疾类别 in a
population roster with a 特殊人群 group, filled for the few disabled residents) is a fact of those
rows, not the sheet's kind, and counts as a generic field. "Few" is under :data:`FACT_SHARE` of the
data rows (under :data:`HOUSEHOLD_FACT_SHARE` for household-level fields, written once per household).
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.ingest.types import Column
from hub.model import Schema

GENERIC_ENTITIES = frozenset({"person", "household", "membership"})
FACT_SHARE = 0.5
HOUSEHOLD_FACT_SHARE = 0.15


def detect_kind(columns: Iterable[Column], schema: Schema) -> str | None:
    cols = [c for c in columns if c.field]
    present = {c.field for c in cols if c.field}
    sparse = {
        c.field
        for c in cols
        if c.field
        and c.filled < (HOUSEHOLD_FACT_SHARE if schema.fields[c.field].level == "household" else FACT_SHARE)
    }
    best: str | None = None
    best_score = (0, 0)
    for kind, spec in schema.ledgers.items():
        if not all(present.intersection(group) for group in spec.requires_any):
            continue
        hits = present.intersection(spec.signature)
        specific = sum(1 for f in hits if schema.fields[f].entity not in GENERIC_ENTITIES and f not in sparse)
        score = (specific, len(hits))
        if best is None or score > best_score:
            best, best_score = kind, score
    return best


def expected_headers(schema: Schema) -> str:
    """A short Chinese list of the headers the hub looks for, for error messages."""
    wanted: list[str] = []
    for spec in schema.ledgers.values():
        for group in spec.requires_any:
            for f in group:
                label = schema.fields[f].label
                if label not in wanted:
                    wanted.append(label)
    return "、".join(wanted)
