"""One field per column over the whole sheet, from header, values and neighbours, with a confidence.

For every column and field: ``h`` (header score, :mod:`~hub.ingest.columns.headers`) and ``v`` (the
share of sampled values its detector accepts, weighted by how much that detector says,
:mod:`~hub.ingest.columns.values`) combine as independent evidence, ``1 − (1 − h)(1 − w·v)``. A header
that only resembles a field while the values contradict it (fewer than 30 % fit) counts half; an
exact header whose values are clearly another type (≥ 80 % another strong detector, < 10 % its own)
drops to :data:`ASK_FROM` + 0.2 so that the clerk is asked. Neighbours decide roles: with two ID
columns the one repeated down each household is the head's; in a sheet with a business (USCC or
business name), a person's name is the operator's. Then a greedy assignment, best first, gives every
field to at most one column and every column at most one field (roles are fields of their own:
name / head_name / operator_name). A column placed with less than :data:`SURE` is asked.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hub.ingest.columns.headers import IGNORED, HeaderMatcher
from hub.ingest.columns.normalise import split_header
from hub.ingest.columns.values import FieldDetector
from hub.ingest.types import SURE, Column, twins_allowed

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.model import Schema

ASK_FROM = 0.45  # below this a column names no field (listed as unused, not asked)
SAMPLE = 300  # non-empty cells read per column
TWIN_HEADER = 0.7  # a second column of a taken field: its own header must name the field this well
STRONG = ("id_number", "uscc", "phone", "disability_cert")


def _sample(col: pa.ChunkedArray) -> list[str]:
    import pyarrow.compute as pc

    values = pc.drop_null(col.slice(0, SAMPLE * 4)).to_pylist()
    out = [
        s for v in values if (s := str(v).strip()) and s not in ("无", "/", "—", "-", "——", "暂无", "不详")
    ]
    return out[:SAMPLE]


def _repeats(col: pa.ChunkedArray) -> float:
    """Share of non-empty cells equal to the cell above (a head's ID repeated down the members)."""
    values = col.slice(0, SAMPLE * 4).to_pylist()
    pairs = [(a, b) for a, b in zip(values, values[1:], strict=False) if b]
    return sum(1 for a, b in pairs if a == b) / len(pairs) if pairs else 0.0


def recognise(
    paths: list[tuple[int, list[str]]],
    data: pa.Table,
    schema: Schema,
    matcher: HeaderMatcher,
    detectors: dict[str, FieldDetector],
) -> list[Column]:
    """Columnes for the columns ``paths`` (``(col_index, header segments)``) of the data rows ``data``
    (text columns ``c<i>``)."""
    import pyarrow.compute as pc

    rows = data.num_rows
    scored: list[tuple[Column, dict[str, float], dict[str, float]]] = []
    sizes: list[int] = []
    for index, segments in paths:
        col = data[f"c{index}"]
        sample = _sample(col)
        header = "/".join(segments)
        filled = pc.count(col).as_py() / rows if rows else 0.0
        guess = Column(
            index, header, None, 0.0, source="none", samples=list(dict.fromkeys(sample))[:3], filled=filled
        )
        hs = matcher.path_scores(segments)
        if hs.get(IGNORED):
            guess.source, guess.confidence, guess.evidence = (
                "ignored",
                1.0,
                "表头为不入库的列（序号、年龄、银行账号等）",
            )
            scored.append((guess, {}, {}))
            sizes.append(0)
            continue
        listed = _listed(sample, detectors)
        if listed:
            guess.source, guess.confidence, guess.evidence = "list", 1.0, listed
            scored.append((guess, {}, {}))
            sizes.append(0)
            continue
        cache: dict[str, float] = {}
        vs = {}
        if len(sample) >= 1:
            for f, det in detectors.items():
                if det.name not in cache:
                    cache[det.name] = det.fn(sample)
                if cache[det.name] > 0:
                    vs[f] = cache[det.name]
        scored.append((guess, hs, vs))
        sizes.append(len(sample))

    _own_numbers(scored)
    _programme_context(scored, matcher, schema, detectors)
    _roles(scored, data)
    candidates: list[tuple[float, int, str]] = []
    for i, (guess, hs, vs) in enumerate(scored):
        if guess.source == "ignored":
            continue
        conf = _combine(hs, vs, detectors, sizes[i])
        # ties in name order: ``conf`` comes from a set, whose order changes from one process to the next
        ranked = sorted(conf.items(), key=lambda kv: (-kv[1], kv[0]))
        guess.alternatives = [(f, round(c, 2)) for f, c in ranked[:4]]
        candidates += [(c, i, f) for f, c in ranked if c >= ASK_FROM]
    _person_context(scored, candidates)
    _business_context(scored, candidates)

    owner: dict[str, int] = {}  # field → the column that took it
    placed: set[int] = set()
    # Ties (法定代表人 and 负责人, 经营者姓名 and a 附表's 姓名): the header that holds the field's own
    # term first, then the left-most column, so that the column order never decides the answer.
    ranked_all = sorted(
        candidates,
        key=lambda t: (
            -round(t[0], 6),
            not matcher.owns(t[2], scored[t[1]][0].header.rsplit("/", 1)[-1]),
            t[1],
            t[2],  # two fields tied in one column: name order, the same in every process
        ),
    )
    # Twins: a column whose own header names a field already taken (户籍地址 beside 居住地址, 家庭人口
    # beside 家庭人口数, 是否享受低保 beside 是否是低保对象) holds that field too, unless it is an
    # identity field (two roles, not twins). It is decided in the same best-first pass, so that a
    # twin never falls to a weaker field its values also fit (是/否 is also a 人员状态 code).
    twins: list[tuple[int, str]] = []
    for best, i, f in ranked_all:
        if i in placed:
            continue
        if f not in owner:
            owner[f] = i
        elif not (twins_allowed(f) and best >= SURE and scored[i][1].get(f, 0.0) >= TWIN_HEADER):
            continue
        else:
            twins.append((i, f))
        placed.add(i)
        _place(scored[i], f, best, schema, detectors)
    for i, f in twins:
        first = scored[owner[f]][0]
        scored[i][
            0
        ].evidence += (
            f"；与{first.letter()}列同为“{schema.fields[f].label}”，两列合并：每行取左边第一个有值的格"
        )
    return [g for g, _, _ in scored]


def _place(
    entry: tuple[Column, dict[str, float], dict[str, float]],
    f: str,
    best: float,
    schema: Schema,
    detectors: dict[str, FieldDetector],
) -> None:
    guess, hs, vs = entry
    guess.field = guess.guess = f
    guess.confidence = round(best, 3)
    guess.source, guess.evidence = _evidence(schema, f, hs.get(f, 0.0), vs.get(f, 0.0), detectors)
    guess.alternatives = [(a, c) for a, c in guess.alternatives if a != f][:3]


_LIST = re.compile(r"[、,，;；\n]+")


def _listed(sample: list[str], detectors: dict[str, FieldDetector]) -> str | None:
    """A column whose cells list several people (``邓浩然、邓静``, several ID numbers) is a roster
    inside a cell, not one field: it is kept in the raw rows and named, never asked about."""
    many = [parts for v in sample if len(parts := [p for p in _LIST.split(v) if p.strip()]) > 1]
    if len(many) < max(2, 0.3 * len(sample)):
        return None
    parts = [p.strip() for ps in many for p in ps][:SAMPLE]
    for f, what in (("id_number", "身份证号码"), ("name", "人名")):
        det = detectors.get(f)
        if det is not None and det.fn(parts) >= 0.8:
            return f"每格是多个{what}的名单（如“{'、'.join(many[0][:2])}”），不拆分入库，原样保留在原始数据中"
    return None


def _combine(
    hs: dict[str, float], vs: dict[str, float], detectors: dict[str, FieldDetector], sampled: int
) -> dict[str, float]:
    out: dict[str, float] = {}
    strong_other = max(
        (v * detectors[f].weight for f, v in vs.items() if detectors[f].name in STRONG), default=0.0
    )
    for f in {*hs, *vs}:
        h, v = hs.get(f, 0.0), vs.get(f, 0.0)
        det = detectors.get(f)
        w = det.weight if det else 0.0
        if det is not None and h < 1.0 and v < 0.3 and sampled >= 3:
            h *= 0.5  # the header only resembles the field and the values disagree
        conf = 1 - (1 - h) * (1 - w * v)
        if h >= 1.0 and det is not None and v < 0.1 and strong_other >= 0.8:
            conf = ASK_FROM + 0.2  # 'the header says X, the values are clearly Y': ask
        out[f] = conf
    return out


def _roles(scored: list[tuple[Column, dict[str, float], dict[str, float]]], data: pa.Table) -> None:
    """Two or more ID columns: the one repeated down each household is the head's."""
    ids = [(g, hs, vs) for g, hs, vs in scored if vs.get("id_number", 0) >= 0.8]
    if len(ids) == 1:
        _lone_head_id(ids[0], scored, data)
    if len(ids) < 2:
        return
    named = {
        g.col_index for g, hs, _ in ids if max(hs, key=hs.__getitem__, default=None) in ("head_id_number",)
    }
    repeats = {g.col_index: _repeats(data[f"c{g.col_index}"]) for g, _, _ in ids}
    head = max(repeats, key=repeats.__getitem__)
    if named or repeats[head] < 0.15:
        return
    for g, hs, _ in ids:
        if g.col_index == head:
            hs["head_id_number"] = max(hs.get("head_id_number", 0.0), 0.85)
            hs.pop("id_number", None)
        else:
            hs["id_number"] = max(hs.get("id_number", 0.0), 0.6)


def _lone_head_id(
    entry: tuple[Column, dict[str, float], dict[str, float]],
    scored: list[tuple[Column, dict[str, float], dict[str, float]]],
    data: pa.Table,
) -> None:
    """One ID column beside 户主姓名 and no other person's name: it is the head's. In a roster of
    members under their head (户主姓名 and 姓名 columns both named): when it follows the head's name (filled only on the head's row, or repeated down the family
    while the members' names change), it is the head's ID, not every member's."""
    g, hs, _ = entry
    if hs.get("head_id_number", 0.0) >= SURE:
        return
    heads = [s[0] for s in scored if s[1].get("head_name", 0.0) >= SURE]
    members = [s[0] for s in scored if s[1].get("name", 0.0) >= SURE]
    if len(heads) == 1 and not any(s[1].get("name", 0.0) >= ASK_FROM for s in scored):
        # 户主姓名 is the only person the row names (冬春救助, 银行账号 rosters of households): the
        # one ID beside it is the head's
        hs.pop("id_number", None)
        hs["head_id_number"] = max(hs.get("head_id_number", 0.0), 0.9)
        return
    if len(heads) != 1 or not members:
        return
    rows = min(data.num_rows, SAMPLE * 4)
    ids, head, member = (
        data[f"c{c.col_index}"].slice(0, rows).to_pylist() for c in (g, heads[0], members[0])
    )
    pairs = [(i, h, m) for i, h, m in zip(ids, head, member, strict=True) if m]
    if len(pairs) < 4:
        return
    where = sum(1 for i, h, _ in pairs if (i is None) == (h is None)) / len(pairs)
    steps = list(zip(pairs, pairs[1:], strict=False))
    family = [(a, b) for a, b in steps if a[1] and a[1] == b[1]]  # consecutive rows of one head
    repeated = sum(1 for a, b in family if a[0] == b[0]) / len(family) if family else 0.0
    varied = sum(1 for a, b in family if a[2] != b[2]) / len(family) if family else 0.0
    head_rows = sum(1 for i, h, _ in pairs if h) < 0.8 * len(pairs)
    if (where >= 0.95 and head_rows) or (len(family) >= 3 and repeated >= 0.9 and varied >= 0.5):
        hs.pop("id_number", None)
        hs["head_id_number"] = max(hs.get("head_id_number", 0.0), 0.9)


_OWN_NUMBER = re.compile(r"(?:编号|编码|证号|证书号|证书|日期|时间|年月)$")
PROGRAMMES = ("dibao", "disability")  # the programmes of persons; a business has its own context
PROGRAMME_FREE = ("household_size",)  # 本户应登记人数 is a fact of any household (census, 临时救助)


def _own_numbers(scored: list[tuple[Column, dict[str, float], dict[str, float]]]) -> None:
    """A column headed as a document's own number (证书编号, 定期抚恤证编号, 优抚证书编号) or as a date
    (入境日期 written 20250312) holds that, not a phone, however much its digits look like a landline."""
    for guess, hs, vs in scored:
        core = split_header(guess.header.rsplit("/", 1)[-1])[0]
        if "phone" in vs and not hs.get("phone") and _OWN_NUMBER.search(core):
            del vs["phone"]


def _programme_context(
    scored: list[tuple[Column, dict[str, float], dict[str, float]]],
    matcher: HeaderMatcher,
    schema: Schema,
    detectors: dict[str, FieldDetector],
) -> None:
    """A programme's field named only by a generic word (批准日期, 等级, 证号: none of the field's own
    terms) is that programme's only when another column of the sheet names a field of the programme
    or holds its strong values: the 批准日期 of a 优抚 roster is no 低保 start date."""

    def own(i: int, f: str) -> bool:
        return matcher.owns(f, scored[i][0].header.rsplit("/", 1)[-1])

    present: dict[str, set[int]] = {}
    for i, (_guess, hs, vs) in enumerate(scored):
        for f in schema.fields:
            entity = schema.fields[f].entity
            if entity not in PROGRAMMES or f in PROGRAMME_FREE:
                continue
            by_header = hs.get(f, 0.0) >= SURE
            det = detectors.get(f)
            by_values = det is not None and det.name in STRONG and vs.get(f, 0.0) >= SURE
            if by_header or by_values:
                present.setdefault(entity, set()).add(i)
    for i, (_guess, hs, _vs) in enumerate(scored):
        for f in [
            f
            for f in hs
            if f in schema.fields and schema.fields[f].entity in PROGRAMMES and f not in PROGRAMME_FREE
        ]:
            if not own(i, f) and not present.get(schema.fields[f].entity, set()) - {i}:
                del hs[f]


def _tops(candidates: list[tuple[float, int, str]]) -> dict[int, tuple[float, str]]:
    """Each column's best candidate: what the column most likely is, for the neighbours' rules."""
    top: dict[int, tuple[float, str]] = {}
    for c, i, f in candidates:
        if i not in top or c > top[i][0]:
            top[i] = (c, f)
    return top


def _business_context(
    scored: list[tuple[Column, dict[str, float], dict[str, float]]], candidates: list[tuple[float, int, str]]
) -> None:
    """In a sheet of businesses (a USCC or registration number, or shop names and no person's ID),
    a person's name column is the operator's unless a column already says 经营者."""
    top = _tops(candidates)
    coded = any(f in ("uscc", "reg_no") and c >= SURE for c, f in top.values())
    shops = any(f == "business_name" and c >= SURE for c, f in top.values())
    persons = any(f in ("id_number", "head_id_number") and c >= SURE for c, f in top.values())
    if not (coded or (shops and not persons)):
        return
    if any(f == "operator_name" and c >= SURE for c, f in top.values()):
        return

    def names_a_person(i: int, f: str) -> bool:  # a header that says 户主/申请人 keeps its role
        return f in ("name", "head_name") and scored[i][1].get("head_name", 0.0) < SURE

    extra = [(c, i, "operator_name") for c, i, f in candidates if names_a_person(i, f)]
    candidates[:] = [(c * 0.9, i, f) if names_a_person(i, f) else (c, i, f) for c, i, f in candidates] + extra


def _person_context(
    scored: list[tuple[Column, dict[str, float], dict[str, float]]], candidates: list[tuple[float, int, str]]
) -> None:
    """In a sheet of persons (a sure ID or name, no USCC or registration number), a column is a
    business's only when its header says so exactly: 银行名称 is no shop, whatever its values."""
    top = _tops(candidates)
    person = any(f in ("id_number", "name") and c >= SURE for c, f in top.values())
    business = any(f in ("uscc", "reg_no") and c >= ASK_FROM for c, f in top.values())
    if not person or business:
        return
    candidates[:] = [
        t
        for t in candidates
        if t[2] not in ("business_name", "operator_name") or scored[t[1]][1].get(t[2], 0.0) >= 1.0
    ]


_DESCRIBE = {
    "id_number": "有效的身份证号码",
    "uscc": "有效的统一社会信用代码",
    "phone": "电话号码",
    "date": "日期",
    "money": "金额",
    "integer": "人数",
    "disability_cert": "残疾人证号",
    "person_name": "人名",
    "business_name": "商户名称",
    "address": "地址",
    "village": "村（社区）名称",
}


def _evidence(
    schema: Schema, f: str, h: float, v: float, detectors: dict[str, FieldDetector]
) -> tuple[str, str]:
    label = schema.fields[f].label
    parts = []
    if h >= 1.0:
        parts.append(f"表头即“{label}”")
    elif h > 0:
        parts.append(f"表头近似“{label}”")
    det = detectors.get(f)
    if v > 0 and det is not None:
        what = _DESCRIBE.get(det.name) or ("代码表“" + det.name.split(":", 1)[-1] + "”中的值")
        parts.append(f"{v:.0%} 的值是{what}")
    source = "header+values" if h > 0 and v > 0 else "header" if h > 0 else "values"
    return source, "；".join(parts)
