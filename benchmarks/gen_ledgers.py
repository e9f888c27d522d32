"""Fast benchmark ledgers: vectorised (numpy/pyarrow), valid check digits, ~2% defects.

python benchmarks/gen_ledgers.py --persons 1000000 --townships 8 --out benchmarks/data/ --format csv
python benchmarks/gen_ledgers.py --persons 50000 --out benchmarks/data/ --format xlsx
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hub.synth.names import FEMALE_OLD, FEMALE_YOUNG, MALE_OLD, MALE_YOUNG, SURNAMES_COMMON  # noqa: E402
from hub.synth.population import generic_townships  # noqa: E402

COUNTY = "331099"
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
ID_CHECK = np.frombuffer(b"10X98765432", dtype="S1")
DEFECT_RATE = 0.02


def id_numbers(born: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Unique valid IDs: sequence = 2 × rank among same-day births + sex bit (odd 男)."""
    order = np.argsort(born, kind="stable")
    sorted_days = born[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_days)) + 1]
    run_start = np.repeat(first, np.diff(np.r_[first, len(born)]))
    rank = np.empty(len(born), dtype=np.int64)
    rank[order] = np.arange(len(born)) - run_start
    seq = (rank * 2 + male.astype(np.int64)) % 1000
    dates = np.datetime_as_string(born.astype("datetime64[D]"), unit="D").astype("U10")
    ymd = np.char.replace(dates, "-", "")
    body = np.char.add(np.char.add(COUNTY, ymd), np.char.zfill(seq.astype("U3"), 3)).astype("S17")
    digits = np.frombuffer(body.tobytes(), dtype=np.uint8).reshape(-1, 17).astype(np.int64) - 48
    check = ID_CHECK[(digits @ ID_WEIGHTS) % 11]
    return np.char.add(body, check).astype("U18")


