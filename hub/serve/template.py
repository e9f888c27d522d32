"""The 一张表 workbook: a township's canonical ledger, pre-filled from the store, to correct and
upload back (it is an ordinary ledger for the ingest stage). One sheet per ledger kind, headers
are the canonical labels, coded fields have drop-downs, ID columns are text, and 填表说明 explains.

Every text the hub puts into it (data, labels, the township's and villages' names) is a string cell,
never a formula (:func:`hub.safecell.set_text`): openpyxl would make ``=…`` a formula."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.ingest import CODES_SHEET
from hub.safecell import set_text

if TYPE_CHECKING:
    from hub.facade import Hub
    from hub.model import Schema

TEXT_TYPES = {"id_number", "uscc", "disability_cert", "phone", "date", "division", "text"}
SPARE_ROWS = 500  # empty rows below the data that keep the drop-downs and text format


@dataclass(frozen=True)
class SheetSpec:
    name: str
    fields: list[str]
    sql: str  # one parameter: the 9-digit township code; returns the fields (codes, not labels)
    entity: str | None = None  # the fields report admission added for this entity go on this sheet


_VILLAGE = "(SELECT name FROM hub_divisions d WHERE d.code = {col})"
SHEETS = [
    SheetSpec(
        "人口",
        [
            "village",
            "name",
            "id_number",
            "sex",
            "birth_date",
            "ethnicity",
            "marital_status",
            "address",
            "phone",
            "person_status",
            "death_date",
        ],
        f"SELECT {_VILLAGE.format(col='p.village_code')} AS village, name, id_number, sex, birth_date, ethnicity, "
        "marital_status, address, phone, CASE WHEN alive THEN '1' ELSE '2' END AS person_status, death_date{extra} "
        "FROM hub_person p{join} WHERE township_code = ? ORDER BY village_code, id_number",
        "person",
    ),
    SheetSpec(
        "残疾人",
        ["name", "id_number", "disability_category", "disability_level", "disability_cert"],
        "SELECT p.name, p.id_number, d.category AS disability_category, d.level AS disability_level, "
        "d.certificate AS disability_cert FROM hub_disability d JOIN hub_person p USING (person_code) "
        "WHERE p.township_code = ? ORDER BY p.village_code, p.id_number",
    ),
    SheetSpec(
        "低保",
        [
            "village",
            "head_name",
            "head_id_number",
            "dibao_category",
            "household_size",
            "covered_count",
            "dibao_amount",
            "dibao_start",
            "name",
            "id_number",
            "relation",
            "covered",
        ],
        f"SELECT {_VILLAGE.format(col='h.village_code')} AS village, hp.name AS head_name, "
        "hp.id_number AS head_id_number, h.dibao_category, h.household_size, h.covered_count, h.dibao_amount, "
        "h.dibao_start, p.name, p.id_number, m.relation, CASE WHEN m.covered THEN '1' WHEN NOT m.covered THEN '0' END "
        "AS covered FROM hub_household h JOIN hub_membership m USING (household_code) "
        "JOIN hub_person p ON p.person_code = m.person_code LEFT JOIN hub_person hp ON hp.person_code = h.head_person_code "
        "WHERE h.kind = '低保家庭' AND h.active AND h.township_code = ? ORDER BY h.village_code, h.household_code, m.seq",
    ),
    SheetSpec(
        "市场主体",
        ["uscc", "business_name", "operator_name", "address", "village", "phone"],
        f"SELECT uscc, name AS business_name, operator_name, address, {_VILLAGE.format(col='b.village_code')} AS village, "
        "phone{extra} FROM hub_business b{join} WHERE township_code = ? ORDER BY village_code, uscc",
        "business",
    ),
]


def sheets(schema: Schema) -> list[SheetSpec]:
    """The 一张表's sheets, the fields report admission added appended to the sheet of their entity
    (人口 for persons, 市场主体 for businesses) and pre-filled from ``hub_extra`` (hub.extension)."""
    from hub.extension import VIEW_ALIAS, template_fields

    out = []
    for spec in SHEETS:
        added = template_fields(schema, spec.entity) if spec.entity else []
        if added:
            view, alias, key = VIEW_ALIAS[str(spec.entity)]
            letter = "p" if spec.entity == "person" else "b"
            extra = "".join(f", {alias}.{f}" for f in added)
            join = f" LEFT JOIN {view} {alias} ON {alias}.{key} = {letter}.{key}"
        else:
            extra = join = ""
        sql = spec.sql.format(extra=extra, join=join) if spec.entity else spec.sql
        out.append(SheetSpec(spec.name, [*spec.fields, *added], sql, spec.entity))
    return out


def _cell(schema: Schema, field: str, value: Any) -> Any:
    if value is None:
        return None
    spec = schema.fields[field]
    if spec.type == "code" and spec.codelist:
        return schema.codelists[spec.codelist].label_of(str(value)) or str(value)
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m-%d")
    if spec.type in TEXT_TYPES:
        return str(value)
    return float(value) if spec.type == "money" else value


def build_template(hub: Hub, township_code: str, out: Path) -> Path:
    """Write the pre-filled 一张表 of ``township_code`` (9 digits or a name) to ``out``."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    code = (
        township_code
        if township_code.isdigit() and len(township_code) == 9
        else hub.resolve_township(township_code)
    )
    schema, db = hub.schema, hub.db
    town = (
        db.scalar(
            "SELECT name FROM hub_divisions WHERE code IN (?, ?) ORDER BY length(code) LIMIT 1",
            [code, code + "000"],
        )
        or code
    )
    villages = [
        r[0]
        for r in db.rows(
            "SELECT name FROM hub_divisions WHERE level = 'village' AND left(code, 9) = ? ORDER BY code",
            [code],
        )
    ]
    wb = Workbook()
    guide = wb.active
    guide.title = "填表说明"
    lists = wb.create_sheet(CODES_SHEET)
    ranges = _write_lists(lists, schema, villages)
    lists.sheet_state = "hidden"
    bold, head_fill = Font(name="宋体", bold=True), PatternFill("solid", fgColor="DDEBF7")
    counts = {}
    for spec in sheets(schema):
        ws = wb.create_sheet(spec.name, index=len(wb.sheetnames) - 1)
        rows = db.rows(spec.sql, [code])
        counts[spec.name] = len(rows)
        set_text(ws.cell(1, 1), f"{town}{spec.name}台账（一张表）")
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(spec.fields))
        ws.cell(1, 1).font = Font(name="宋体", bold=True, size=14)
        ws.cell(1, 1).alignment = Alignment(horizontal="center")
        last = 2 + len(rows) + SPARE_ROWS
        for j, field in enumerate(spec.fields, start=1):
            letter = get_column_letter(j)
            head = ws.cell(2, j)
            set_text(head, schema.fields[field].label)
            head.font, head.fill = bold, head_fill
            ws.column_dimensions[letter].width = (
                22 if schema.fields[field].type in ("id_number", "uscc", "disability_cert") else 14
            )
            text = schema.fields[field].type in TEXT_TYPES
            for i, row in enumerate(rows, start=3):
                cell = ws.cell(i, j)
                set_text(cell, _cell(schema, field, row[j - 1]))
                if text:
                    cell.number_format = "@"
            if text:
                for i in range(3 + len(rows), last + 1):
                    ws.cell(i, j).number_format = "@"
            source = (
                ranges.get(schema.fields[field].codelist or "")
                if schema.fields[field].type == "code"
                else None
            )
            if field == "village" and villages:
                source = ranges["__village"]
            if source:
                dv = DataValidation(
                    type="list",
                    formula1=source,
                    allow_blank=True,
                    showErrorMessage=True,
                    errorTitle="请从下拉列表选择",
                    error=f"“{schema.fields[field].label}”请从下拉列表中选择。",
                )
                dv.add(f"{letter}3:{letter}{last}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A3"
    from hub.exchange.feedback import FLOWBACK_SHEET, write_flowback_sheet

    counts[FLOWBACK_SHEET] = write_flowback_sheet(wb, hub, code)  # 回流 (docs/web.md)
    added = [f"{spec.label}（{spec.report}）" for spec in schema.extensions().values()]
    _write_guide(guide, town, code, counts, added)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _write_lists(ws: Any, schema: Schema, villages: list[str]) -> dict[str, str]:
    from openpyxl.utils import get_column_letter

    ranges: dict[str, str] = {}
    columns = [(name, [c.label for c in cl.codes]) for name, cl in schema.codelists.items()]
    columns.append(("__village", villages))
    for j, (name, labels) in enumerate(columns, start=1):
        letter = get_column_letter(j)
        set_text(ws.cell(1, j), name)
        for i, label in enumerate(labels, start=2):
            set_text(ws.cell(i, j), label)
        if labels:
            ranges[name] = f"{CODES_SHEET}!${letter}$2:${letter}${len(labels) + 1}"
    return ranges


def _write_guide(ws: Any, town: str, code: str, counts: dict[str, int], added: list[str]) -> None:
    from openpyxl.styles import Alignment, Font

    lines = [
        f"{town}（{code}）一张表 · 生成于 {datetime.now():%Y-%m-%d %H:%M}",
        "",
        "这是本乡镇（街道）在一表通 Hub 中的基础台账，已按库中数据预先填好。",
        "1. 直接在各工作表中修改、补充或删除行；改好后在 Hub 网页“上传台账”上传本文件即可，格式不用改。",
        "2. 性别、民族、婚姻状况、残疾类别、残疾等级、保障类别、与户主关系、人员状态、是否保障对象、村（社区）请从下拉列表选择。",
        "3. 公民身份号码、户主身份证号、残疾人证号、统一社会信用代码、联系电话已设为文本格式，请勿改成数字格式（否则会丢失位数）。",
        "4. 日期填写为 YYYY-MM-DD，例如 1950-03-08。金额只填数字，单位为元。",
        "5. 低保表每个家庭成员一行，户主信息在每个成员行都要填写（或写“同上”）。",
        "6. 人员去世请把“人员状态”改为“死亡”并填写死亡日期，不要直接删除该行。",
        "7. 上传后 Hub 逐格校验，问题会列出行号、列名和修改建议，并可下载标注了问题单元格的工作簿。",
        *(
            [
                f"8. 报表准入新增的栏目（在人口或市场主体表的最后几列）：{'、'.join(added)}。请按实际情况填写，填一次即可供相关报表使用。"
            ]
            if added
            else []
        ),
        "",
        "本文件含个人信息（低保、残疾属于敏感个人信息），请妥善保管，不要通过微信群等渠道传播。",
        "",
        "预填行数：" + "，".join(f"{k} {v} 行" for k, v in counts.items()),
    ]
    for i, line in enumerate(lines, start=1):
        cell = ws.cell(i, 1)
        set_text(cell, line)
        cell.alignment = Alignment(wrap_text=False)
        cell.font = Font(name="宋体", bold=(i == 1), size=14 if i == 1 else 11)
    ws.column_dimensions["A"].width = 120
