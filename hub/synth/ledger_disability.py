"""Disability ledger (残疾人台账) writer."""

from __future__ import annotations

from pathlib import Path

from hub.synth import cells as C
from hub.synth import names
from hub.synth.assemble import SERIAL, DataRow, add_duplicates, emit_section, group_by, subtotal
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
from hub.synth.truth import Defects, Truth, expected, plan_defects


def homophone_person(county: County, township_code: str) -> str | None:
    """The disabled person whose name this ledger spells with a homophone (张伟 → 张玮)."""
    for pid in sorted(county.disabilities):
        p = county.persons[pid]
        if p.township_code == township_code and pid not in county.dual and names.homophone_variant(p.name):
            return pid
    return None


def write_disability(
    county: County,
    township_code: str,
    path: Path,
    defects: Defects | None = None,
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
) -> tuple[Path, Truth]:
    """Render the township's 残疾人台账: one row per disabled person, 序号 restarting per village."""
    defects = defects or Defects()
    rng = rng_for(defects, township_code, "disability")
    fmt = "xlsx" if path.suffix == ".xlsx" else "csv"
    town = county.township(township_code)
    people = sorted(
        (
            county.persons[pid]
            for pid in county.disabilities
            if county.persons[pid].township_code == township_code
        ),
        key=lambda p: (p.village_code, p.household_no),
    )
    typo = homophone_person(county, township_code)
    skip = {i for i, p in enumerate(people) if p.id_number == typo}
    everyone = [i for i in range(len(people)) if i not in skip]
    eligible = eligible_ids([p.id_number for p in people], skip)
    eligible.pop("id-date-invalid")
    for code in (
        "required-missing",
        "code-unknown",
        "cert-mismatch",
        "sex-id-mismatch",
        "village-unknown",
        "phone-invalid",
    ):
        eligible[code] = everyone
    plan = plan_defects(eligible, len(people), defects, rng)

    def noisy() -> bool:
        return rng.random() < defects.noise

    rows: list[DataRow] = []
    for i, p in enumerate(people):
        d = plan.get(i)
        dis = county.disabilities[p.id_number]
        v = county.village(p.village_code)
        name = names.homophone_variant(p.name) if p.id_number == typo else C.name_clean(p.name, rng, noisy())
        cert: C.Cell = dis.cert if not noisy() or dis.cert[17] != "X" else dis.cert.replace("X", "x")
        if d == "cert-mismatch":
            cert = dis.cert[:19] + rng.choice([lv for lv in "1234" if lv != dis.level])
        elif d and d.startswith("id-"):
            cert = None  # the certificate would repeat the broken ID; leave it out
        values: dict[str, C.Cell] = {
            "village": rng.choice(UNKNOWN_VILLAGES)
            if d == "village-unknown"
            else C.village_cell(v.name, v.code, v.kind, rng, noisy()),
            "name": name,
            "sex": C.sex_cell(p.sex, rng, noisy(), wrong=d == "sex-id-mismatch"),
            "id_number": id_value(p.id_number, d, rng, noisy(), fmt),
            "disability_cert": cert,
            "disability_category": C.category_cell(dis.category, rng, noisy()),
            "disability_level": C.level_cell(dis.level, rng, noisy()),
            "phone": C.phone_defect(p.phone, rng)
            if d == "phone-invalid"
            else C.phone_cell(p.phone, rng, noisy()),
            "address": p.address,
            "remark": None,
        }
        field = {
            "required-missing": "disability_level",
            "code-unknown": "disability_category",
            "cert-mismatch": "disability_cert",
            "sex-id-mismatch": "sex",
            "village-unknown": "village",
            "phone-invalid": "phone",
        }.get(d or "", "id_number")
        if d == "required-missing":
            values["disability_level"] = rng.choice((None, "", None))
        elif d == "code-unknown":
            values["disability_category"] = rng.choice(C.UNKNOWN_CODES["disability_category"])
        rows.append(
            DataRow(
                values,
                p.id_number,
                name,
                [expected(d, field)] if d else [],
                p.village_code,
                p.household_no,
                note=f"同音字：{p.name}→{name}" if p.id_number == typo else None,
            )
        )
    rows = add_duplicates(rows, defects.duplicates, rng, set(county.dual) | {typo or ""})

    columns = [
        SERIAL,
        "village",
        "name",
        "sex",
        "id_number",
        "disability_cert",
        "disability_category",
        "disability_level",
        "phone",
        "address",
        "remark",
    ]
    paths = [("序号",) if c == SERIAL else (pick_header(c, rng),) for c in columns]
    truth = Truth(path.name, "disability", township_code)
    lay = _framed("残疾人", f"{town.name}持证残疾人基本信息台账", town.name, columns, paths, rng)
    for vcode, vrows in group_by(rows, lambda r: r.village):
        emit_section(lay, columns, vrows, truth, "restart")
        subtotal(lay, f"{county.village(vcode).name}小计", columns, len(vrows))
    subtotal(lay, "总计", columns, len(rows))
    footer_block(lay, rng)
    _write(path, [lay], encoding, delimiter)
    fix_csv_sheet(path, truth)
    return path, truth
