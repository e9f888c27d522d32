"""Each column of a department's draft, classified: generated from the model, generated once a 口径 is
confirmed, already collected by another admitted report, or genuinely new (docs/admission.md).

The columns are placed by the same recogniser that reads clerks' ledgers
(:func:`hub.ingest.columns.recognise`: header similarity, and the example rows' values when the draft
has some; the model's synonyms and data-element codes such as ``XBDM`` are ``schemas/fields.yaml``'s);
``vocabulary.yaml`` adds only what a department form asks that is no ledger field (序号, 报表日期,
区划代码, 数据来源, 补贴类型…, with the 口径 question each needs), and age and count columns are read
from their bands (``65-69岁/男`` → a count with its 口径 question).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub.ingest.columns import HeaderMatcher, normalise_header, recognise
from hub.yamlio import LOADER  # libyaml: the specs are read on every review

if TYPE_CHECKING:
    from hub.ingest.divisions import Divisions
    from hub.model import Schema

#: the classes, in the words a department reads
KINDS = {
    "model": "台账可直接生成",
    "caliber": "可生成，需确认口径",
    "shared": "其他报表已采集",
    "new": "新增采集字段",
    "form": "表式栏目，无需填报",
}
QUESTIONS = {
    "age": "年龄口径",
    "count": "计数口径",
    "amount": "金额标准",
    "code": "代码转换",
    "rule": "判定规则",
    "flag": "是/否判定",
    "confirm": "字段确认",
}
SURE = 0.8
ASK_FROM = 0.45
# an unsure guess is put to the department only when the header itself points at the field
# (收款人家庭地址 → 现住址); a guess from the values alone (走访日期 holds dates, so 出生日期?) is not
HEADER_ASK = 0.5

# canonical field → (expression over the views, code list, format); {e} is the draft's entity alias
FIELD_EXPR: dict[str, tuple[str, str | None, str]] = {
    "id_number": ("p.id_number", None, "text"),
    "name": ("p.name", None, "text"),
    "sex": ("p.sex", "sex", "text"),
    "birth_date": ("p.birth_date", None, "date"),
    "ethnicity": ("p.ethnicity", "ethnicity", "text"),
    "marital_status": ("p.marital_status", "marital_status", "text"),
    "village": ("{e}.village_name", None, "text"),
    "address": ("{a}.address", None, "text"),
    "phone": ("{a}.phone", None, "text"),
    "death_date": ("p.death_date", None, "date"),
    "household_no": ("h.household_code", None, "text"),
    "head_name": ("hp.name", None, "text"),
    "head_id_number": ("hp.id_number", None, "text"),
    "relation": ("m.relation", "relation", "text"),
    "dibao_category": ("h.dibao_category", "dibao_category", "text"),
    "household_size": ("h.household_size", None, "integer"),
    "covered_count": ("h.covered_count", None, "integer"),
    "covered": ("m.covered", None, "text"),
    "dibao_amount": ("h.dibao_amount", None, "money"),
    "dibao_start": ("h.dibao_start", None, "date"),
    "disability_category": ("d.category", "disability_category", "text"),
    "disability_level": ("d.level", "disability_level", "text"),
    "disability_cert": ("d.certificate", None, "text"),
    "uscc": ("b.uscc", None, "text"),
    "business_name": ("b.name", None, "text"),
    "operator_name": ("b.operator_name", None, "text"),
}
#: fields that make a roster one of households (a block per family); 低保 fields alone do not
HOUSEHOLD_FIELDS = {
    "household_no",
    "head_name",
    "head_id_number",
    "relation",
    "household_size",
    "covered_count",
}
BUSINESS_FIELDS = {"uscc", "business_name", "operator_name", "reg_no"}

_BAND = re.compile(r"(\d{1,3})\s*(?:周岁|岁)?\s*[-~—–至到]\s*(\d{1,3})\s*(?:周岁|岁)")
_ABOVE = re.compile(r"(\d{1,3})\s*(?:周岁|岁)\s*(?:及|或)?以上")
_BELOW = re.compile(r"(?:(\d{1,3})\s*(?:周岁|岁)\s*以下|不满\s*(\d{1,3})\s*(?:周岁|岁))")
_SEX = {"男": "1", "男性": "1", "女": "2", "女性": "2"}
_COUNT_WORDS = re.compile(r"(人数|人口|户数|个数|总数|合计|小计|数量|支出数|发放数|\(个\)|\(人\)|\(户\))")
_AMOUNT_WORDS = re.compile(r"(金额|资金|元\)?$|补贴额|发放额)")
_AGE = re.compile(r"^(年龄|周岁|实足年龄|年龄\(周岁\)|周岁年龄)$")


@dataclass
class DraftColumn:
    path: list[str]
    note: str = ""
    examples: list[str] = dc_field(default_factory=list)

    @property
    def header(self) -> str:
        return "/".join(self.path)


@dataclass
class Classified:
    index: int  # 1-based, the draft's column order
    header: str
    note: str
    kind: str  # model | caliber | shared | new | form
    expr: str | None = None
    codelist: str | None = None
    format: str = "text"
    serial: bool = False
    field: str | None = None  # canonical field the recogniser placed it on (or a vocabulary label)
    label: str | None = None
    question: str | None = None  # age | count | amount | code | rule | flag | confirm
    ask: str | None = None  # the question, in Chinese, the department must answer
    shared_with: str | None = None  # the admitted report that already collects it
    also_in: list[str] = dc_field(default_factory=list)  # registered reports delivering the same item
    confidence: float = 1.0
    evidence: str = ""

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def fillable(self) -> bool:
        """A cell a clerk would type for this column if no hub existed."""
        return self.kind != "form" or self.serial

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["kind_label"] = self.kind_label
        out["question_label"] = QUESTIONS.get(self.question or "")
        return out


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, Any]:
    data = yaml.load((Path(__file__).parent / "vocabulary.yaml").read_text(encoding="utf-8"), Loader=LOADER)
    items = [{**i, "_re": re.compile(i["match"])} for i in data["items"]]
    return {"codes": {k.upper(): v for k, v in data["codes"].items()}, "items": items}


def _norm_path(path: list[str], schema: Schema) -> list[str]:
    """Each segment normalised as the recogniser does, a data-element code read as the header it
    stands for: the model's (``fields.yaml`` ``element_codes``: XBDM → 性别代码) or admission's own
    (``vocabulary.yaml`` ``codes``: SJLY → 数据来源, a report's metadata, no ledger field)."""
    codes = {**vocabulary()["codes"], **schema.element_codes}
    out = []
    for seg in path:
        seg = codes.get(seg.strip().upper(), seg)
        out.append(normalise_header(seg) or seg.strip())
    return out


def entity_of(fields: set[str]) -> str:
    if fields & BUSINESS_FIELDS:
        return "business"
    if fields & HOUSEHOLD_FIELDS:
        return "household"
    return "person"


def _alias(expr: str, entity: str) -> str:
    e = {"business": "b", "household": "h", "person": "p"}[entity]
    a = "b" if entity == "business" else "p"
    return expr.replace("{e}", e).replace("{a}", a)


def _band(path: list[str]) -> tuple[int | None, int | None] | None:
    for seg in path:
        if m := _BAND.search(seg):
            return int(m.group(1)), int(m.group(2))
        if m := _ABOVE.search(seg):
            return int(m.group(1)), None
        if m := _BELOW.search(seg):
            n = int(m.group(1) or m.group(2))
            return None, n - 1
    return None


def _count(path: list[str], raw: list[str]) -> Classified | None:
    """A column of an aggregate form: a count (or an amount) of persons, by age band and sex."""
    band = _band(raw)
    sex = next((_SEX[s] for s in path if s in _SEX), None)
    words = "/".join(raw)
    amount = bool(_AMOUNT_WORDS.search(words))
    counting = bool(_COUNT_WORDS.search(words)) or band is not None or sex is not None
    if not counting:
        return None
    conds = []
    age = "age_on(p.birth_date, ctx.ref_date)"
    if band is not None:
        lo, hi = band
        if lo is not None and hi is not None:
            conds.append(f"{age} BETWEEN {lo} AND {hi}")
        elif lo is not None:
            conds.append(f"{age} >= {lo}")
        elif hi is not None:
            conds.append(f"{age} <= {hi}")
    if sex is not None:
        conds.append(f"p.sex = '{sex}'")
    where = " AND ".join(conds)
    what = "、".join(
        x
        for x in (
            (f"{band[0]}岁以上" if band[1] is None else f"{band[0] or 0}-{band[1]}岁") if band else "",
            {"1": "男性", "2": "女性"}.get(sex or "", ""),
        )
        if x
    )
    if amount:
        return Classified(
            0,
            "",
            "",
            "caliber",
            expr="CAST(NULL AS DECIMAL(14, 2))",
            format="money",
            label=f"{what or '全部'}金额",
            question="amount",
            ask=f"{what or '该栏'}金额按什么标准计发（每人每月多少元），是否按人数×标准计算？",
        )
    return Classified(
        0,
        "",
        "",
        "caliber",
        expr=f"count(*) FILTER (WHERE {where})" if where else "count(*)",
        format="integer",
        label=f"{what or '全部'}人数",
        question="count",
        ask=(
            f"{what or '总'}人数按统计时点的周岁计算（含统计时点健在者），统计时点是报表期末哪一天？"
            if band
            else f"{what or '总'}人数按统计时点在册、健在的人员计数，是否同意？"
        ),
    )


def classify(
    columns: list[DraftColumn],
    schema: Schema,
    divisions: Divisions | None = None,
    extra_fields: list[dict[str, Any]] | None = None,
    own: str | None = None,
) -> tuple[str, list[Classified]]:
    """(the draft's entity, one :class:`Classified` per column). ``extra_fields``: fields earlier
    admissions added (key, label, report_id); ``own``: the draft's report once admitted (the fields
    its admission added are its own new fields, not shared)."""
    import pyarrow as pa

    paths = [(i + 1, _norm_path(c.path, schema)) for i, c in enumerate(columns)]
    width = max((len(c.examples) for c in columns), default=0)
    data = pa.table(
        {
            f"c{i}": _strings([(c.examples[r] if r < len(c.examples) else None) for r in range(width)])
            for (i, _), c in zip(paths, columns, strict=True)
        }
    )
    placed = recognise(paths, data, schema, divisions)
    matcher = HeaderMatcher.from_schema(schema)
    sure = {c.field for c in placed if c.field and c.confidence >= SURE}
    entity = entity_of(sure)
    items = vocabulary()["items"]
    out: list[Classified] = []
    for (index, norm), col, rec in zip(paths, columns, placed, strict=True):
        text = "/".join(norm)
        raw = [s.strip() for s in col.path]
        result: Classified | None = None
        for item in items:
            if item["_re"].search(text) or item["_re"].search("/".join(raw)):
                result = Classified(
                    index,
                    col.header,
                    col.note,
                    item["kind"],
                    expr=_alias(item["expr"], entity) if item.get("expr") else None,
                    codelist=item.get("codelist"),
                    format=item.get("format", "text"),
                    serial=bool(item.get("serial")),
                    label=item.get("label"),
                    question=item.get("question"),
                    ask=item.get("ask"),
                    evidence=item.get("why", f"按准入词表“{item['match']}”"),
                )
                break
        added = schema.fields[rec.field].report if rec.field and rec.confidence >= SURE else None
        if result is None and added and rec.field:  # a field an admission added to the model
            spec = schema.fields[rec.field]
            result = Classified(
                index,
                col.header,
                col.note,
                "new" if added == own else "shared",
                expr=extension_expr(rec.field, spec.entity, entity),
                codelist=spec.codelist,
                field=rec.field,
                label=spec.label,
                shared_with=None if added == own else added,
                confidence=rec.confidence,
                evidence=f"{added} 准入时已新增“{spec.label}”，乡镇已在一张表中填报",
            )
        counted_header = bool(_COUNT_WORDS.search(text)) and (
            rec.field is None or schema.fields[rec.field].type not in ("integer", "money")
        )  # 当月低保对象人数 is a count, not 是否保障对象
        yes_no = text.startswith("是否") and (
            rec.guess is None or schema.fields[rec.guess].codelist != "bool"
        )  # 是否纳入特困供养: a yes/no the model does not hold
        if result is None and yes_no:
            result = Classified(
                index,
                col.header,
                col.note,
                "new",
                label=col.path[-1],
                evidence="是/否项，台账中没有对应的身份",
            )
        if (
            result is None
            and rec.field
            and rec.confidence >= SURE
            and rec.field in FIELD_EXPR
            and not counted_header
        ):
            expr, codelist, fmt = FIELD_EXPR[rec.field]
            if codelist and re.search(r"代码$", text):
                codelist = None  # 性别代码: the code itself, not its label
            result = Classified(
                index,
                col.header,
                col.note,
                "model",
                expr=_alias(expr, entity),
                codelist=codelist,
                format=fmt,
                field=rec.field,
                label=schema.fields[rec.field].label,
                confidence=rec.confidence,
                evidence=rec.evidence,
            )
        if result is None and rec.field == "remark":
            result = Classified(index, col.header, col.note, "form", evidence="备注栏留空，不要求乡镇填报")
        if result is None and norm and _AGE.match(norm[-1]):
            result = Classified(
                index,
                col.header,
                col.note,
                "caliber",
                expr="age_on(p.birth_date, ctx.ref_date)",
                format="integer",
                label="年龄（周岁）",
                question="age",
                ask="年龄按哪一天计算周岁（报表期末、年末，还是按“当年减出生年份”）？",
                evidence="年龄由出生日期推算",
            )
        if result is None:
            counted = _count(norm, raw)
            if counted is not None:
                counted.index, counted.header, counted.note = index, col.header, col.note
                counted.evidence = "汇总栏目：由台账按条件计数"
                result = counted
        header_says = matcher.path_scores(norm).get(rec.guess or "", 0.0)  # the header's own evidence
        if (
            result is None
            and rec.guess
            and rec.guess in FIELD_EXPR
            and rec.confidence >= ASK_FROM
            and header_says >= HEADER_ASK
            and not counted_header
        ):
            expr, codelist, fmt = FIELD_EXPR[rec.guess]
            label = schema.fields[rec.guess].label
            result = Classified(
                index,
                col.header,
                col.note,
                "caliber",
                expr=_alias(expr, entity),
                codelist=codelist,
                format=fmt,
                field=rec.guess,
                label=label,
                question="confirm",
                ask=f"该栏是否即台账中的“{label}”？",
                confidence=rec.confidence,
                evidence=rec.evidence,
            )
        if result is None:
            hit = _shared(col.path, extra_fields or [])
            if hit is not None:
                result = Classified(
                    index,
                    col.header,
                    col.note,
                    "shared",
                    expr=extension_expr(hit["field_key"], _entity_of(schema, hit["field_key"]), entity),
                    field=hit["field_key"],
                    label=hit["label"],
                    shared_with=hit["report_id"],
                    evidence=f"{hit['report_id']} 准入时已新增“{hit['label']}”，乡镇已在一张表中填报",
                )
        if result is None:
            result = Classified(
                index,
                col.header,
                col.note,
                "new",
                label=col.path[-1] if col.path else col.header,
                evidence="台账和已准入报表中均无此项",
            )
        out.append(result)
    return entity, out


def _entity_of(schema: Schema, key: str) -> str | None:
    spec = schema.fields.get(key)
    return spec.entity if spec is not None and spec.report else None


def extension_expr(key: str, field_entity: str | None, draft_entity: str) -> str | None:
    """How a spec reads an admitted field: ``px.<key>`` (a person's, for a person or household draft)
    or ``bx.<key>`` (a business's); None when the draft's rows are not of that entity."""
    from hub.extension import VIEW_ALIAS

    rows = "business" if draft_entity == "business" else "person"
    if field_entity != rows:
        return None
    return f"{VIEW_ALIAS[rows][1]}.{key}"


def _strings(values: list[str | None]) -> Any:
    """A string array built from its buffers: ``pa.array`` on a list would import pandas (seconds, in
    a fresh `hub admission` process) only to learn that a list is not a DataFrame."""
    import array

    import pyarrow as pa

    offsets, data, valid = array.array("i", [0]), bytearray(), bytearray((len(values) + 7) // 8)
    for i, v in enumerate(values):
        if v is not None:
            data += v.encode("utf-8")
            valid[i // 8] |= 1 << (i % 8)
        offsets.append(len(data))
    buffers = [pa.py_buffer(bytes(valid)), pa.py_buffer(offsets.tobytes()), pa.py_buffer(bytes(data))]
    return pa.Array.from_buffers(pa.string(), len(values), buffers)


def _key(text: str) -> str:
    return normalise_header(text) or text.strip()


def _shared(path: list[str], extra: list[dict[str, Any]]) -> dict[str, Any] | None:
    from rapidfuzz import fuzz

    label = _key(path[-1]) if path else ""
    best, score = None, 0.0
    for f in extra:
        s = fuzz.ratio(label, _key(f["label"]))
        if s > score:
            best, score = f, s
    return best if best is not None and score >= 85 else None


_ALIAS = re.compile(r"\b(?:p|h|hp|m|d|dm)\.")  # the person's world; b. (a business) stays apart


def signature(c: Classified, population: str = "") -> str | None:
    """What a column delivers, comparable across reports (aliases dropped): its expression, or the
    field it shares. A count or an amount means something only with its population (低保对象人数 is
    not 高龄老人人数), so theirs carries it."""
    of = f"@{population}" if c.question in ("count", "amount") else ""
    if c.question == "amount":
        return f"amount:{c.label}{of}"  # an amount by band: the same band and measure
    if c.kind in ("model", "caliber") and c.expr and not c.expr.startswith("CAST(NULL"):
        return _ALIAS.sub("", c.expr) + (f"|{c.codelist}" if c.codelist else "") + of
    if c.kind == "shared" and c.field:
        return f"extra:{c.field}"
    return None
