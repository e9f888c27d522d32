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

from typing import TYPE_CHECKING

from hub.ingest.columns.headers import IGNORED, HeaderMatcher
from hub.ingest.columns.values import FieldDetector
from hub.ingest.types import SURE, Column

if TYPE_CHECKING:
    import pyarrow as pa

    from hub.model import Schema

ASK_FROM = 0.45  # below this a column names no field (listed as unused, not asked)
SAMPLE = 300  # non-empty cells read per column
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
                "表头为不入库的列（序号、年龄等）",
            )
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

    _roles(scored, data)
    candidates: list[tuple[float, int, str]] = []
    for i, (guess, hs, vs) in enumerate(scored):
        if guess.source == "ignored":
            continue
        conf = _combine(hs, vs, detectors, sizes[i])
        ranked = sorted(conf.items(), key=lambda kv: -kv[1])
        guess.alternatives = [(f, round(c, 2)) for f, c in ranked[:4]]
        candidates += [(c, i, f) for f, c in ranked if c >= ASK_FROM]
    _person_context(scored, candidates)
    _business_context(scored, candidates)

    taken: set[str] = set()
    placed: set[int] = set()
    for best, i, f in sorted(candidates, key=lambda t: (-t[0], t[1])):
        if f in taken or i in placed:
            continue
        guess, hs, vs = scored[i]
        taken.add(f)
        placed.add(i)
        guess.field = guess.guess = f
        guess.confidence = round(best, 3)
        guess.source, guess.evidence = _evidence(schema, f, hs.get(f, 0.0), vs.get(f, 0.0), detectors)
        guess.alternatives = [(a, c) for a, c in guess.alternatives if a != f][:3]
    return [g for g, _, _ in scored]


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
    persons = any(f == "id_number" and c >= SURE for c, f in top.values())
    if not (coded or (shops and not persons)):
        return
    if any(f == "operator_name" and c >= SURE for c, f in top.values()):
        return
    extra = [(c, i, "operator_name") for c, i, f in candidates if f in ("name", "head_name")]
    candidates[:] = [
        (c * 0.9, i, f) if f in ("name", "head_name") else (c, i, f) for c, i, f in candidates
    ] + extra


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
