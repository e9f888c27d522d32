"""A Chinese synthetic linkage set with ground truth, written straight into the hub's tables
(``hub_submissions``, ``hub_columns``, ``hub_rows``, ``hub_findings`` as validation leaves them), so the
benchmark runs the hub's own linkage stage end to end.

Error model (rates per record unless said; seeded, reproducible):
* persons live in households of 1–5 (head first) in one village of a county (10 townships, villages of
  ~500 persons); each person is on the population roster (96 %), the disability ledger (8 %), the 低保
  roster (10 %, whole households), and registered again in another township (3 %, 人户分离/重复登记);
* ID copied from the household head (1.5 % of non-head rows; the row keeps its own stated sex/birth date,
  so validation reports ``sex-id-mismatch`` / ``birthdate-id-mismatch`` and puts the ID's values in);
* ID errors that reject the row: two adjacent digits transposed (1 %), a digit dropped (0.5 %), a
  digit mistyped (1 %) → ``id-checksum`` / ``id-format``; stored by Excel as a number (1.5 %,
  ``3.30727E+17`` or ``330727199001011200.0``) → ``id-precision-lost``; left empty (1 %) →
  ``required-missing``; a 15-digit legacy number (1 %, converted by validation: same ID);
* names: pinyin homophone of one character (3 %), traditional characters (2 %);
* birth date: day and month swapped (1 %, visible only where the ID is unusable), month precision (2 %);
* village written in a variant validation could not resolve (3 %: village NULL); phone on 60 % of
  records, a different phone on 10 % of those.
"""

from __future__ import annotations

import hashlib
import random
import sys
from datetime import date, datetime, timedelta
from typing import Any

from hub.synth.checkdigits import make_id
from hub.synth.names import given_name, homophone_variant, surname

COUNTY = "330727"
TRAD = str.maketrans("张刘陈杨黄赵吴周孙马朱郭罗郑谢宋许韩冯邓萧叶苏卢钟伟华国强丽芳兰凤贵",
                     "張劉陳楊黃趙吳周孫馬朱郭羅鄭謝宋許韓馮鄧蕭葉蘇盧鐘偉華國強麗芳蘭鳳貴")  # fmt: skip
KINDS = ("population", "disability", "dibao")
HEADER = "公民身份号码"


def _corrupt_id(rng: random.Random, pid: str) -> tuple[str | None, str]:
    """(raw text, finding code) of a rejected ID."""
    r = rng.random()
    if r < 0.2:
        i = rng.randrange(0, 16)
        if pid[i] == pid[i + 1]:
            i = (i + 2) % 16
        return pid[:i] + pid[i + 1] + pid[i] + pid[i + 2 :], "id-checksum"
    if r < 0.3:
        i = rng.randrange(6, 17)
        return pid[:i] + pid[i + 1 :], "id-format"
    if r < 0.5:
        i = rng.randrange(6, 17)
        return pid[:i] + str((int(pid[i]) + rng.randrange(1, 10)) % 10) + pid[i + 1 :], "id-checksum"
    if r < 0.8:
        if rng.random() < 0.5:
            return f"{pid[0]}.{pid[1:6]}E+17", "id-precision-lost"
        return f"{int(float(pid[:17] + '0')):d}.0", "id-precision-lost"
    return None, "required-missing"


