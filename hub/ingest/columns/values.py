"""What a column's values say it is: small registered detectors, one per semantic type.

Each detector takes a sample of a column's non-empty cells (as written) and returns the share of them
that look like its type, in [0, 1]. :data:`DETECTORS` maps a detector's name to its function;
:func:`field_detectors` says which detector speaks for which canonical field, and how much its word
weighs (an 18-character string with a valid GB 11643 check digit is an ID whatever its header; 2–4
Chinese characters are only probably a name). Detectors for fields come from the field's ``type``
(``id_number``, ``uscc``, ``phone``, ``date``, ``code`` with its code list, ``money``, ``integer``,
``division``, ``disability_cert``) or, for text fields, from its ``detect`` key in ``fields.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hub.ingest.kinds import GENERIC_ENTITIES
from hub.model import Schema, fold
from hub.standards.ids import clean_id_text, id_check_char

Detector = Callable[[Sequence[str]], float]
DETECTORS: dict[str, Detector] = {}


def detector(name: str) -> Callable[[Detector], Detector]:
    def register(fn: Detector) -> Detector:
        DETECTORS[name] = fn
        return fn

    return register


def _share(values: Sequence[str], test: Callable[[str], bool]) -> float:
    return sum(1 for v in values if test(v)) / len(values) if values else 0.0


_ID_RE = re.compile(r"^\d{17}[\dX]$")
_ID15_RE = re.compile(r"^\d{15}$")
_LOST_RE = re.compile(r"^\d(\.\d+)?E\+1[4-7]$", re.I)


def _id_like(v: str) -> bool:
    t = clean_id_text(v) or ""
    if _ID_RE.match(t):
        return id_check_char(t[:17]) == t[17] or t[6:8] in ("19", "20")
    return bool(_ID15_RE.match(t) or _LOST_RE.match(t))


@detector("id_number")
def _ids(values: Sequence[str]) -> float:
    return _share(values, _id_like)


@detector("uscc")
def _usccs(values: Sequence[str]) -> float:
    from hub.standards.uscc import check_uscc

    return _share(values, lambda v: check_uscc(v).value is not None)


_MOBILE = re.compile(r"^(\+?86)?1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^(\(?0\d{2,3}\)?)?[2-9]\d{6,7}$")


@detector("phone")
def _phones(values: Sequence[str]) -> float:
    def ok(v: str) -> bool:
        parts = [re.sub(r"[\s\-()（）]", "", p) for p in re.split(r"[,，/、;；]", fold(v)) if p.strip()]
        return bool(parts) and all(_MOBILE.match(p) or _LANDLINE.match(p) for p in parts)

    return _share(values, ok)


@detector("date")
def _dates(values: Sequence[str]) -> float:
    from hub.standards.dates import parse_date

    def ok(v: str) -> bool:
        text = v.strip()
        if text.isdigit() and len(text) not in (5, 6, 8):
            return False
        return parse_date(text)[0] is not None

    return _share(values, ok)


_MONEY = re.compile(r"^[¥￥]?\d{1,7}(,\d{3})*(\.\d{1,2})?(元|元/月|元/人)?$")


@detector("money")
def _money(values: Sequence[str]) -> float:
    share = _share(values, lambda v: bool(_MONEY.match(fold(v))))
    money_like = any("." in v or "元" in v for v in values) or any(
        v.isdigit() and int(v) >= 50 for v in (fold(x) for x in values)
    )
    return share if money_like else share * 0.4


@detector("integer")
def _counts(values: Sequence[str]) -> float:
    def ok(v: str) -> bool:
        t = fold(v).removesuffix("人").removesuffix("口")
        return t.isdigit() and 0 <= int(t) <= 20

    return _share(values, ok)


_CERT = re.compile(r"^\d{17}[\dX][1-7][1-4](B\d)?$")


@detector("disability_cert")
def _certs(values: Sequence[str]) -> float:
    return _share(values, lambda v: bool(_CERT.match((clean_id_text(v) or "").upper())))


_HAN_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{1,6}[·•][\u4e00-\u9fff]{1,8}$")
_NOTE = re.compile(r"[(（][^)）]*[)）]$")


# The most frequent surnames (about nine in ten residents carry one of them), and compound ones.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任"
    "卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付傅方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫"
    "孔向常汤康易乔赖文施洪牛樊葛邢安齐庞颜倪温芦俞章鲁伍申尤毕聂柴焦甘祝包左涂饶卜骆单冉翁阮桂柯凌管费"
    "卓蒙池童岳殷詹欧郎胥蓝游商裴苗窦鲍滕阎柳米关宁祁梅楼应舒华符车谷霍俞薄"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "慕容", "令狐", "夏侯")


def _person_name(v: str) -> bool:
    t = _NOTE.sub("", fold(v))
    return bool(_HAN_NAME.match(t)) and (t[0] in SURNAMES or t.startswith(COMPOUND_SURNAMES) or "·" in t)


@detector("person_name")
def _names(values: Sequence[str]) -> float:
    """Share of cells that are a person's name: 2–4 Chinese characters starting with a common
    surname (or a name with a middle dot), discounted when few values are distinct (初中, 汉族,
    健康 repeat down a column; names do not)."""
    share = _share(values, _person_name)
    distinct = len(set(values)) / len(values) if values else 0.0
    return share * min(1.0, 1.5 * distinct) if len(values) >= 5 else share


_BUSINESS = re.compile(
    r"(公司|店|超市|商行|商店|经营部|门市部|厂|馆|中心|坊|行|合作社|铺|场|站|部|园|吧|院|室|所|庄|汽修|批发|"
    r"诊所|药房|食品|服务|五金|百货|餐饮|小吃|理发|美容|维修|建材|家电|农资|便利)"
)


@detector("business_name")
def _businesses(values: Sequence[str]) -> float:
    def ok(v: str) -> bool:
        t = fold(v)
        return len(t) >= 3 and bool(_BUSINESS.search(t)) and not _VILLAGE.search(t)

    return _share(values, ok)


_ADDRESS = re.compile(r"(路|街|号|组|弄|巷|幢|栋|单元|室|村.+|镇.+|乡.+|区.+|县.+|社区.+|小区|大道|楼)")


@detector("address")
def _addresses(values: Sequence[str]) -> float:
    return _share(values, lambda v: len(fold(v)) >= 5 and bool(_ADDRESS.search(fold(v))))


_VILLAGE = re.compile(r"(村|社区|居委会|村委会|居民委员会|村民委员会|居委|村委)$")


def village_detector(known: frozenset[str]) -> Detector:
    """Share of cells naming a village or community: one of the loaded divisions (``known``: their
    names with and without suffix), or a short name ending in 村/社区/居委会…"""

    def share(values: Sequence[str]) -> float:
        return _share(
            values, lambda v: (t := fold(v)) in known or (len(t) <= 12 and bool(_VILLAGE.search(t)))
        )

    return share


def codelist_detector(lookup: dict[str, str]) -> Detector:
    """Share of cells spelled as a code, label or alias of the code list; bare digits count a third
    (``1``/``2`` could be sex, a count or anything)."""

    def share(values: Sequence[str]) -> float:
        if not values:
            return 0.0
        hits = 0.0
        for v in values:
            key = fold(v)
            if key in lookup:
                hits += 0.35 if key.isdigit() else 1.0
        return hits / len(values)

    return share


@dataclass(frozen=True)
class FieldDetector:
    name: str
    weight: float  # how far the detector's word alone goes for this field
    fn: Detector


# How much each detector's word weighs for a field, when its values fit. A detector that fits
# several fields (dates, counts, names) weighs less: the header has to tell which.
_WEIGHTS = {
    "id_number": 0.9,
    "uscc": 0.95,
    "phone": 0.9,
    "disability_cert": 0.95,
    "village": 0.85,
    "business_name": 0.85,
    "address": 0.7,
    "person_name": 0.55,
    "money": 0.5,
    "integer": 0.35,
}
_DATE_WEIGHTS = {"birth_date": 0.5}  # other date fields: 0.25
_CODE_WEIGHTS = {
    "sex": 0.85,
    "ethnicity": 0.9,
    "relation": 0.9,
    "disability_category": 0.85,
    "marital_status": 0.85,
    "dibao_category": 0.75,
    "disability_level": 0.6,
    "person_status": 0.5,
    "covered": 0.35,
}


def field_detectors(schema: Schema, village_names: frozenset[str] = frozenset()) -> dict[str, FieldDetector]:
    """The detector that speaks for each canonical field that has one."""
    out: dict[str, FieldDetector] = {}
    villages = village_detector(village_names)
    for name, spec in schema.fields.items():
        kind = spec.detect or spec.type
        if spec.type == "code" and spec.codelist:
            fn = codelist_detector(schema.codelists[spec.codelist].lookup())
            out[name] = FieldDetector(f"code:{spec.codelist}", _CODE_WEIGHTS.get(name, 0.6), fn)
        elif spec.type == "date":
            out[name] = FieldDetector("date", _DATE_WEIGHTS.get(name, 0.25), DETECTORS["date"])
        elif kind == "division":
            out[name] = FieldDetector("village", _WEIGHTS["village"], villages)
        elif kind in DETECTORS:
            weight = _WEIGHTS.get(kind, 0.5)
            if kind in ("money", "integer") and spec.entity not in GENERIC_ENTITIES:
                weight = min(weight, 0.4)  # an amount alone is no 低保 amount: the header must say so
            if name in ("head_id_number", "head_name", "operator_name"):
                weight *= 0.85  # the role comes from the header, the group or the neighbours
            out[name] = FieldDetector(kind, weight, DETECTORS[kind])
    return out
