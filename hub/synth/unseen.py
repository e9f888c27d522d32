"""Unseen ledgers: township workbooks whose columns use the REAL header spellings of the catalogue.

``tests/data/real_headers/catalogue.csv`` lists the headers of public forms and system exports, each
with the canonical field it means in that form (or ``-``) and a ``split`` (dev / heldout, whole sources).
This module renders each source as a realistic township ledger: the source's headers in its own order
(its ``-`` columns included, filled with plausible values), one data row per person, household member,
household or business of a seeded synthetic county (:mod:`hub.synth.population`), every value VALID
(valid GB 11643 IDs agreeing with sex and birth date, valid USCCs, codes from the code lists, 低保 and
disability facts consistent with the people). Seeded variation knobs change how the layout looks, never
what a column means: numbering prefixes, letter spacing, line breaks and colons in header cells,
traditional characters, units in brackets, group headers, shuffled order, extra ``-`` columns, title,
填报单位 meta line, 合计 / 栏次 rows, footers; xlsx or GBK CSV.

Ground truth for every file (:class:`UnseenLedger`): the field of each column (``None`` for ``-``) and
the number of data rows. Nothing here looks at how the hub recognises columns.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from hub.synth import cells as C
from hub.synth import names
from hub.synth.layout import SheetLayout, write_xlsx
from hub.synth.population import (
    DEMO_DATE,
    Business,
    County,
    Dibao,
    Household,
    Person,
    Township,
    Village,
    make_county,
    sample_townships,
)
from hub.synth.population_extra import age_on

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "tests" / "data" / "real_headers" / "catalogue.csv"
DIVISIONS = ROOT / "sample_data" / "divisions.csv"
NUMBERING = ("none", "S2.", "1.", "（一）")
FORMATS = ("xlsx", "csv")
PROVINCE, CITY = "浙江省", "金华市"
DISABILITY_FIELDS = {"disability_category", "disability_level", "disability_cert"}
DIBAO_FIELDS = {"dibao_category", "covered_count", "covered", "dibao_amount", "dibao_start"}
BUSINESS_FIELDS = {"uscc", "reg_no", "business_name", "operator_name"}
NEUTRAL_GROUPS = ("基本信息", "基本情况", "其他信息", "补充信息")
EXTRA_COLUMNS = ("年龄", "文化程度", "政治面貌", "银行账号", "开户银行", "健康状况", "就业状况", "劳动能力")


# -- the catalogue ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueRow:
    source_id: str
    split: str
    form: str
    header: str  # as in the catalogue: group/leaf, a real line break where the file has ``\n``
    field: str | None  # None for ``-``

    @property
    def path(self) -> tuple[str, ...]:
        """Group cells and the leaf; ``\\/`` in the catalogue is a slash of the header's own."""
        return tuple(p.replace("\\/", "/") for p in re.split(r"(?<!\\)/", self.header))


def load_catalogue(path: Path = CATALOGUE) -> list[CatalogueRow]:
    with path.open(encoding="utf-8", newline="") as fh:
        return [
            CatalogueRow(
                r["source_id"],
                r["split"],
                r["form"],
                r["header"].replace("\\n", "\n"),
                None if r["field"] == "-" else r["field"],
            )
            for r in csv.DictReader(fh)
        ]


def sources_of(split: str, catalogue: Sequence[CatalogueRow] | None = None) -> dict[str, list[CatalogueRow]]:
    """Catalogue rows of ``split`` (dev / heldout / all) by source, each in the source's own order."""
    out: dict[str, list[CatalogueRow]] = {}
    for row in catalogue if catalogue is not None else load_catalogue():
        if split in ("all", row.split):
            out.setdefault(row.source_id, []).append(row)
    return out


# -- the knobs -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Knobs:
    """How a ledger looks. Every knob keeps what each column means."""

    fmt: str = "xlsx"  # xlsx | csv (GBK)
    numbering: str = "none"  # one of NUMBERING; headers already numbered keep theirs
    spacing: float = 0.0  # share of short headers written letter-spaced (年　龄)
    breaks: float = 0.0  # share of long headers with a line break inside the cell
    traditional: bool = False  # opencc s2t on every header cell
    colons: float = 0.0  # share of headers with a trailing colon
    units: bool = False  # （元）/（人）/（平方米） after amounts, counts and areas without a bracket
    groups: bool = False  # a neutral group header over runs of columns (two-level merged header)
    shuffle: bool = False  # column order shuffled (a source's own groups stay together)
    extra: int = 0  # extra ``-`` columns (年龄, 文化程度, 银行账号 …)
    seq: bool = False  # a 序号 column first
    title: bool = False
    meta: bool = False  # 填报单位：XX镇人民政府（盖章）
    total: str = "none"  # none | first | last: a 合计 row
    lanci: bool = False  # a 栏次 row under the header
    footer: bool = False

    @staticmethod
    def random(rng: random.Random, fmt: str | None = None) -> Knobs:
        return Knobs(
            fmt=fmt or rng.choice(FORMATS),
            numbering=rng.choice(NUMBERING),
            spacing=rng.choice((0.0, 0.0, 0.3, 1.0)),
            breaks=rng.choice((0.0, 0.0, 0.3, 1.0)),
            traditional=rng.random() < 0.25,
            colons=rng.choice((0.0, 0.0, 0.5, 1.0)),
            units=rng.random() < 0.4,
            groups=rng.random() < 0.4,
            shuffle=rng.random() < 0.5,
            extra=rng.choice((0, 0, 1, 2)),
            seq=rng.random() < 0.5,
            title=rng.random() < 0.7,
            meta=rng.random() < 0.6,
            total=rng.choice(("none", "none", "first", "last")),
            lanci=rng.random() < 0.3,
            footer=rng.random() < 0.5,
        )


