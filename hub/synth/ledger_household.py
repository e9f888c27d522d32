"""低保 roster (household cells merged vertically or written 同上/〃) and business register writers."""

from __future__ import annotations

from pathlib import Path

from hub.synth import cells as C
from hub.synth.assemble import SERIAL, DataRow, add_duplicates, emit_section, subtotal
from hub.synth.frame import footer_block, pick_header
from hub.synth.ledger_person import (
    UNKNOWN_VILLAGES,
    _framed,
    _write,
    eligible_ids,
    fix_csv_sheet,
    id_value,
    rng_for,
)
from hub.synth.population import County
from hub.synth.truth import Defects, Expected, Truth, expected, plan_defects

HOUSEHOLD_COLS = (
    "village",
    "head_name",
    "head_id_number",
    "dibao_category",
    "household_size",
    "covered_count",
    "dibao_amount",
    "dibao_start",
)
MEMBER_COLS = ("name", "relation", "sex", "id_number", "birth_date", "covered")


def write_dibao(
    county: County,
    township_code: str,
    path: Path,
    defects: Defects | None = None,
    *,
    ditto: bool | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> tuple[Path, Truth]:
    """Render the township's 低保对象花名册: one row per member; household cells merged (xlsx) or
    written as 同上 / 〃 / empty (``ditto``, always for CSV). A household-level defect is expected on
    every member row (the hub fills the merged cell into each)."""
    defects = defects or Defects()
    rng = rng_for(defects, township_code, "dibao")
    fmt = "xlsx" if path.suffix == ".xlsx" else "csv"
    ditto = (rng.random() < 0.3 if ditto is None else ditto) or fmt == "csv"
    town = county.township(township_code)
    households = [d for d in county.dibao if county.persons[d.head_id].township_code == township_code]
    members = [(h, m) for h in households for m in h.members]
    skip = {i for i, (_, m) in enumerate(members) if m in county.dual}
    everyone = [i for i in range(len(members)) if i not in skip]
    eligible = eligible_ids([m for _, m in members], skip)
    eligible.pop("id-legacy-converted")
    for code in ("required-missing", "sex-id-mismatch", "birthdate-id-mismatch", "code-unknown"):
        eligible[code] = everyone
    first_rows = [
        i for i, (h, m) in enumerate(members) if m == h.head_id
    ]  # household defects: once per household
    eligible["number-invalid"] = first_rows
    eligible["date-invalid"] = first_rows
    plan = plan_defects(eligible, len(members), defects, rng)
    hh_defect = {
        members[i][0].household_no: plan[i]
        for i in first_rows
        if plan.get(i) in ("number-invalid", "date-invalid")
    }

    def noisy() -> bool:
        return rng.random() < defects.noise

    rows: list[DataRow] = []
    for i, (h, m) in enumerate(members):
        p = county.persons[m]
        head = county.persons[h.head_id]
        d = plan.get(i) if i not in first_rows or h.household_no not in hh_defect else None
        hd = hh_defect.get(h.household_no)
        v = county.village(head.village_code)
        name = (
            C.name_defect(d, p.name, False) if d == "required-missing" else C.name_clean(p.name, rng, noisy())
        )
        relation = "本人" if m == h.head_id else p.relation
        values: dict[str, C.Cell] = {
            "village": C.village_cell(v.name, v.code, v.kind, rng, False),
            "head_name": head.name,
            "head_id_number": head.id_number,
            "dibao_category": "城市" if h.category == "1" else "农村",
            "household_size": len(h.members),
            "covered_count": len(h.covered),
            "dibao_amount": C.money_defect(h.amount, rng)
            if hd == "number-invalid"
            else C.money_cell(h.amount, rng, False, fmt),
            "dibao_start": C.date_defect("date-invalid", h.start, rng)
            if hd == "date-invalid"
            else C.date_cell(h.start, rng, False, fmt),
            "name": name,
            "relation": rng.choice(C.UNKNOWN_CODES["relation"]) if d == "code-unknown" else relation,
            "sex": C.sex_cell(p.sex, rng, noisy(), wrong=d == "sex-id-mismatch"),
            "id_number": id_value(m, d, rng, noisy(), fmt),
            "birth_date": C.date_defect(d, p.birth_date, rng)
            if d == "birthdate-id-mismatch"
            else C.date_cell(p.birth_date, rng, noisy(), fmt),
            "covered": "是" if m in h.covered else "否",
        }
        codes: list[Expected] = []
        if d:
            codes.append(
                expected(
                    d,
                    {
                        "required-missing": "name",
                        "sex-id-mismatch": "sex",
                        "code-unknown": "relation",
                        "birthdate-id-mismatch": "birth_date",
                    }.get(d, "id_number"),
                )
            )
        if hd:
            codes.append(expected(hd, "dibao_amount" if hd == "number-invalid" else "dibao_start"))
        rows.append(DataRow(values, m, name, codes, v.code, h.household_no))

    group = rng.random() < 0.5
    hcols = ["village", "head_name", "head_id_number", "dibao_category", "household_size", "covered_count"]
    columns = [SERIAL, *hcols, *MEMBER_COLS, "dibao_amount", "dibao_start"]
    heads = {c: pick_header(c, rng, "member") for c in columns if c != SERIAL}
    if group:  # 户主情况 / 姓名, 身份证号 (role group of fields.yaml)
        heads["head_name"], heads["head_id_number"] = "姓名", rng.choice(("身份证号", "公民身份号码"))
    paths: list[tuple[str, ...]] = []
    for c in columns:
        if c == SERIAL:
            paths.append(("序号",))
        elif c in MEMBER_COLS:
            paths.append(("家庭成员情况", heads[c]))
        elif group and c in ("head_name", "head_id_number"):
            paths.append(("户主情况", heads[c]))
        else:
            paths.append((heads[c],))
    truth = Truth(path.name, "dibao", township_code)
    lay = _framed(
        "低保花名册", f"{town.name}2026年11月城乡最低生活保障对象花名册", town.name, columns, paths, rng
    )
    start = len(lay.rows) + 1
    emit_section(lay, columns, rows, truth, "plain")
    _household_cells(lay, columns, rows, start, ditto, rng)
    total = subtotal(lay, "合计", columns, len(rows))
    lay.rows[total - 1][1] = f"{len(households)}户"
    lay.rows[total - 1][columns.index("household_size")] = sum(len(h.members) for h in households)
    lay.rows[total - 1][columns.index("covered_count")] = sum(len(h.covered) for h in households)
    footer_block(lay, rng)
    _write(path, [lay], encoding, delimiter)
    fix_csv_sheet(path, truth)
    return path, truth


def _household_cells(lay, columns, rows, start, ditto, rng) -> None:  # type: ignore[no-untyped-def]
    """Household cells and 序号 (numbered per household) over each household's member rows."""
    hcols = [columns.index(c) for c in (SERIAL, *HOUSEHOLD_COLS)]
    r, hh_no = 0, 0
    while r < len(rows):
        end = r
        while end + 1 < len(rows) and rows[end + 1].household == rows[r].household:
            end += 1
        hh_no += 1
        lay.rows[start - 1 + r][0] = hh_no
        for k in range(r + 1, end + 1):
            for c in hcols:
                mark = "" if c == 0 else rng.choice(("同上", "〃", "同上", ""))
                lay.rows[start - 1 + k][c] = (mark or None) if ditto else None
        if not ditto and end > r:
            for c in hcols:
                lay.merges.append((start + r, c + 1, start + end, c + 1))
        r = end + 1


def write_business(
    county: County,
    township_code: str,
    path: Path,
    defects: Defects | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> tuple[Path, Truth]:
    """Render the township's 市场主体登记台账 (one row per business; key = true USCC)."""
    defects = defects or Defects()
    rng = rng_for(defects, township_code, "business")
    town = county.township(township_code)
    biz = [b for b in county.businesses if b.village_code.startswith(township_code)]
    everyone = list(range(len(biz)))
    eligible = {
        c: everyone
        for c in ("uscc-checksum", "uscc-format", "required-missing", "phone-invalid", "village-unknown")
    }
    plan = plan_defects(eligible, len(biz), defects, rng)
    rows: list[DataRow] = []
    for i, b in enumerate(biz):
        d = plan.get(i)
        v = county.village(b.village_code)
        noisy = rng.random() < defects.noise
        name = None if d == "required-missing" else b.name
        values: dict[str, C.Cell] = {
            "uscc": C.uscc_defect(d, b.uscc, rng)
            if d in ("uscc-checksum", "uscc-format")
            else C.uscc_clean(b.uscc, rng, noisy),
            "business_name": name,
            "operator_name": county.persons[b.operator_id].name,
            "address": b.address,
            "village": rng.choice(UNKNOWN_VILLAGES) if d == "village-unknown" else v.name,
            "phone": C.phone_defect(b.phone, rng)
            if d == "phone-invalid"
            else C.phone_cell(b.phone, rng, noisy),
            "remark": None,
        }
        field = {"required-missing": "business_name", "phone-invalid": "phone", "village-unknown": "village"}
        rows.append(
            DataRow(values, b.uscc, name, [expected(d, field.get(d, "uscc"))] if d else [], v.code, b.uscc)
        )
    rows = add_duplicates(rows, defects.duplicates, rng, set())
    columns = [SERIAL, "uscc", "business_name", "operator_name", "address", "village", "phone", "remark"]
    paths = [("序号",) if c == SERIAL else (pick_header(c, rng, "business"),) for c in columns]
    truth = Truth(path.name, "business", township_code)
    lay = _framed("市场主体", f"{town.name}市场主体登记台账", town.name, columns, paths, rng)
    emit_section(lay, columns, rows, truth, "plain")
    footer_block(lay, rng)
    _write(path, [lay], encoding, delimiter)
    fix_csv_sheet(path, truth)
    return path, truth
