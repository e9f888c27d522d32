"""Population roster (实有人口台账) and disability ledger (残疾人台账) writers."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from hub.synth import cells as C
from hub.synth.assemble import SERIAL, SPACER, DataRow, add_duplicates, emit_section, group_by, subtotal
from hub.synth.frame import footer_block, lanci_row, pick_header, title_block
from hub.synth.layout import SheetLayout, write_csv, write_xlsx
from hub.synth.population import DEMO_DATE, County, Person
from hub.synth.population_extra import age_on
from hub.synth.truth import Defects, Truth, expected, plan_defects

UNKNOWN_VILLAGES = ("红旗村", "向阳社区", "幸福村", "光明村委会")
ID_DEFECTS = ("id-checksum", "id-date-invalid", "id-format", "id-precision-lost", "id-legacy-converted")


def rng_for(defects: Defects, township_code: str, kind: str) -> random.Random:
    return random.Random(f"{defects.seed}:{township_code}:{kind}")


def roster_persons(county: County, township_code: str) -> list[tuple[Person, str, str]]:
    """(person, village code, address) on the township's roster, 人户分离 persons included."""
    out = [
        (p, p.village_code, p.address) for p in county.persons.values() if p.township_code == township_code
    ]
    for pid, vcode in county.dual.items():
        if vcode.startswith(township_code):
            out.append(
                (
                    county.persons[pid],
                    vcode,
                    f"{county.name}{county.township(township_code).name}"
                    f"{county.village(vcode).name}租住{int(pid[-4:-1]) % 90 + 1}号",
                )
            )
    return sorted(out, key=lambda t: (t[1], t[0].household_no))