# -- ground truth ------------------------------------------------------------------------------------------
@dataclass
class UnseenColumn:
    col_index: int  # 1-based, as Excel shows it
    header: str  # as written in the file: group cells and the leaf joined with '/'
    field: str | None  # canonical field, None for ``-``
    catalogue_header: str | None  # the catalogue's spelling; None for an extra column
    origin: str  # catalogue | extra


@dataclass
class UnseenLedger:
    path: str
    source_id: str
    split: str
    township_code: str
    township_name: str
    row_model: str  # person | member | household | business | aggregate
    rows: int  # data rows (what the hub must account for: accepted + rejected + held)
    knobs: Knobs
    columns: list[UnseenColumn]

    def expected(self) -> dict[int, str | None]:
        return {c.col_index: c.field for c in self.columns}

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def write_truth(ledgers: Iterable[UnseenLedger], path: Path) -> Path:
    path.write_text(
        json.dumps([x.to_dict() for x in ledgers], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return path


def read_truth(path: Path) -> list[UnseenLedger]:
    out = []
    for d in json.loads(path.read_text(encoding="utf-8")):
        d["knobs"] = Knobs(**d["knobs"])
        d["columns"] = [UnseenColumn(**c) for c in d["columns"]]
        out.append(UnseenLedger(**d))
    return out


# -- the subjects of the data rows -----------------------------------------------------------------------
@dataclass
class Subject:
    """What one data row describes."""

    person: Person | None = None
    household: Household | None = None
    dibao: Dibao | None = None
    business: Business | None = None
    village: Village | None = None
    death_date: date | None = None


def row_model(rows: Sequence[CatalogueRow]) -> str:
    fields = {r.field for r in rows if r.field}
    if not fields:
        return "aggregate"
    if fields & BUSINESS_FIELDS:
        return "business"
    if fields & {"head_name", "head_id_number"} and not fields & {"name", "id_number"}:
        return "household"
    if fields & {"relation", "head_id_number", "household_no", "head_name"}:
        return "member"
    return "person"


def _dibao_like(source_id: str, fields: set[str | None]) -> bool:
    return bool(fields & DIBAO_FIELDS) or source_id.startswith("mz_") or "dibao" in source_id


def subjects(
    county: County, town: Township, rows: Sequence[CatalogueRow], rng: random.Random
) -> list[Subject]:
    """Every possible data row of the source in the township, in a stable order."""
    model = row_model(rows)
    fields = {r.field for r in rows}
    in_town = [p for p in county.persons.values() if p.township_code == town.code]
    hhs = [h for h in county.households if h.village_code.startswith(town.code)]
    dibaos = [d for d in county.dibao if county.persons[d.head_id].township_code == town.code]
    dibao_of = {m: d for d in dibaos for m in d.members}
    source = rows[0].source_id
    if model == "aggregate":
        return [Subject(village=v) for v in town.villages]
    if model == "business":
        return [Subject(business=b) for b in county.businesses if b.village_code.startswith(town.code)]
    if model == "household":
        if _dibao_like(source, fields):
            by_no = {h.household_no: h for h in hhs}
            return [Subject(household=by_no[d.household_no], dibao=d) for d in dibaos]
        return [Subject(household=h) for h in hhs if county.persons[h.members[0]].status == "1"]
    if model == "member":
        out = []
        if _dibao_like(source, fields):
            by_no = {h.household_no: h for h in hhs}
            for d in dibaos:
                out += [Subject(county.persons[m], by_no[d.household_no], d) for m in d.members]
        else:
            for h in hhs:
                out += [Subject(county.persons[m], h, dibao_of.get(m)) for m in h.members]
        return out
    alive = [p for p in in_town if p.status == "1"]
    if "death_date" in fields:
        dead = [p for p in in_town if p.status == "2" and p.death_date]
        old = sorted((p for p in alive if age_on(p.birth_date, DEMO_DATE) >= 70), key=lambda p: p.id_number)
        out = [Subject(p, death_date=p.death_date) for p in dead]
        for p in old[: max(0, 12 - len(out))]:  # not enough deaths in a small county: add some
            out.append(Subject(p, death_date=date(2025, 1, 1) + timedelta(days=rng.randrange(600))))
        return out
    if fields & DISABILITY_FIELDS:
        return [
            Subject(p, dibao=dibao_of.get(p.id_number)) for p in alive if p.id_number in county.disabilities
        ]
    if any("老人" in r.header or "高龄" in r.form or "津贴" in r.form for r in rows):
        return [Subject(p) for p in alive if age_on(p.birth_date, DEMO_DATE) >= 80]
    return [
        Subject(p, dibao=dibao_of.get(p.id_number)) for p in alive if age_on(p.birth_date, DEMO_DATE) >= 18
    ]


# -- values ---------------------------------------------------------------------------------------------------
_T2S: Callable[[str], str] | None = None
_S2T: Callable[[str], str] | None = None


def t2s(text: str) -> str:
    global _T2S
    if _T2S is None:
        from opencc import OpenCC

        _T2S = OpenCC("t2s").convert
    return _T2S(text)


def s2t(text: str) -> str:
    global _S2T
    if _S2T is None:
        from opencc import OpenCC

        _S2T = OpenCC("s2t").convert
    return _S2T(text)


def _key(text: str) -> str:
    """A header as the filler rules read it: simplified, no spaces, stars, colons or line breaks."""
    return re.sub(r"[\s*:：\u3000]", "", t2s(text))


@dataclass
class Ctx:
    county: County
    town: Township
    fmt: str
    rng: random.Random
    model: str
    dibao_like: bool

    def person(self, pid: str) -> Person:
        return self.county.persons[pid]

    def head(self, s: Subject) -> Person | None:
        if s.household is not None:
            return self.person(s.household.members[0])
        return s.person

    def other(self, s: Subject) -> Person:
        """Someone else of the township (a carer, a liaison, a family member)."""
        own = s.person.id_number if s.person else None
        pool = [
            p
            for p in self.county.persons.values()
            if p.township_code == self.town.code and p.id_number != own
        ]
        return self.rng.choice(pool)

    def date(self, d: date, header: str) -> C.Cell:
        """A date as the header asks: month precision for 年月 / 月份 headers."""
        k = _key(header)
        if ("年月" in k or k.endswith("月") or "月份" in k) and "日" not in k:
            return self.rng.choice(
                (f"{d.year}年{d.month}月", f"{d.year}.{d.month:02d}", f"{d:%Y%m}", f"{d.year}-{d.month:02d}")
            )
        if self.rng.random() < 0.2:
            return f"{d.year}年{d.month}月{d.day}日"
        return C.date_cell(d, self.rng, False, self.fmt)

    def money(self, amount: float) -> C.Cell:
        return amount if self.fmt == "xlsx" else f"{amount:.2f}"


def _operator(ctx: Ctx, s: Subject) -> Person:
    assert s.business is not None
    return ctx.person(s.business.operator_id)


def field_value(name: str, header: str, s: Subject, ctx: Ctx) -> C.Cell:
    """The valid value of canonical field ``name`` for the row's subject."""
    rng, county = ctx.rng, ctx.county
    p = s.person
    head = ctx.head(s)
    if s.business is not None:
        b, op = s.business, _operator(ctx, s)
        if name == "uscc":
            return b.uscc
        if name == "business_name":
            return b.name
        if name == "operator_name":
            return op.name
        if name == "address":
            return b.address if "经营场所" in header else op.address
        if name == "phone":
            if "固定" in header:
                return f"0579-8{rng.randrange(10**6, 10**7)}"
            return (op.phone or b.phone or "") if "移动" in header else (b.phone or "")
        return None
    if name in ("head_name", "head_id_number"):
        assert head is not None
        return head.name if name == "head_name" else head.id_number
    if s.household is not None and p is None:  # a household row
        assert head is not None
        p = head
    if s.village is not None:
        return None
    assert p is not None
    dis = county.disabilities.get(p.id_number)
    d = s.dibao
    if name == "id_number":
        return p.id_number
    if name == "name":
        return p.name
    if name == "sex":
        return C.SEX_LABEL[p.sex] if rng.random() < 0.85 else C.SEX_LABEL[p.sex] + "性"
    if name == "birth_date":
        return ctx.date(p.birth_date, header)
    if name == "ethnicity":
        return C.ETHNICITY_LABEL[p.ethnicity]
    if name == "marital_status":
        return C.MARITAL_LABEL[p.marital]
    if name == "village":
        return county.village(p.village_code).name
    if name == "address":
        return p.address
    if name == "phone":
        return p.phone or ""
    if name == "household_no":
        return p.household_no
    if name == "relation":
        if s.household is not None and s.household.members[0] == p.id_number:
            return rng.choice(("户主", "本人"))
        return p.relation
    if name == "remark":
        return rng.choice(("", "", "", "外出务工", "长期在外", "新增"))
    if name == "death_date":
        return ctx.date(s.death_date or DEMO_DATE, header)
    if name == "household_size":
        hh = s.household or next(h for h in county.households if h.household_no == p.household_no)
        return len(d.members) if d else len(hh.members)
    if name == "covered_count":
        return len(d.covered) if d else ""
    if name == "covered":
        return "是" if d and p.id_number in d.covered else "否"
    if name == "dibao_category":
        return ("城市" if d.category == "1" else "农村") if d else ""
    if name == "dibao_amount":
        return ctx.money(d.amount) if d else ""
    if name == "dibao_start":
        return ctx.date(d.start, header) if d else ""
    if name == "disability_category":
        return C.CATEGORY_LABEL[dis.category] + "残疾" if dis else ""
    if name == "disability_level":
        return C.LEVEL_SPELLINGS[dis.level][0] if dis else ""
    if name == "disability_cert":
        return dis.cert if dis else ""
    if name == "person_status":
        return "正常"
    raise KeyError(name)


# Rules for ``-`` columns: (keywords on the simplified header, filler). First match wins.
Filler = Callable[[Subject, Ctx, str], C.Cell]


def _age(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    p = s.person or ctx.head(s)
    return age_on(p.birth_date, DEMO_DATE) if p else ""


def _pick(*options: str) -> Filler:
    return lambda s, ctx, h: ctx.rng.choice(options)


def _const(value: C.Cell) -> Filler:
    return lambda s, ctx, h: value


def _int(lo: int, hi: int) -> Filler:
    return lambda s, ctx, h: ctx.rng.randint(lo, hi)


def _money(lo: int, hi: int) -> Filler:
    return lambda s, ctx, h: ctx.money(float(ctx.rng.randrange(lo, hi)))


def _digits(n: int, lead: str = "") -> Filler:
    return lambda s, ctx, h: lead + "".join(str(ctx.rng.randrange(10)) for _ in range(n - len(lead)))


def _member_ids(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    if ctx.model == "household" and s.household is not None:
        return "、".join(s.household.members[1:]) or ""
    return ctx.other(s).id_number


def _member_names(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    if ctx.model == "household" and s.household is not None:
        return "、".join(ctx.person(m).name for m in s.household.members[1:])
    return ctx.other(s).name


def _own_id(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    if s.business is not None:
        return _operator(ctx, s).id_number
    return ctx.other(s).id_number


def _own_name(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    p = s.person or ctx.head(s)
    return p.name if p else ""


def _spouse(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    p = s.person or ctx.head(s)
    if p is None or s.household is None:
        return ""
    spouses = [
        ctx.person(m)
        for m in s.household.members
        if m != p.id_number and ctx.person(m).relation in ("妻子", "妻", "丈夫", "夫", "配偶")
    ]
    if p.relation in ("妻子", "妻", "丈夫", "夫", "配偶"):
        spouses = [ctx.person(s.household.members[0])]
    return spouses[0].name if spouses else ""


def _parent_names(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    return f"{names.surname(ctx.rng)}{names.given_name(ctx.rng, True, 1950)}、{names.surname(ctx.rng)}{names.given_name(ctx.rng, False, 1952)}"


def _a_name(male: bool) -> Filler:
    return lambda s, ctx, h: names.surname(ctx.rng) + names.given_name(ctx.rng, male, 1960)


def _op_sex(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    p = _operator(ctx, s) if s.business else (s.person or ctx.head(s))
    return C.SEX_LABEL[p.sex] if p else ""


def _op_birth(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    p = _operator(ctx, s) if s.business else (s.person or ctx.head(s))
    return ctx.date(p.birth_date, h) if p else ""


def _a_date(lo: date, hi: date) -> Filler:
    return lambda s, ctx, h: ctx.date(lo + timedelta(days=ctx.rng.randrange((hi - lo).days)), h)


def _disabled(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    p = s.person or ctx.head(s)
    return "是" if p and p.id_number in ctx.county.disabilities else "否"


def _village_name(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    if s.village is not None:
        return s.village.name
    return ""


def _cert_no(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    hh = s.dibao.household_no if s.dibao else (s.household.household_no if s.household else "")
    return f"DB{ctx.town.code}{hh[-4:]}" if hh else ""


def _hukou(s: Subject, ctx: Ctx, h: str) -> C.Cell:
    if "户别" in h:
        return ctx.rng.choice(("家庭户", "家庭户", "集体户"))
    return ctx.rng.choice(("农业户口", "非农业户口", "农业家庭户口", "城镇"))


FILLERS: list[tuple[tuple[str, ...], Filler]] = [
    # 优抚 and 救灾 import templates of a 民政 system
    (("工作单位电话",), lambda s, ctx, h: f"0579-8{ctx.rng.randrange(10**6, 10**7)}"),
    (("工作单位地址",), lambda s, ctx, h: ctx.town.name + "工业园区"),
    (("行政区划代码", "社区)代码", "社区）代码"), _digits(12, "330783")),
    (("户籍类别",), _pick("农村", "城镇")),
    (("住房性质", "住房状况", "房屋类型", "房屋结构"), _pick("自有住房", "砖混结构", "平房", "楼房")),
    (("建筑时间",), _pick("1998年", "2005年", "2012年")),
    (("军人关系", "与牺牲者关系"), _pick("父亲", "母亲", "配偶", "子女")),
    (("军人)姓名", "填报人"), _a_name(True)),
    (("证书字号", "证件号", "退伍证号", "复员证号"), _digits(8, "37")),
    (("部队",), _pick("某部", "53012部队", "海军某部")),
    (("年限",), _int(2, 5)),
    (("岁（含", "岁(含"), _int(0, 3)),
    (
        (
            "入伍",
            "退役时间",
            "退伍时间",
            "离退休时间",
            "复员时间",
            "致残时间",
            "牺牲病故时间",
            "服义务兵",
            "填报日期",
        ),
        _a_date(date(1960, 1, 1), date(2010, 12, 31)),
    ),
    (("所在单位",), _pick("某部三营", "县供销社", "")),
    (("地点",), _pick("云南边境", "训练场", "")),
    (("伤残类别",), _pick("伤残军人", "伤残人民警察", "伤残民兵民工")),
    (("抗美援朝",), _pick("否", "否", "是")),
    (("致残",), _pick("执行任务负伤", "训练受伤", "因病")),
    (("生活能力", "生活状况"), _pick("自理", "半自理", "不能自理")),
    (("认证依据",), _pick("退役证", "档案记载")),
    (("救助（元）", "救助(元)"), _money(100, 1500)),
    (("（件）", "(件)"), _int(1, 4)),
    (("时段",), _int(1, 3)),
    (("公斤",), _int(20, 100)),
    (("发放单位",), _pick("县级", "乡镇级")),
    (("发放方式",), _pick("资金发放", "银行发放")),
    (("是否",), _pick("否", "否", "是")),
    # 境外人员临时住宿登记表 (bilingual)
    (("英文姓",), _pick("SMITH", "KIM", "NGUYEN", "TANAKA")),
    (("中间名",), _pick("", "", "LEE")),
    (("英文名",), _pick("JOHN", "MINJI", "VAN AN", "YUKI")),
    (("国籍",), _pick("美国", "韩国", "越南", "日本")),
    (("教育程度",), _pick("本科", "硕士", "高中")),
    (("入境所持证件",), _const("护照")),
    (("号码number",), lambda s, ctx, h: "E" + "".join(str(ctx.rng.randrange(10)) for _ in range(8))),
    (("有效期至", "入境日期"), _a_date(date(2024, 1, 1), date(2030, 12, 31))),
    (("签发地",), _pick("首尔", "河内", "纽约", "东京")),
    (("入境口岸",), _pick("深圳湾口岸", "罗湖口岸", "宝安机场")),
    (("停留事由",), _pick("就业", "学习", "商务", "探亲")),
    (("在华身份",), _pick("职员", "学生", "投资者")),
    (("常住地址",), _pick("Seoul, Korea", "Hanoi, Vietnam", "Osaka, Japan")),
    (("迁来前住处",), _pick("深圳市福田区华强北路1号", "广州市天河区体育西路8号", "")),
    (("工作单位_电话",), lambda s, ctx, h: f"0579-8{ctx.rng.randrange(10**6, 10**7)}"),
    (("工作单位_地址",), lambda s, ctx, h: ctx.town.name + "工业园区"),
    (("年龄",), _age),
    (("文化程度", "受教育程度"), _pick("小学", "初中", "高中", "中专", "大专", "本科", "文盲")),
    (("政治面貌",), _pick("群众", "群众", "中共党员", "共青团员")),
    (("身份证件类型",), _const("居民身份证")),
    (("身份证件有效期",), _pick("2018.05.01-2038.05.01", "长期")),
    (("签发日期",), _a_date(date(2005, 1, 1), date(2024, 12, 31))),
    (("照料人身份证", "家庭成员身份证", "家庭成员身份证件号码"), _member_ids),
    (("身份证件号码", "身份证号"), _own_id),
    (("户名", "银行账户名称"), _own_name),
    (("网点",), _pick("农业银行青山支行", "农商银行城关分理处", "邮储银行营业所")),
    (("开户银行", "银行名称"), _pick("中国农业银行", "农商银行", "中国邮政储蓄银行", "中国建设银行")),
    (("银行", "账号", "帐号", "卡号", "账户"), _digits(19, "62")),
    (("照料人姓名",), _a_name(False)),
    (("家庭成员姓名",), _member_names),
    (("配偶",), _spouse),
    (("父母姓名",), _parent_names),
    (("监护人",), _const("")),
    (("监护关系",), _const("")),
    (("曾用名",), _const("")),
    (("电子邮箱",), lambda s, ctx, h: f"{ctx.rng.randrange(10**7, 10**9)}@qq.com"),
    (("性别",), _op_sex),
    (("民族",), _pick("汉族")),
    (("出生日期",), _op_birth),
    (("户别", "户口类型", "户口性质", "户籍类型"), _hukou),
    (("住所类型",), _pick("住房", "住房", "集体宿舍")),
    (("比例",), lambda s, ctx, h: f"{ctx.rng.uniform(1, 5):.2f}"),
    (("面积",), lambda s, ctx, h: round(ctx.rng.uniform(40, 180), 1)),
    (("房间数", "间数", "套数"), _int(1, 6)),
    (("特困人员",), _int(1, 3)),  # supported persons of one family (特困人员家庭查询)
    (("出生人口",), _int(0, 1)),
    (("死亡人口",), _const(0)),
    (("离开户口登记地时间", "离开户籍地年月"), _const("")),
    (("离开户口登记地原因",), _const("")),
    (("是否识字",), _const("是")),
    (("承重类型",), _pick("砖混结构", "钢筋混凝土结构", "砖木结构")),
    (("建成年代",), _pick("1990-1999年", "2000-2009年", "2010年以后")),
    (("炊事燃料",), _pick("电", "燃气", "柴草")),
    (("自来水", "厕所", "洗澡"), _pick("有", "有", "无")),
    (("住房来源",), _pick("自建住房", "购买商品房", "租赁廉租住房")),
    (("月租房费用",), _const(0)),
    (("所属省",), _const(PROVINCE)),
    (("市(地",), _const(CITY)),
    (("所属市",), _const(CITY)),
    (("所属区划", "行政区划"), lambda s, ctx, h: ctx.county.name + ctx.town.name),
    (("县(市", "所属区"), lambda s, ctx, h: ctx.county.name),
    (("乡(镇", "所属街"), lambda s, ctx, h: ctx.town.name),
    (("调查小区",), _pick("001", "002", "003")),
    (("地区",), _village_name),
    (("证号",), _cert_no),
    (("公安户口编号",), _digits(9)),
    (("电表号",), _digits(10)),
    (("供养方式",), _pick("分散供养", "集中供养")),
    (("供养机构",), _const("")),
    (("救助类型",), _pick("低保", "特困")),
    (("救助金计算方式",), _pick("差额救助", "全额救助")),
    (("分档类型",), _pick("一档", "二档", "三档")),
    (("原因",), _pick("因病", "因残", "缺乏劳动力", "因学")),
    (("就业状况",), _pick("无业", "务农", "灵活就业")),
    (("劳动能力",), _pick("有劳动能力", "无劳动能力", "部分丧失劳动能力")),
    (("健康状况", "身体状况"), _pick("健康", "慢性病", "长期患病")),
    (("自理能力",), _pick("全自理", "半护理", "全护理")),
    (("患病病种",), _pick("", "", "高血压", "糖尿病")),
    (("参保类型",), _pick("城乡居民医保", "职工医保")),
    (("建档立卡", "脱贫", "是否纳入享受特困"), _const("否")),
    (("是否残疾",), _disabled),
    (("在读学校", "在职单位"), _const("")),
    (("其他家庭财产",), _const("无")),
    (("人员类型",), _pick("80-89周岁", "90-99周岁")),
    (("原始类型",), _pick("高龄津贴", "高龄补贴")),
    (("职务", "职业"), _pick("务农", "店员", "个体经营", "无")),
    (("入职时间", "居住时间"), _a_date(date(2015, 1, 1), date(2026, 6, 30))),
    (("离职时间",), _const("")),
    (("派出所",), lambda s, ctx, h: ctx.town.name[:2] + "派出所"),
    (("居住事由",), _pick("务工", "经商", "投靠亲友")),
    (("居住期限",), _pick("一年以上", "半年以上")),
    (("工作单位", "服务处所", "企业性质"), _const("")),
    (("身份类别",), _pick("无业", "务农", "退休", "学生")),
    (("机动车辆",), _const("无")),
    (("血型",), _pick("A型", "B型", "O型", "AB型")),
    (("兵役", "役别"), _pick("未服兵役", "")),
    (("宗教",), _const("无")),
    (("身高",), _int(150, 182)),
    (("籍贯", "本籍", "出生地"), _pick("浙江金华", "浙江东阳", "江西上饶")),
    (("出生别",), _pick("长男", "长女", "次男", "次女")),
    (("何时何因",), _const("")),
    (("记事",), _const("")),
    (("邮政编码",), _const("322200")),
    (("出资额",), _int(1, 50)),
    (("经营范围",), _pick("日用百货零售", "餐饮服务", "农产品销售")),
    (("组成形式",), _pick("个人经营", "家庭经营")),
    (("联络员", "姓名"), _a_name(True)),
    (("父",), _a_name(True)),
    (("母",), _a_name(False)),
    (("行政区域",), lambda s, ctx, h: ctx.county.name + ctx.town.name),
    (("家庭类型",), _pick("一般家庭", "低保家庭", "特困供养家庭")),
    (("需救助人口",), _int(1, 4)),
    (("救助款", "折款"), _money(200, 2000)),
    (("发放形式",), _pick("社会化发放", "现金发放")),
    (("救助时间、数量", "救助次数、金额"), _pick("", "2025年3月、1次", "1次、800元")),
    (("兑现情况",), _pick("无", "享受低保", "享受医疗救助")),
    (("年龄分布",), _pick("60岁以上1人", "18岁以下2人", "无")),
    (("就业情况",), _pick("无业", "务农", "灵活就业")),
    (("收入来源",), _pick("务农", "打工", "低保金")),
    (("负责人", "监管人员", "监督人员", "协管人员", "烈士姓名"), _a_name(True)),
    (("监管单位",), lambda s, ctx, h: ctx.town.name[:2] + "市场监管所"),
    (("登记机关", "发证机关"), _const("金华市市场监督管理局")),
    (("许可证编号",), _digits(16, "JY1")),
    (
        ("成立日期", "有效日期", "发证日期", "批准时间", "批准日期"),
        _a_date(date(2008, 1, 1), date(2026, 6, 30)),
    ),
    (("经度",), lambda s, ctx, h: round(ctx.rng.uniform(119.5, 120.5), 6)),
    (("纬度",), lambda s, ctx, h: round(ctx.rng.uniform(28.9, 29.5), 6)),
    (("经营类型", "经济类型"), _pick("个体工商户", "有限责任公司", "个人独资企业")),
    (("许可项目",), _pick("预包装食品销售", "热食类食品制售", "")),
    (("销售额",), _int(5, 300)),
    (("座位数", "从业人员数", "健康证人数"), _int(1, 40)),
    (("伤残等级",), _pick("五级", "六级", "七级", "八级", "九级", "十级")),
    (("伤残性质",), _pick("因战", "因公", "因病")),
    (("伤残属别",), _pick("退役军人", "人民警察", "民兵民工")),
    (("伤残时期", "属于时期"), _pick("抗日战争时期", "解放战争时期", "和平时期", "和平时期")),
    (("优抚人员状态", "优抚对象状态"), _pick("在享", "在享", "停发")),
    (("优抚对象类别",), _pick("伤残人员", "三属人员", "在乡复员军人", "带病回乡退伍军人")),
    (("证书编号", "抚恤证编号"), _digits(8, "37")),
    (("医疗保险号",), _digits(10)),
    (("保障方式",), _pick("城乡居民医保", "职工医保", "城乡居民养老保险", "无")),
    (("类别代码",), _pick("农业户口", "非农业户口")),
    (("代码",), _pick("健康", "群众", "初中", "无业")),
    (("工作单位_名称", "工作单位_性质"), _const("")),
    (("老年人", "成年人", "未成年人", "人数", "户数", "人口", "数量"), _int(3, 300)),
    (("收入", "金额", "费用", "总额", "施保", "合计", "标准", "资金", "补助", "资产"), _money(100, 5000)),
]


def filler_for(header: str) -> Filler | None:
    """The value rule of a ``-`` column (None when no rule knows it: the column stays empty)."""
    k = _key(header)
    leaf = _key(header.split("/")[-1])
    for words, fill in FILLERS:
        if words in (("父",), ("母",)):
            if leaf == words[0]:
                return fill
            continue
        if words == ("联络员", "姓名"):
            if "联络员" in k and leaf == "姓名":
                return fill
            continue
        if any(w in k for w in words):
            return fill
    return None


# -- header spellings -------------------------------------------------------------------------------------
NUMBERED = re.compile(
    r"^\s*(?:[A-Z]{1,2}\d+\s*[.．、]|\(\d+\)|（\d+）|\d+\s*[.．、]|（[一二三四五六七八九十]+）)"
)
CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[ones] if ones else "")


def _cjk(text: str) -> bool:
    return bool(text) and all("\u4e00" <= ch <= "\u9fff" for ch in text)


def _unit(leaf: str) -> str | None:
    if any(b in leaf for b in "(（[【"):
        return None
    if any(w in leaf for w in ("金额", "收入", "费用", "总额", "标准", "资产")):
        return "（元）"
    if any(w in leaf for w in ("人口", "人数")) and not leaf.endswith("数量"):
        return "（人）"
    if "面积" in leaf:
        return "（平方米）"
    if leaf.strip() == "年龄":
        return "（岁）"
    return None


def spell_leaf(leaf: str, k: int, knobs: Knobs, rng: random.Random) -> str:
    """The leaf header cell as this ledger writes it; ``k`` is the column's 1-based position."""
    text = leaf
    if knobs.units and (u := _unit(text)):
        text += u
    if knobs.spacing and _cjk(text) and 2 <= len(text) <= 4 and rng.random() < knobs.spacing:
        text = rng.choice(("\u3000", " ", "  ")).join(text)
    elif knobs.breaks and "\n" not in text and len(text) >= 4 and rng.random() < knobs.breaks:
        m = NUMBERED.match(text)
        start = (m.end() if m else 0) + 2
        cut = next((i for i, ch in enumerate(text) if ch in "(（" and i >= start), max(start, len(text) // 2))
        if (
            0 < cut < len(text)
            and text[cut:].strip()
            and not (text[cut - 1].isascii() and text[cut].isascii())
        ):
            text = text[:cut] + "\n" + text[cut:]
    if knobs.numbering != "none" and not NUMBERED.match(text):
        prefix = {"S2.": f"S{k}.", "1.": f"{k}.", "（一）": f"（{cn_number(k)}）"}[knobs.numbering]
        text = prefix + text
    if knobs.colons and rng.random() < knobs.colons and not text.rstrip().endswith((":", "：")):
        text += rng.choice(("：", ":"))
    return text


# -- the ledger --------------------------------------------------------------------------------------------
@dataclass
class _Col:
    path: tuple[str, ...]  # group labels and the leaf as written
    field: str | None
    catalogue_header: str | None
    origin: str
    value: Callable[[Subject, Ctx], C.Cell] = dataclasses.field(repr=False, default=lambda s, ctx: None)


def _title_of(form: str) -> str:
    """The form's name without notes, file patterns, dates and the places of its issuer."""
    t = re.sub(r"[（(].*?[）)]", "", form).split("/")[0]
    t = re.sub(r"_\*?\.xlsx?|\.xlsx?|\.xls|_", "", t)
    t = re.sub(r"^\d{4}年\d{1,2}月", "", t.strip())
    t = re.sub(r"^(?:[\u4e00-\u9fff]{2,3}[省市县])+(?=[\u4e00-\u9fff]{4})", "", t)
    return t.replace("填表说明", "").replace("欄位", "").replace("export", "").strip()[:30] or "台账"


def _field_cell(name: str, header: str) -> Callable[[Subject, Ctx], C.Cell]:
    return lambda s, ctx: field_value(name, header, s, ctx)


def _filler_cell(header: str) -> Callable[[Subject, Ctx], C.Cell]:
    fill = filler_for(header)
    return lambda s, ctx: fill(s, ctx, header) if fill else ""


def _columns(rows: Sequence[CatalogueRow], knobs: Knobs, rng: random.Random) -> list[_Col]:
    blocks: list[list[_Col]] = []
    for r in rows:
        path = r.path
        value = _field_cell(r.field, r.header) if r.field is not None else _filler_cell(r.header)
        col = _Col(path, r.field, r.header, "catalogue", value)
        if blocks and len(path) > 1 and blocks[-1][0].path[:-1] == path[:-1]:
            blocks[-1].append(col)
        else:
            blocks.append([col])
    for name in rng.sample(EXTRA_COLUMNS, knobs.extra):
        blocks.insert(
            rng.randrange(len(blocks) + 1), [_Col((name,), None, None, "extra", _filler_cell(name))]
        )
    if knobs.shuffle:
        rng.shuffle(blocks)
        for b in blocks:
            rng.shuffle(b)
    if knobs.groups:  # neutral groups over runs of single (ungrouped) columns
        i, used = 0, 0
        while i < len(blocks):
            j = i
            while j < len(blocks) and len(blocks[j][0].path) == 1:
                j += 1
            if j - i >= 3 and used < 2:
                end = i + rng.randint(3, min(6, j - i))
                label = NEUTRAL_GROUPS[used * 2 + rng.randrange(2)]
                run = [c for b in blocks[i:end] for c in b]
                blocks[i:end] = [[replace(c, path=(label, *c.path)) for c in run]]
                used += 1
                i += 1
            else:
                i = max(j, i + 1)
    cols = [c for b in blocks for c in b]
    if knobs.seq:
        cols.insert(0, _Col(("序号",), None, None, "extra"))
    out = []
    for k, c in enumerate(cols, start=1):
        leaf = c.path[-1] if c.path == ("序号",) else spell_leaf(c.path[-1], k, knobs, rng)
        parts = [*c.path[:-1], leaf]
        if knobs.traditional:
            parts = [s2t(p) for p in parts]
        out.append(replace(c, path=tuple(parts)))
    return out


def build_ledger(
    county: County,
    town: Township,
    rows: Sequence[CatalogueRow],
    knobs: Knobs,
    seed: int,
    n_rows: int | None = None,
) -> tuple[SheetLayout, list[UnseenColumn], str, int]:
    """The sheet of one ledger, its ground-truth columns, its row model and its number of data rows.

    The values come from ``seed`` alone (not from the knobs), so two layouts of one seed hold the
    same people in the same rows."""
    source = rows[0].source_id
    vrng = random.Random(f"{seed}:{source}:{town.code}:values")
    lrng = random.Random(f"{seed}:{source}:{town.code}:{knobs}")
    model = row_model(rows)
    pool = subjects(county, town, rows, vrng)
    want = n_rows if n_rows is not None else vrng.randint(8, 25)
    chosen: list[Subject] = []
    if model == "member":  # whole households: head first, then the members
        groups: dict[str, list[Subject]] = {}
        for s in pool:
            groups.setdefault(s.household.household_no if s.household else "", []).append(s)
        keys = list(groups)
        vrng.shuffle(keys)
        for key in keys:
            if len(chosen) >= want:
                break
            chosen += groups[key]
    else:
        chosen = [pool[i] for i in sorted(vrng.sample(range(len(pool)), min(want, len(pool))))]
    ctx = Ctx(county, town, knobs.fmt, vrng, model, _dibao_like(source, {r.field for r in rows}))
    cols = _columns(rows, knobs, lrng)
    # Values in catalogue order (then placed), so the layout never changes them.
    # Catalogue columns take their values from ``vrng`` in catalogue order, extra columns from their
    # own generator: the layout never changes a catalogue column's values.
    xctx = replace(ctx, rng=random.Random(f"{seed}:{source}:{town.code}:extra"))
    headers = [r.header for r in rows]
    order = sorted(
        (i for i, c in enumerate(cols) if c.origin == "catalogue"),
        key=lambda i: headers.index(cols[i].catalogue_header or ""),
    )
    data: list[list[C.Cell]] = []
    for n, s in enumerate(chosen, start=1):
        row: list[C.Cell] = [None] * len(cols)
        for i in order:
            row[i] = cols[i].value(s, ctx)
        for i, c in enumerate(cols):
            if c.origin == "extra":
                row[i] = n if c.path[-1] == "序号" else c.value(s, xctx)
        data.append(row)

    layout = SheetLayout(_sheet_name(rows, lrng), len(cols))
    form = _title_of(rows[0].form)
    if knobs.title:
        title = f"{town.name}{form}"
        layout.line(s2t(title) if knobs.traditional else title)
    if knobs.meta:
        unit = f"{town.name}人民政府（盖章）" if town.name.endswith("镇") else f"{town.name}办事处（盖章）"
        layout.line(
            f"填报单位：{unit}　　填报日期：{DEMO_DATE.year}年{DEMO_DATE.month}月{DEMO_DATE.day}日",
            merge=False,
        )
    layout.header(
        [c.path for c in cols]
    )  # merged cells; saved as CSV, a merged cell's text stays in its first cell
    if knobs.lanci:
        lanci: list[C.Cell] = ["甲", "乙", *(str(i) for i in range(1, len(cols) - 1))]
        layout.add(lanci[: len(cols)])
    total_row: list[C.Cell] = [
        "合计",
        {"household": f"{len(data)}户", "aggregate": None}.get(model, f"{len(data)}人"),
    ]
    if knobs.total == "first":
        layout.add(total_row)
    for row in data:
        layout.add(row)
    if knobs.total == "last":
        layout.add(total_row)
    if knobs.footer:
        layout.line("填表说明：本表由乡镇（街道）填报，数据截至填报日期。", merge=False)
        layout.line("制表人：王丽　　审核人：李明　　负责人：张建国", merge=False)
    truth = [
        UnseenColumn(k, "/".join(p for p in c.path if p), c.field, c.catalogue_header, c.origin)
        for k, c in enumerate(cols, start=1)
    ]
    return layout, truth, model, len(data)


def _sheet_name(rows: Sequence[CatalogueRow], rng: random.Random) -> str:
    return rng.choice(("Sheet1", "台账", "花名册", "数据"))


GBK_SAFE = str.maketrans({"\u200b": "", "\u00a0": " "})


def write_gbk_csv(path: Path, layout: SheetLayout, encoding: str = "gbk") -> None:
    """As Excel saves a sheet as CSV: cells with a line break quoted (the header cells only)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in layout.rows:
        out = []
        for v in row:
            if v is None:
                out.append("")
            elif isinstance(v, datetime | date):
                out.append(f"{v.year}/{v.month}/{v.day}")
            elif isinstance(v, float) and v.is_integer():
                out.append(str(int(v)))
            else:
                out.append(str(v).translate(GBK_SAFE))
        writer.writerow(out)
    path.write_bytes(buf.getvalue().encode(encoding))


_COUNTIES: dict[int, County] = {}


def unseen_county(seed: int = 11, persons: int = 600) -> County:
    """The synthetic county of the unseen ledgers: the townships of sample_data/divisions.csv."""
    if seed not in _COUNTIES:
        _COUNTIES[seed] = make_county(seed, persons, sample_townships())
    return _COUNTIES[seed]


def write_ledger(
    out_dir: Path,
    rows: Sequence[CatalogueRow],
    knobs: Knobs,
    seed: int,
    *,
    township: int = 0,
    county: County | None = None,
    stem: str | None = None,
    n_rows: int | None = None,
) -> UnseenLedger:
    """Write one ledger of the source of ``rows`` into ``out_dir``; the township's name is in the file name."""
    county = county or unseen_county()
    town = county.townships[township % len(county.townships)]
    layout, truth, model, n = build_ledger(county, town, rows, knobs, seed, n_rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = stem or f"{rows[0].source_id}_{seed}"
    path = out_dir / f"{town.name}_{name}.{'xlsx' if knobs.fmt == 'xlsx' else 'csv'}"
    if knobs.fmt == "xlsx":
        write_xlsx(path, [layout])
    else:
        write_gbk_csv(path, layout)
    return UnseenLedger(
        str(path), rows[0].source_id, rows[0].split, town.code, town.name, model, n, knobs, truth
    )


def write_unseen(
    out_dir: Path,
    split: str = "heldout",
    per_source: int = 3,
    seed: int = 0,
    *,
    sources: Iterable[str] | None = None,
) -> list[UnseenLedger]:
    """``per_source`` seeded ledgers for every source of ``split`` (random knobs, xlsx and GBK CSV
    alternating, both townships), and ``truth.json`` beside them."""
    county = unseen_county()
    by_source = sources_of(split)
    wanted = set(sources) if sources is not None else None
    ledgers = []
    for source, rows in sorted(by_source.items()):
        if wanted is not None and source not in wanted:
            continue
        for i in range(per_source):
            rng = random.Random(f"{seed}:{source}:{i}")
            knobs = Knobs.random(rng, FORMATS[i % 2])
            ledgers.append(
                write_ledger(
                    out_dir, rows, knobs, seed * 1000 + i, township=i, county=county, stem=f"{source}_{i}"
                )
            )
    write_truth(ledgers, out_dir / "truth.json")
    return ledgers
