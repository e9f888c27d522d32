"""How much a header names each canonical field, from its text alone.

A header is normalised first (:mod:`hub.ingest.columns.normalise`). Then, the best of:

* **exact**: the core words, or the core with its bracketed note, are a synonym or label → 1.0;
* **role word**: a role word of ``role_groups`` (户主, 申请人, 经营者, 法定代表人…) inside the header
  and the rest naming a field the role remaps (``申请人身份证号`` → head_id_number, ``商户经营者`` →
  operator_name): 0.95 × the rest's score; a role word alone takes the role's ``name`` field;
* **compound**: ``统一社会信用代码、税号``, ``户籍地址或居住地址``: each part on its own, × 0.9;
* **contained**: a synonym (or a field's ``terms``) inside the header, or the header inside a
  synonym, scored by how much of the header it covers (0.55–0.95);
* **similar**: character similarity to a synonym (rapidfuzz ``ratio``), × 0.7, from 60 % up.

Group headers above a column (``户主情况 / 姓名``) apply their role the same way. A header that is
one of ``ignored_headers`` (序号, 年龄…), or contains one of ``ignored_terms`` (银行, 账号…) without
being a field's exact synonym, scores :data:`IGNORED` and names no field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from hub.ingest.columns.normalise import full_header, split_header
from hub.ingest.kinds import GENERIC_ENTITIES
from hub.model import Schema

IGNORED = "_ignored"
_PARTS = re.compile(r"[、/或及和与,，;；+＋]|以及")
_RELATION_TO = re.compile(r"^与(.+?)的?关系$")
_HEAD_WORDS = frozenset({"户主", "申请人", "申请对象", "本人", "户长", "户主或申请人"})


@dataclass(frozen=True)
class _Role:
    words: tuple[str, ...]  # longest first
    fields: dict[str, str]  # base field → the field in this role ("*": every other field)

    def of(self, f: str) -> str:
        """The field ``f`` is in this role; ``-`` in the schema (a fact of the role's person the model
        has no place for: 经营者民族, anything of a 联络员 or 监护人) is :data:`IGNORED`."""
        if f == IGNORED:
            return f
        out = self.fields.get(f, self.fields.get("*", f))
        return IGNORED if out == "-" else out

    @property
    def distinct(self) -> bool:
        """Does the role's name name another field (户主 → head_name), not the row's own person?"""
        return self.of("name") != "name"


class HeaderMatcher:
    """Header text → ``{field: score}`` (see the module docstring). Built once per schema."""

    def __init__(self, schema: Schema) -> None:
        self.synonyms: dict[str, str] = {}
        for name, spec in schema.fields.items():
            for s in (spec.label, *spec.synonyms):
                for key in {full_header(s), split_header(s)[0]}:
                    if key:
                        self.synonyms.setdefault(key, name)
        for code, header in schema.element_codes.items():  # XBDM reads as 性别代码 (fields.yaml)
            field = self.synonyms.get(full_header(header)) or self.synonyms.get(
                full_header(header.removesuffix("代码"))
            )
            if field:
                self.synonyms.setdefault(full_header(code), field)
        self.terms = {
            split_header(t)[0]: name for name, spec in schema.fields.items() for t in spec.terms if t
        }
        self.ignored = frozenset(
            k for h in schema.ignored_headers for k in (full_header(h), split_header(h)[0])
        )
        self.ignored_terms = tuple(split_header(t)[0] for t in schema.ignored_terms if t)
        self.roles = tuple(
            _Role(tuple(sorted({split_header(w)[0] for w in g.words}, key=len, reverse=True)), dict(g.fields))
            for g in schema.role_groups
        )
        self._keys = list(self.synonyms)
        # A field of one programme (低保, 残疾, 市场主体) is not named by a part of its synonym or a
        # look-alike that lacks the programme's own term: 发放金额 is any subsidy, not 月发放金额 of 低保.
        self.own_terms = {
            name: tuple(split_header(t)[0] for t in spec.terms if t)
            for name, spec in schema.fields.items()
            if spec.entity not in GENERIC_ENTITIES and spec.terms
        }
        self.scores = lru_cache(maxsize=16384)(self._scores)

    @classmethod
    def from_schema(cls, schema: Schema) -> HeaderMatcher:
        return _matcher(schema)

    # -- one header cell ------------------------------------------------------------------------
    def _exact(self, text: str) -> str | None:
        core, notes = split_header(text)
        return self.synonyms.get(full_header(text)) or self.synonyms.get(core) if core or notes else None

    def _scores(self, text: str) -> dict[str, float]:
        core, _notes = split_header(text)
        if not core:
            return {}
        if full_header(text) in self.ignored or core in self.ignored:
            return {IGNORED: 1.0}
        exact = self._exact(text)
        if exact:
            return {exact: 1.0}
        if any(t in core for t in self.ignored_terms) or self._other_relation(core):
            return {IGNORED: 1.0}
        out: dict[str, float] = {}

        def put(f: str, v: float) -> None:
            if v > out.get(f, 0.0):
                out[f] = v

        for role in self.roles:
            word = next((w for w in role.words if w in core), None)
            if word is None:
                continue
            rest = core.replace(word, "", 1)
            named = self._loose(rest) if rest else {}
            if role.distinct and (not rest or (core.endswith(word) and not named)):
                put(role.of("name"), 0.9)  # 户主, 商户经营者: the role noun is the concept
            for f, v in named.items():
                # 申请人身份证号 is the head's; 经营者民族 names no field of a business
                put(role.of(f), 1.0 if role.of(f) == IGNORED else 0.95 * v)
        parts = [p for p in _PARTS.split(core) if p]
        if len(parts) > 1:
            for p in parts:
                whole = self.synonyms.get(p)
                if whole:
                    put(whole, 0.9)
                for f, v in self._loose(p, similar=False).items():
                    put(f, 0.85 * v)
        for f, v in self._loose(core).items():
            put(f, v)
        return out

    def _other_relation(self, core: str) -> bool:
        """与牺牲病故军人关系, 与被监护人关系: a relation to someone other than the household's head
        (与户主关系, 与申请人关系, 与本人关系) names no field."""
        m = _RELATION_TO.match(core)
        return m is not None and m.group(1) not in _HEAD_WORDS

    def _loose(self, core: str, similar: bool = True) -> dict[str, float]:
        """Containment and similarity scores of a core text (no exact match, no roles)."""
        out: dict[str, float] = {}
        exact = self.synonyms.get(core)
        if exact:
            return {exact: 1.0}
        n = len(core)
        for key, f in self.synonyms.items():
            if len(key) >= 2 and key in core:
                v = 0.55 + 0.4 * len(key) / n
            elif n >= 3 and core in key and self._owns(f, core):  # 是否 is in 是否健在 and 是否享受
                v = 0.45 + 0.4 * n / len(key)
            else:
                continue
            out[f] = max(out.get(f, 0.0), v)
        for term, f in self.terms.items():
            if term in core:
                out[f] = max(out.get(f, 0.0), 0.65 + 0.3 * len(term) / n)
        if similar and n >= 2:
            from rapidfuzz import fuzz, process

            for key, ratio, _ in process.extract(
                core, self._keys, scorer=fuzz.ratio, limit=5, score_cutoff=60
            ):
                f = self.synonyms[key]
                if self._owns(f, core):
                    out[f] = max(out.get(f, 0.0), 0.7 * ratio / 100)
        return out

    def _owns(self, f: str, core: str) -> bool:
        terms = self.own_terms.get(f)
        return terms is None or any(t in core for t in terms)

    def owns(self, f: str, header: str) -> bool:
        """Does the header hold one of the programme field ``f``'s own terms (any field of a
        person, household or membership owns every header)?"""
        return self._owns(f, split_header(header)[0])

    # -- a header path ----------------------------------------------------------------------------
    def path_scores(self, segments: list[str]) -> dict[str, float]:
        """Scores of a flattened header path: its last segment, with the roles of the groups above
        it applied; the whole path joined when the last segment names nothing."""
        if not segments:
            return {}
        scores = dict(self.scores(segments[-1]))
        if not scores and len(segments) > 1:
            scores = dict(self.scores("".join(segments)))
        # The role a group names is its last role word: 申请人家庭成员情况 is the members' group.
        group = "".join(split_header(s)[0] for s in segments[:-1])
        ends = [
            (max((group.rfind(w) + len(w) for w in r.words if w in group), default=-1), r) for r in self.roles
        ]
        end, role = max(ends, key=lambda t: t[0], default=(-1, None))
        if role is not None and end >= 0:
            mapped: dict[str, float] = {}
            for f, v in scores.items():
                g = role.of(f)
                mapped[g] = max(mapped.get(g, 0.0), 1.0 if g == IGNORED else v)
            scores = mapped
        return scores

    def best(self, text: str) -> tuple[str | None, float]:
        scores = self.scores(text)
        if not scores:
            return None, 0.0
        f = max(scores, key=lambda k: scores[k])
        return f, scores[f]

    # -- what the layout step asks ------------------------------------------------------------------
    def lookup(self, text: str, bar: float = 0.8) -> str | None:
        """The field a header cell names with at least ``bar`` (header alone), else None."""
        f, v = self.best(text)
        return f if f and f != IGNORED and v >= bar else None

    def is_ignored(self, text: str) -> bool:
        return self.best(text)[0] == IGNORED

    def is_known(self, text: str) -> bool:
        return self.lookup(text) is not None or self.is_ignored(text)

    def is_group(self, text: str) -> bool:
        """A group header over columns: 户主情况, 经营者信息, 家庭成员情况… (short, naming a role that
        changes fields, or one of ``ignored_headers``); a title such as 2026年低保对象花名册 is not."""
        core = split_header(text)[0]
        if core in self.ignored:
            return True
        distinct = [w for role in self.roles if role.distinct for w in role.words]
        return len(core) <= 8 and any(w in core for w in distinct)

    def field_of_path(self, segments: list[str], bar: float = 0.8) -> str | None:
        scores = self.path_scores(segments)
        if not scores:
            return None
        f = max(scores, key=lambda k: scores[k])
        return f if f != IGNORED and scores[f] >= bar else None


_MATCHERS: dict[int, tuple[Schema, HeaderMatcher]] = {}


def _matcher(schema: Schema) -> HeaderMatcher:
    """One matcher per loaded schema (schemas are loaded once and kept, see :func:`load_schema`)."""
    hit = _MATCHERS.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = _MATCHERS[id(schema)] = (schema, HeaderMatcher(schema))
    return hit[1]