def people(n: int, n_towns: int, seed: int) -> tuple[pa.Table, list[tuple[str, str]]]:
    rng = np.random.default_rng(seed)
    towns = generic_townships(COUNTY, n_towns)
    villages = [v for t in towns for v in t.villages]
    male = rng.random(n) < 0.49
    age = np.where(rng.random(n) < 0.35, rng.integers(65, 106, n), rng.integers(1, 65, n))
    born = np.datetime64("2026-11-30") - (age * 365.25 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    born = np.minimum(born, np.datetime64("2024-12-31"))
    ids = id_numbers(born.astype("datetime64[D]").astype(np.int64), male, rng)
    old = age >= 62
    given = np.where(
        male,
        np.where(
            old,
            np.array(MALE_OLD)[rng.integers(0, len(MALE_OLD), n)],
            np.array(MALE_YOUNG)[rng.integers(0, len(MALE_YOUNG), n)],
        ),
        np.where(
            old,
            np.array(FEMALE_OLD)[rng.integers(0, len(FEMALE_OLD), n)],
            np.array(FEMALE_YOUNG)[rng.integers(0, len(FEMALE_YOUNG), n)],
        ),
    )
    surnames = np.array(list(SURNAMES_COMMON))[
        np.minimum(rng.exponential(20, n).astype(int), len(SURNAMES_COMMON) - 1)
    ]
    vidx = np.sort(rng.integers(0, len(villages), n))
    vnames = np.array([v.name for v in villages])[vidx]
    phone = np.char.add("13", np.char.zfill(rng.integers(0, 10**9, n).astype("U9"), 9))
    # ~2% defects: wrong check character, sex against the ID, malformed phone (disjoint rows).
    kind = rng.choice(4, n, p=[1 - DEFECT_RATE, DEFECT_RATE / 2, DEFECT_RATE / 4, DEFECT_RATE / 4])
    bad_check = np.where(np.char.endswith(ids, "0"), "1", "0")
    ids_out = np.where(kind == 1, np.char.add(np.char.ljust(ids.astype("U17"), 17), bad_check), ids)
    sex = np.where(male ^ (kind == 2), "男", "女")
    phone = np.where(kind == 3, np.char.ljust(phone.astype("U10"), 10), phone)
    table = pa.table(
        {
            "序号": pa.array(np.arange(1, n + 1)),
            "姓名": pc.binary_join_element_wise(pa.array(surnames), pa.array(given), ""),
            "性别": pa.array(sex),
            "民族": pa.array(np.where(rng.random(n) < 0.95, "汉族", "畲族")),
            "出生日期": pa.array(np.datetime_as_string(born.astype("datetime64[D]"), unit="D")),
            "公民身份号码": pa.array(ids_out),
            "村（社区）": pa.array(vnames),
            "现住址": pc.binary_join_element_wise(
                pa.array(vnames),
                pa.array(rng.integers(1, 300, n).astype("U3")),
                pa.array(np.full(n, "号")),
                "",
            ),
            "联系电话": pa.array(phone),
            "婚姻状况": pa.array(np.where(age < 22, "未婚", np.where(age > 80, "丧偶", "已婚"))),
            "人员状态": pa.array(np.full(n, "正常")),
            "备注": pa.nulls(n, pa.string()),
        }
    )
    table = table.append_column("_town", pa.array(np.array([v.code[:9] for v in villages])[vidx]))
    divisions = (
        [(COUNTY, "示例县")] + [(t.code, t.name) for t in towns] + [(v.code, v.name) for v in villages]
    )
    return table, divisions


def write_csv(path: Path, title: str, table: pa.Table) -> None:
    with path.open("wb") as fh:
        fh.write((title + "\n").encode("utf-8"))
        pacsv.write_csv(table, fh, pacsv.WriteOptions(quoting_style="needed"))


def write_side_ledgers(out: Path, code: str, part: pa.Table, seed: int) -> None:
    """残疾人台账 (~6% of persons) and 低保 roster (~3% of persons, households of 3 consecutive rows)."""
    rng = np.random.default_rng(seed + int(code))
    n = part.num_rows
    ids = part["公民身份号码"].to_numpy(zero_copy_only=False).astype("U18")
    pick = np.flatnonzero(rng.random(n) < 0.06)
    cat = rng.integers(1, 8, len(pick)).astype("U1")
    lvl = rng.integers(1, 5, len(pick)).astype("U1")
    dis = pa.table(
        {
            "序号": pa.array(np.arange(1, len(pick) + 1)),
            "村（社区）": part["村（社区）"].take(pick),
            "姓名": part["姓名"].take(pick),
            "性别": part["性别"].take(pick),
            "身份证号": part["公民身份号码"].take(pick),
            "残疾人证号": pa.array(np.char.add(np.char.add(ids[pick], cat), lvl)),
            "残疾类别": pa.array(cat),
            "残疾等级": pa.array(np.char.add(lvl, "级")),
            "联系电话": part["联系电话"].take(pick),
        }
    )
    write_csv(out / f"disability_{code}.csv", f"{code}残疾人台账", dis)
    heads = np.flatnonzero((np.arange(n) % 3 == 0) & (rng.random(n) < 0.03))
    rows = np.minimum(np.repeat(heads, 3) + np.tile(np.arange(3), len(heads)), n - 1)
    head_of = np.repeat(heads, 3)
    rel = np.tile(np.array(["本人", "配偶", "子"]), len(heads))
    amount = np.repeat(rng.integers(50, 200, len(heads)) * 10, 3).astype(np.float64)
    dibao = pa.table(
        {
            "村（社区）": part["村（社区）"].take(rows),
            "户主姓名": part["姓名"].take(head_of),
            "户主身份证号": part["公民身份号码"].take(head_of),
            "保障类别": pa.array(np.where(rng.random(len(rows)) < 0.5, "城市", "农村")),
            "家庭人口": pa.array(np.full(len(rows), 3)),
            "保障人数": pa.array(np.full(len(rows), 3)),
            "姓名": part["姓名"].take(rows),
            "与户主关系": pa.array(rel),
            "身份证号": part["公民身份号码"].take(rows),
            "月保障金额（元）": pa.array(amount),
        }
    )
    write_csv(out / f"dibao_{code}.csv", f"{code}低保对象花名册", dibao)


def write_xlsx(path: Path, table: pa.Table) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("实有人口")
    ws.write_string(0, 0, "示例县实有人口台账")
    for c, name in enumerate(table.column_names):
        ws.write_string(1, c, name)
    columns = [col.to_pylist() for col in table.columns]
    for r in range(table.num_rows):
        for c, col in enumerate(columns):
            v = col[r]
            if v is None:
                continue
            if isinstance(v, str):
                ws.write_string(r + 2, c, v)
            else:
                ws.write_number(r + 2, c, v)
    wb.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--townships", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/data"))
    ap.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    t0 = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    table, divisions = people(args.persons, args.townships, args.seed)
    with (args.out / "divisions.csv").open("w", encoding="utf-8") as fh:
        fh.write("code,name\n" + "".join(f"{c},{n}\n" for c, n in divisions))
    if args.format == "xlsx":
        write_xlsx(args.out / f"population_{args.persons}.xlsx", table.drop(["_town"]))
    else:
        towns = pc.unique(table["_town"]).to_pylist()
        for code in towns:
            part = table.filter(pc.equal(table["_town"], code)).drop(["_town"])
            write_csv(args.out / f"population_{code}.csv", f"{code}实有人口台账", part)
            write_side_ledgers(args.out, code, part, args.seed)
    print(
        f"{args.persons} persons, {args.townships} townships → {args.out} in {time.perf_counter() - t0:.1f}s"
    )


if __name__ == "__main__":
    main()
