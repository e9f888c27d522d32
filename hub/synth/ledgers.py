"""Writers rendering a synthetic county's ground truth as the messy ledgers of messy-inputs.md.

Each writer takes the county, a 9-digit township code, an output path (``.xlsx``, or ``.csv`` /
``.tsv`` / ``.txt`` with an ``encoding``: utf-8, utf-8-sig, gbk, gb18030) and a seeded
:class:`~hub.synth.truth.Defects`, and returns ``(path, Truth)``: for every data row written, its row
number, the true key and the findings it must produce.
"""

from __future__ import annotations

import csv
from pathlib import Path

from hub.synth.ledger_disability import write_disability
from hub.synth.ledger_household import write_business, write_dibao
from hub.synth.ledger_person import write_population
from hub.synth.population import County

__all__ = ["write_business", "write_dibao", "write_disability", "write_divisions", "write_population"]


def write_divisions(county: County, path: Path) -> Path:
    """``code,name``: the county (6 digits), its townships (9) and villages (12)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["code", "name"])
        w.writerows(county.divisions())
    return path