def generate(n_persons: int, seed: int = 1) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    n_villages = max(20, n_persons // 500)
    villages = [f"{COUNTY}{100 + v % 10:03d}{200 + v // 10:03d}" for v in range(n_villages)]
    persons: list[dict[str, Any]] = []
    seqs: dict[tuple[date, bool], set[int]] = {}
    while len(persons) < n_persons:
        village, size = rng.choice(villages), rng.choice((1, 2, 2, 3, 3, 4, 5))
        head: dict[str, Any] | None = None
        for k in range(size):
            born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 33000))
            male = (k == 0) or rng.random() < 0.5
            # sequence numbers unique per birth date and sex: two persons never share an ID
            used = seqs.setdefault((born, male), set())
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            while seq in used:
                seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            used.add(seq)
            pid = make_id(COUNTY, born, seq)
            sn = head["name"][0] if head and k > 1 and rng.random() < 0.8 else surname(rng)
            p: dict[str, Any] = {"pid": len(persons), "id": pid, "name": sn + given_name(rng, male, born.year), "sex": "1" if male else "2",
                 "born": born, "village": village, "phone": f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}"
                 if rng.random() < 0.6 else None, "head": head}  # fmt: skip
            head = head or p
            persons.append(p)
    subs: dict[tuple[str, str], int] = {}
    rows: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    truth: list[dict[str, Any]] = []
    for p in persons[:n_persons]:
        kinds = [("population", p["village"])] if rng.random() < 0.96 else []
        if rng.random() < 0.08:
            kinds.append(("disability", p["village"]))
        if (p["head"] or p)["pid"] % 10 == 0:
            kinds.append(("dibao", p["village"]))
        if rng.random() < 0.03:
            kinds.append(("population", rng.choice(villages)))
        if not kinds:
            kinds.append(("population", p["village"]))
        for kind, village in kinds:
            sid = subs.setdefault((village[:9], kind), len(subs) + 1)
            row_no = len(rows) + 2
            rec = _record(rng, p, kind, village, sid, row_no, findings)
            rows.append(rec)
            truth.append(
                {
                    "submission_id": sid,
                    "sheet": "Sheet1",
                    "row_no": row_no,
                    "person": p["pid"],
                    "true_id": p["id"],
                }
            )
    t0 = datetime(2026, 1, 5, 9, 0)
    submissions = [{"submission_id": sid, "file_name": f"{tw}_{kind}.xlsx",
                    "sha256": hashlib.sha256(f"{tw}{kind}".encode()).hexdigest(), "township_code": tw, "kind": kind,
                    "submitted_at": t0 + timedelta(minutes=sid), "submitted_by": "bench", "rows": 0, "accepted": 0,
                    "rejected": 0, "errors": 0, "warnings": 0, "annotated_path": None}
                   for (tw, kind), sid in subs.items()]  # fmt: skip
    columns = [{"submission_id": s["submission_id"], "sheet": "Sheet1", "col_index": 1, "header": HEADER,
                "field": "id_number"} for s in submissions]  # fmt: skip
    return {"hub_submissions": submissions, "hub_columns": columns, "hub_rows": rows, "hub_findings": findings,
            "truth": truth}  # fmt: skip


def _record(rng: random.Random, p: dict[str, Any], kind: str, village: str, sid: int, row_no: int,
            findings: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    def finding(code: str, value: str | None, severity: str, field: str = "id_number") -> None:
        findings.append({"submission_id": sid, "sheet": "Sheet1", "row_no": row_no, "column_name": HEADER,
                         "field": field, "value": value, "code": code, "severity": severity, "message": code})  # fmt: skip

    name, born, sex, precision = p["name"], p["born"], p["sex"], "day"
    r = rng.random()
    if r < 0.03:
        name = homophone_variant(name) or name
    elif r < 0.05:
        name = name.translate(TRAD)
    id_number: str | None = p["id"]
    accepted = True
    r = rng.random()
    if p["head"] is not None and r < 0.015:  # copied from the household head
        id_number = p["head"]["id"]
        if p["head"]["sex"] != sex:
            finding("sex-id-mismatch", "女" if sex == "2" else "男", "warning", "sex")
        finding("birthdate-id-mismatch", born.isoformat(), "warning", "birth_date")
        sex, born = p["head"]["sex"], p["head"]["born"]
    elif r < 0.015 + 0.05:
        raw, code = _corrupt_id(rng, p["id"])
        id_number, accepted = None, False
        finding(code, raw, "error")
        if rng.random() < 0.2 and born.day <= 12 and born.day != born.month:
            born = date(born.year, born.day, born.month)
    elif r < 0.075:
        finding("id-legacy-converted", p["id"][:6] + p["id"][8:17], "warning")
    if rng.random() < 0.02:
        born, precision = born.replace(day=1), "month"
    phone = p["phone"]
    if phone and rng.random() < 0.1:
        phone = f"1{rng.randrange(3, 10)}{rng.randrange(10**9):09d}"
    return {"submission_id": sid, "sheet": "Sheet1", "row_no": row_no, "township_code": village[:9], "kind": kind,
            "accepted": accepted, "id_number": id_number, "id_type": "resident" if id_number else None, "name": name,
            "sex": sex, "birth_date": born, "birth_precision": precision,
            "village_code": None if rng.random() < 0.03 else village, "phone": phone}  # fmt: skip


def load(db: Any, data: dict[str, list[dict[str, Any]]]) -> None:
    """Insert the generated tables into a hub ``Database`` (truth goes to ``bench_truth``)."""
    import pyarrow as pa

    for table, records in data.items():
        name = "bench_truth" if table == "truth" else table
        db.register("__gen", pa.Table.from_pylist(records))
        if table == "truth":
            db.execute("CREATE OR REPLACE TABLE bench_truth AS SELECT * FROM __gen")
        else:
            cols = ", ".join(records[0].keys())
            db.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM __gen")
        db.unregister("__gen")


if __name__ == "__main__":
    data = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
    print({k: len(v) for k, v in data.items()})
