"""Benchmark: validate_sheet over 1,000,000 rows × 12 columns with ~3% defects.

Run: ``.venv/bin/python benchmarks/bench_validate.py --rows 200000`` (default 1,000,000). Prints wall
seconds, the process CPU seconds spent in validate_sheet (robust when other jobs share the cores) and
peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hub.ingest.types import Column, StagedSheet
from hub.model import load_schema
from hub.standards.ids import CHECK_CHARS, WEIGHTS
from hub.store.db import Database
from hub.validate import validate_sheet

FIELDS = [
    ("id_number", "身份证号"),
    ("name", "姓名"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("ethnicity", "民族"),
    ("marital_status", "婚姻状况"),
    ("village", "所属村"),
    ("address", "现住址"),
    ("phone", "联系电话"),
    ("person_status", "人员状态"),
    ("household_no", "户编号"),
    ("remark", "备注"),
]


def _defects(rng: np.random.Generator, values: np.ndarray, bad: str) -> pa.Array:
    mask = rng.random(len(values)) < 0.03
    out = values.astype(object)
    out[mask] = bad
    return pa.array(out, pa.string())


def make_table(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    region = rng.choice(np.array([410102, 110105, 360426, 440524]), n)
    days = rng.integers(0, 365 * 90, n)
    birth = np.datetime64("1930-01-01") + days.astype("timedelta64[D]")
    ymd = np.char.replace(np.datetime_as_string(birth, unit="D").astype(str), "-", "")
    seq = rng.integers(0, 1000, n)
    first17 = np.char.add(np.char.add(region.astype(str), ymd), np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer(first17.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - 48
    check = np.array(list(CHECK_CHARS))[(digits * np.array(WEIGHTS)).sum(axis=1) % 11]
    ids = np.char.add(first17, check)
    sex = np.where(seq % 2 == 1, "男", "女")
    names = np.char.add(
        rng.choice(np.array(list("张王李赵刘陈杨黄")), n),
        rng.choice(np.array(["伟", "芳", "娜", "敏（已故）", "强"]), n),
    )
    cols = {
        "id_number": _defects(rng, ids, "4.10102E+17"),
        "name": pa.array(names.astype(object), pa.string()),
        "sex": _defects(rng, sex, "未"),
        "birth_date": _defects(rng, np.datetime_as_string(birth, unit="D").astype(str), "89.7.1"),
        "ethnicity": _defects(rng, rng.choice(np.array(["汉", "汉族", "01", "回族"]), n), "1"),
        "marital_status": pa.array(
            rng.choice(np.array(["已婚", "未婚", "20"]), n).astype(object), pa.string()
        ),
        "village": _defects(rng, rng.choice(np.array(["东风村", "南街社区", "410102001201"]), n), "不存在村"),
        "address": pa.array(
            np.char.add("东风村", (np.arange(n) % 500).astype(str)).astype(object), pa.string()
        ),
        "phone": _defects(
            rng, np.char.add("138", np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8)), "12345"
        ),
        "person_status": pa.array(rng.choice(np.array(["正常", "健在", "1"]), n).astype(object), pa.string()),
        "household_no": pa.array(
            np.char.zfill((np.arange(n) // 3).astype(str), 8).astype(object), pa.string()
        ),
        "remark": pa.nulls(n, pa.string()),
    }
    return pa.table(
        {"_sheet": pa.array(["人口"] * n), "_row": pa.array(np.arange(n) + 3, pa.int64()), **cols}
    )


def main(n: int = 1_000_000) -> None:
    schema = load_schema()
    db = Database(None)
    db.execute(
        "INSERT INTO hub_divisions VALUES ('410102001201', '东风村', 'village', '410102001', '村'), "
        "('410102001001', '南街社区', 'village', '410102001', '社区')"
    )
    table = make_table(n)
    columns = [Column(i + 1, h, f) for i, (f, h) in enumerate(FIELDS)]
    sheet = StagedSheet("人口", "population", "410102001", columns, table)
    t0, c0 = time.perf_counter(), time.process_time()
    v = validate_sheet(db, sheet, schema, date(2026, 11, 25))
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    codes = pc.value_counts(v.findings.column("code")).to_pylist()
    print(f"rows={n} accepted={v.accepted} rejected={v.rejected} findings={v.findings.num_rows}")
    print(f"validate_sheet: {dt:.2f} s wall, {cpu:.2f} s CPU, peak RSS {rss:.0f} MiB")
    print(codes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    main(parser.parse_args().rows)
