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
from hub.synth.unseen import Knobs, sources_of, write_ledger  # noqa: E402

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
        "real_headed": real_headed(out, county),
    }


# Ledgers headed the way real forms are: the headers of two public 民政 forms from the catalogue's
# *dev* split (tests/data/real_headers), spelt as a clerk would (numbering, spacing, line breaks,
# colons, group headers, bank and other columns the hub has no field for), about the same people.
REAL_HEADED = (
    # (source, township index, file name after the township's, knobs)
    (
        "mz_tekun_family",
        0,
        "特困人员家庭查询_2026年11月",
        Knobs(
            fmt="xlsx",
            numbering="（一）",
            spacing=1.0,
            breaks=0.3,
            colons=0.5,
            units=True,
            groups=True,
            seq=True,
            title=True,
            meta=True,
            total="last",
            footer=True,
        ),
    ),
    (
        "mz_gaoling_jintie",
        1,
        "高龄津贴发放花名册_2026年11月",
        Knobs(
            fmt="csv",
            numbering="1.",
            spacing=0.3,
            breaks=1.0,
            traditional=True,
            colons=1.0,
            extra=2,
            title=True,
            meta=True,
            total="first",
            lanci=True,
        ),
    ),
)


def real_headed(out: Path, county: Any) -> list[dict[str, Any]]:
    """Write the real-headed ledgers; their truth: every column's canonical field, rows to account for."""
    by_source = sources_of("dev")
    ledgers = []
    for source, township, stem, knobs in REAL_HEADED:
        ledger = write_ledger(
            out, by_source[source], knobs, seed=SEED, township=township, county=county, stem=stem, n_rows=12
        )
        ledger.path = Path(ledger.path).name
        ledgers.append(ledger.to_dict())
    return ledgers


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
