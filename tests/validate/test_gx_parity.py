"""The two compilations of the schema agree: SQL ``rule_failures`` == GX ``GxRun.failures``, rule by rule.

The batch is generated (seeded) from valid values and every kind of defect, written the messy ways
clerks write them. SQL and GX then check it independently: the SQL macros of ``hub.validate`` and
the custom expectations over ``hub.standards``.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from hub.ingest.types import Column, StagedSheet
from hub.model import Schema, load_schema
from hub.standards.ids import id_check_char
from hub.standards.uscc import uscc_check_char

TODAY = date(2026, 6, 1)
ROWS = 400


def _valid_id(rng: random.Random) -> str:
    born = date(1930, 1, 1).toordinal() + rng.randrange(90 * 365)
    first17 = "410102" + date.fromordinal(born).strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return first17 + id_check_char(first17)


def _messy(rng: random.Random, text: str) -> str:
    """The same value as a clerk might type it (all of which must clean to the same thing)."""
    choice = rng.randrange(5)
    if choice == 0:
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)  # full-width digits
    if choice == 1:
        return f" {text}\u200b"
    if choice == 2:
        return "'" + text.lower()
    return text


def _id_cell(rng: random.Random) -> str | None:
    good = _valid_id(rng)
    bad_check = good[:17] + next(c for c in "0123456789X" if c != good[17])
    defects = [
        good,
        good,
        good,
        _messy(rng, good),
        bad_check,  # id-checksum
        f"{good[:6]}{TODAY.year + 1}0101{good[14:]}",  # id-date-invalid (future)
        good[:10] + "0230" + good[14:17] + "1",  # id-date-invalid (30 Feb) or checksum
        "4.10102E+17",
        good + ".0",  # id-precision-lost
        good[:16],
        good + "1",
        "41010219900307123A",  # id-format
        "110105491231002",
        "110105491331002",  # legacy: converted / bad date
        "无",
        None,
    ]
    return rng.choice(defects)


def _uscc_cell(rng: random.Random) -> str | None:
    first17 = (
        rng.choice(["91", "92", "93", "N2"])
        + "410102"
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    good = first17 + uscc_check_char(first17)
    wrong = next(c for c in "0123456789A" if c != good[17])
    return rng.choice(
        [good, good, _messy(rng, good), good[:17] + wrong, good[:17], good[:17] + "O", "—", None]
    )


def _cell(rng: random.Random, kind: str) -> str | None:
    pools: dict[str, list[str | None]] = {
        "date": [
            "1990-03-07",
            "1990/3/7",
            "1990年3月7日",
            "19900307",
            "1990.3",
            "32874",
            "2023-02-29",
            "1990-13-01",
            "明年",
            "90-3-7",
            "不详",
            None,
        ],
        "phone": [
            "13800138000",
            "138 0013 8000",
            "+86 13800138000",
            "0371-66668888",
            "13800138000/0371-66668888",
            "1380013800",
            "12345678901",
            "电话",
            "暂无",
            None,
        ],
        "sex": ["男", "女", "男性", "1", "2", "M", "f", "男 ", "未知", "公", "3", None],
        "ethnicity": ["汉族", "汉", "01", "回族", "蒙古", "1", "火星族", None],
        "marital_status": ["已婚", "未婚", "10", "有配偶", "单身", None],
        "money": ["600", "1,200元", "600元/月", "3.2万", "1200.50", "六百", "12a", None],
        "integer": ["3", "4人", "2户", "3.5", "三", None],
        "text": ["张三", "李四（已故）", "王五", None, None],
    }
    return rng.choice(pools[kind])


def _sheet(schema: Schema, kind: str, fields: dict[str, str], rng: random.Random) -> StagedSheet:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {"_sheet": [kind] * ROWS, "_row": list(range(4, 4 + ROWS))}
    for name, gen in fields.items():
        if gen == "id":
            columns[name] = [_id_cell(rng) for _ in range(ROWS)]
        elif gen == "uscc":
            columns[name] = [_uscc_cell(rng) for _ in range(ROWS)]
        else:
            columns[name] = [_cell(rng, gen) for _ in range(ROWS)]
    cols = [Column(i, schema.fields[f].label, f) for i, f in enumerate(fields, start=1)]
    return StagedSheet(sheet=kind, kind=kind, township_code="410102001", columns=cols, data=pa.table(columns))


SHEETS: dict[str, dict[str, str]] = {
    "population": {
        "id_number": "id",
        "name": "text",
        "sex": "sex",
        "birth_date": "date",
        "ethnicity": "ethnicity",
        "marital_status": "marital_status",
        "phone": "phone",
        "death_date": "date",
    },
    "business": {"uscc": "uscc", "business_name": "text", "operator_name": "text", "phone": "phone"},
    "dibao": {
        "head_name": "text",
        "head_id_number": "id",
        "name": "text",
        "id_number": "id",
        "relation": "text",
        "household_size": "integer",
        "covered_count": "integer",
        "dibao_amount": "money",
        "dibao_start": "date",
    },
}


# its session fixture is built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("gx_parity")


@pytest.fixture(scope="session")  # not module: xdist interleaves modules on a worker, which rebuilt it
def compared() -> dict[str, tuple[dict[str, set[int]], dict[str, set[int]]]]:
    """kind → (SQL failures, GX failures) for one generated sheet of each kind."""
    from hub.store.db import DDL_DIR, Database
    from hub.validate import normalised_batch, rule_failures
    from hub.validate.gx_suite import run_suite

    class ValidateDb(Database):
        """Only the ingest/validate stage's tables: other stages' DDL is not under test here."""

        def apply_ddl(self) -> None:
            self.con.execute((DDL_DIR / "10_ingest.sql").read_text(encoding="utf-8"))

    schema = load_schema()
    out = {}
    with ValidateDb(None) as db:
        for i, (kind, fields) in enumerate(SHEETS.items()):
            sheet = _sheet(schema, kind, fields, random.Random(20260601 + i))
            sql = rule_failures(db, sheet, schema, TODAY)
            gx = run_suite(normalised_batch(db, sheet, schema, TODAY), schema, kind, today=TODAY).failures
            out[kind] = (sql, gx)
    return out


@pytest.mark.parametrize("kind", list(SHEETS))
def test_sql_and_gx_agree_rule_by_rule(compared: dict[str, Any], kind: str) -> None:
    sql, gx = compared[kind]
    assert gx, "the GX suite compiled no rule"
    assert set(gx) <= set(sql), f"rules GX checks that SQL does not: {sorted(set(gx) - set(sql))}"
    for rule in sorted(gx):
        only_sql, only_gx = sorted(sql[rule] - gx[rule]), sorted(gx[rule] - sql[rule])
        assert not only_sql and not only_gx, (
            f"{kind} {rule}: only SQL {only_sql[:10]}, only GX {only_gx[:10]}"
        )


def test_compared_rules_cover_every_family_and_really_fail(compared: dict[str, Any]) -> None:
    rules = {rule for _sql, gx in compared.values() for rule in gx}
    for family in (
        "id-",
        "uscc-",
        "date-invalid",
        "code-unknown",
        "phone-invalid",
        "required-missing",
        "number-invalid",
    ):
        assert any(r.startswith(family) for r in rules), family
    for rule in (
        "id-format",
        "id-checksum",
        "id-precision-lost",
        "id-date-invalid",
        "id-legacy-converted",
        "uscc-format",
        "uscc-checksum",
        "date-invalid",
        "code-unknown",
        "phone-invalid",
        "required-missing",
        "number-invalid",
    ):
        assert any(gx.get(rule) for _sql, gx in compared.values()), f"the generated batch never breaks {rule}"
