"""Regenerate sample_data/: two townships of 示例县 (331099), their messy ledgers and truth.json.

.venv/bin/python benchmarks/gen_sample_data.py [--out sample_data] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hub.synth import (  # noqa: E402
    Defects,
    Truth,
    make_county,
    sample_townships,
    write_business,
    write_dibao,
    write_disability,
    write_divisions,
    write_population,
)

SEED = 2026
PERSONS = 440  # ~220 per township


def generate(out: Path, seed: int = SEED) -> dict[str, Any]:
    county = make_county(seed, PERSONS, sample_townships())
    write_divisions(county, out / "divisions.csv")
    truths: list[Truth] = []
    for n, town in enumerate(county.townships):
        t = town.name
        d = Defects.uniform(0.012, noise=0.3, duplicates=1, seed=seed + n)
        truths.append(
            write_population(county, town.code, out / f"{t}_人口台账_2026.xlsx", d, per_village=n == 0)[1]
        )
        truths.append(
            write_disability(
                county,
                town.code,
                out / f"{t}_残疾人台账_2026.xlsx",
                Defects.uniform(0.04, duplicates=1, seed=seed + n),
            )[1]
        )
        truths.append(
            write_dibao(
                county,
                town.code,
                out / f"{t}_低保花名册_2026年11月.xlsx",
                Defects.uniform(0.03, seed=seed + n),
                ditto=n == 1,
            )[1]
        )
        biz = out / (f"{t}_市场主体台账_2026.csv" if n == 1 else f"{t}_市场主体台账_2026.xlsx")
        truths.append(
            write_business(
                county, town.code, biz, Defects.uniform(0.04, duplicates=1, seed=seed + n), encoding="gbk"
            )[1]
        )
    return {
        "seed": seed,
        "county": {"code": county.code, "name": county.name},
        "files": {t.file: t.to_dict() for t in truths},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "sample_data")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    truth = generate(args.out, args.seed)
    (args.out / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    for name, t in truth["files"].items():
        codes: dict[str, int] = {}
        for r in t["rows"]:
            for e in r["codes"]:
                codes[e["code"]] = codes.get(e["code"], 0) + 1
        print(f"{name}: {len(t['rows'])} rows {codes}")


if __name__ == "__main__":
    main()