def eligible_ids(pids: list[str], skip: set[int]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for code in ID_DEFECTS:
        out[code] = [
            i
            for i, pid in enumerate(pids)
            if i not in skip
            and (code != "id-precision-lost" or pid[-1] != "X")
            and (code != "id-legacy-converted" or pid[6:8] == "19")
        ]
    return out


def id_value(pid: str, defect: str | None, rng: random.Random, noisy: bool, fmt: str) -> C.Cell:
    return C.id_defect(defect, pid, rng, fmt) if defect in ID_DEFECTS else C.id_clean(pid, rng, noisy)


def write_population(
    county: County,
    township_code: str,
    path: Path,
    defects: Defects | None = None,
    *,
    per_village: bool | None = None,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> tuple[Path, Truth]:
    """Render the township's 实有人口台账 to ``path`` (.xlsx, or .csv/.tsv/.txt in ``encoding``)."""
    defects = defects or Defects()
    rng = rng_for(defects, township_code, "population")
    fmt = "xlsx" if path.suffix == ".xlsx" else "csv"
    per_village = (rng.random() < 0.5 if per_village is None else per_village) and fmt == "xlsx"
    town = county.township(township_code)
    people = roster_persons(county, township_code)
    protected = set(county.dual)
    skip = {i for i, (p, _, _) in enumerate(people) if p.id_number in protected}
    everyone = [i for i in range(len(people)) if i not in skip]
    eligible = eligible_ids([p.id_number for p, _, _ in people], skip)
    for code in (
        "required-missing",
        "name-note-removed",
        "sex-id-mismatch",
        "birthdate-id-mismatch",
        "date-invalid",
        "code-unknown",
        "village-unknown",
        "phone-invalid",
    ):
        eligible[code] = everyone
    plan = plan_defects(eligible, len(people), defects, rng)

    def noisy() -> bool:
        return rng.random() < defects.noise

    rows: list[DataRow] = []
    for i, (p, vcode, address) in enumerate(people):
        d = plan.get(i)
        v = county.village(vcode)
        dead = p.status == "2"
        name = (
            C.name_defect(d, p.name, dead)
            if d in ("required-missing", "name-note-removed")
            else C.name_clean(p.name, rng, noisy())
        )
        unknown_field = rng.choice(("ethnicity", "marital_status"))
        values: dict[str, C.Cell] = {
            "name": name,
            "sex": C.sex_cell(p.sex, rng, noisy(), wrong=d == "sex-id-mismatch"),
            "ethnicity": C.code_cell(C.ETHNICITY_LABEL, p.ethnicity, rng, noisy()),
            "birth_date": C.date_defect(d, p.birth_date, rng)
            if d in ("date-invalid", "birthdate-id-mismatch")
            else C.date_cell(p.birth_date, rng, noisy(), fmt),
            "_age": age_on(p.birth_date, DEMO_DATE),
            "id_number": id_value(p.id_number, d, rng, noisy(), fmt),
            "marital_status": C.code_cell(C.MARITAL_LABEL, p.marital, rng, noisy()),
            "village": rng.choice(UNKNOWN_VILLAGES)
            if d == "village-unknown"
            else C.village_cell(v.name, v.code, v.kind, rng, noisy()),
            "household_no": p.household_no,
            "relation": p.relation,
            "address": address,
            "phone": C.phone_defect(p.phone, rng)
            if d == "phone-invalid"
            else C.phone_cell(p.phone, rng, noisy()),
            "person_status": rng.choice(("死亡", "已故", "去世"))
            if dead
            else rng.choice(("正常", "健在", "正常")),
            "death_date": C.date_cell(p.death_date, rng, noisy(), fmt) if p.death_date else None,
            "remark": "人户分离" if p.id_number in protected else None,
        }
        if d == "code-unknown":
            values[unknown_field] = rng.choice(C.UNKNOWN_CODES[unknown_field])
        field_of = {
            "required-missing": "name",
            "name-note-removed": "name",
            "sex-id-mismatch": "sex",
            "birthdate-id-mismatch": "birth_date",
            "date-invalid": "birth_date",
            "code-unknown": unknown_field,
            "village-unknown": "village",
            "phone-invalid": "phone",
        }
        codes = [expected(d, field_of.get(d, "id_number"))] if d else []
        rows.append(
            DataRow(
                values,
                p.id_number,
                name,
                codes,
                vcode,
                p.household_no,
                note="人户分离" if p.id_number in protected else None,
            )
        )
    rows = add_duplicates(rows, defects.duplicates, rng, protected)

    leaves = [
        "name",
        "sex",
        "ethnicity",
        "birth_date",
        "_age",
        "id_number",
        "marital_status",
        "village",
        "household_no",
        "relation",
        "address",
        "phone",
        "person_status",
        "death_date",
        "remark",
    ]
    if not per_village:
        leaves.insert(leaves.index("person_status"), SPACER)
    columns = [SERIAL, *leaves]
    basic = {"name", "sex", "ethnicity", "birth_date", "_age", "id_number", "marital_status"}
    text_of = {SERIAL: "序号", "_age": rng.choice(("年龄", "周岁")), SPACER: ""}
    heads = {c: text_of[c] if c in text_of else pick_header(c, rng) for c in columns}
    three = not per_village and rng.random() < 0.6
    paths = [
        (heads[c],)
        if c in (SERIAL, SPACER)
        else ((("人员信息",) if three else ()) + (("基本信息",) if c in basic else ()) + (heads[c],))
        for c in columns
    ]
    truth = Truth(path.name, "population", township_code)
    sheets: list[SheetLayout] = []
    sections = group_by(rows, lambda r: r.village)
    if per_village:
        for vcode, vrows in sections:
            vname = county.village(vcode).name
            lay = _framed(
                vname, f"{town.name}{vname}2026年实有人口信息采集表", town.name, columns, paths, rng
            )
            emit_section(lay, columns, vrows, truth, "household")
            subtotal(lay, "合计", columns, len(vrows))
            footer_block(lay, rng)
            sheets.append(lay)
    else:
        lay = _framed("实有人口", f"{town.name}2026年实有人口信息采集表", town.name, columns, paths, rng)
        subtotal(lay, "合计", columns, len(rows))
        subtotal(lay, "其中：女", columns, sum(1 for r in rows if r.key[16] in "02468"))
        for vcode, vrows in sections:
            emit_section(lay, columns, vrows, truth, "restart")
            subtotal(lay, f"{county.village(vcode).name}小计", columns, len(vrows))
            lay.add()
        footer_block(lay, rng, blank_first=False)
        sheets.append(lay)
        if fmt == "xlsx":
            hidden = truth.rows[len(truth.rows) // 3]
            lay.hidden_rows.add(hidden.row)
            hidden.hidden = True
    _write(path, sheets, encoding, delimiter)
    fix_csv_sheet(path, truth)
    return path, truth


def _framed(
    sheet: str,
    title: str,
    town: str,
    columns: list[str],
    paths: Sequence[tuple[str, ...]],
    rng: random.Random,
) -> SheetLayout:
    lay = SheetLayout(sheet, len(columns))
    title_block(lay, title, town, rng, "RK-01表")
    lay.header(paths)
    if rng.random() < 0.7:
        lanci_row(lay, serial_first=rng.random() < 0.5)
    lay.text_cols = {
        i + 1
        for i, c in enumerate(columns)
        if c in ("id_number", "phone", "disability_cert", "head_id_number", "uscc")
    }
    return lay


def _write(path: Path, sheets: list[SheetLayout], encoding: str, delimiter: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".xlsx":
        write_xlsx(path, sheets)
    else:
        assert len(sheets) == 1, "a CSV holds one sheet"
        write_csv(path, sheets[0], encoding, "\t" if path.suffix == ".tsv" else delimiter)


def fix_csv_sheet(path: Path, truth: Truth) -> None:
    """A CSV's only sheet is named after the file (its stem)."""
    if path.suffix != ".xlsx":
        for r in truth.rows:
            r.sheet = path.stem
