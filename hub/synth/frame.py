"""What surrounds the data in a township sheet: title, meta lines, varied headers, 栏次, footers."""

from __future__ import annotations

import random
from collections.abc import Sequence

from hub.model import load_schema
from hub.synth.layout import SheetLayout

# Synonyms that name another role in the given ledger kind (经营场所 is a business's address).
EXCLUDED = {
    "person": {"经营场所", "经营地址", "成员身份证号", "成员身份证号码", "成员姓名", "户籍地址"},
    "member": {"经营场所", "经营地址", "户籍地址"},
    "business": {"现住址", "住址", "家庭住址", "现居住地址", "居住地址", "户籍地址", "详细地址"},
}


# Spellings the model reads that this generator does not write: the 公安 export spellings of an
# address came into the model with report admission's vocabulary (2026-12). The generator's choices
# are seeded; writing them would change every sample ledger and its truth.json.
NOT_WRITTEN = {"居住处所", "居住场所", "住所地", "居住地"}


def pick_header(field: str, rng: random.Random, role: str = "person") -> str:
    """A spelling of the field's header from schemas/fields.yaml, brackets half- or full-width."""
    spec = load_schema().fields[field]
    excluded = EXCLUDED.get(role, set()) | NOT_WRITTEN
    options = [s for s in (spec.label, *spec.synonyms) if s not in excluded]
    if field == "address" and role == "business":
        options = [s for s in spec.synonyms if s in ("经营场所", "经营地址", "地址")]
    text = rng.choice(options)
    if rng.random() < 0.5:
        text = text.replace("(", "（").replace(")", "）")
    else:
        text = text.replace("（", "(").replace("）", ")")
    return text


def title_block(layout: SheetLayout, title: str, township: str, rng: random.Random, form_no: str) -> None:
    layout.line(title)
    style = rng.randrange(3)
    unit = f"填报单位：{township}人民政府（盖章）"
    when = f"填报日期：2026年11月{rng.randrange(1, 25)}日"
    if style == 0:
        row: list[str | None] = [None] * layout.width
        row[0], row[layout.width // 2], row[-1] = unit, when, "单位：人、元"
        layout.add(row)
    elif style == 1:
        layout.line(unit, merge=False)
        row2: list[str | None] = [None] * layout.width
        row2[0], row2[-1] = when, f"表号：{form_no}"
        layout.add(row2)
    else:
        layout.line(f"{unit}　　{when}　　单位：人、元　　表号：{form_no}")


def lanci_row(layout: SheetLayout, serial_first: bool) -> int:
    """The 栏次 row: ``甲 乙 1 2 3 …`` or ``栏次 1 2 …``."""
    if serial_first:
        cells = ["甲", "乙", *[str(i) for i in range(1, layout.width - 1)]]
    else:
        cells = ["栏次", *[str(i) for i in range(1, layout.width)]]
    return layout.add(cells)


def footer_block(layout: SheetLayout, rng: random.Random, blank_first: bool = True) -> None:
    if blank_first:
        layout.add()
    layout.line(
        "填表说明：1.身份证号码请填写18位，单元格设置为文本格式；2.日期按“2024-05-01”格式填写。", merge=False
    )
    clerk, checker, boss = rng.sample(("王芳", "李明", "陈建国", "赵丽", "周强", "吴秀英"), 3)
    layout.line(f"制表人：{clerk}　　审核人：{checker}　　负责人：{boss}", merge=False)
    if rng.random() < 0.5:
        layout.line("报出日期：2026年11月25日", merge=False)


def serial(
    style: str, village_no: int, in_village: int, household: int, member: int, overall: int
) -> str | int:
    """序号 as written: plain (``overall``), restarting per village, or ``household-member``."""
    if style == "household":
        return f"{household}-{member}"
    if style == "restart":
        return in_village
    return overall


def paths_with_groups(
    leaves: Sequence[tuple[str | None, str]], groups: dict[str, tuple[str, ...]]
) -> list[tuple[str, ...]]:
    """Header paths: each (field, leaf text) gets the group prefix ``groups[field]`` (if any)."""
    return [(*groups.get(f or "", ()), text) for f, text in leaves]
