"""Administrative divisions (统计用区划代码): the county's townships and villages.

Codes: 6 digits county, 9 digits township, 12 digits village. A 12-digit code ending in ``000`` is a
township written long (normalised to 9 digits), ending in ``000000`` a county (6 digits). Kinds come
from the code segments in ``schemas/divisions.yaml`` (街道/镇/乡, 社区/村).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hub.errors import IngestError
from hub.model import Schema, load_schema

if TYPE_CHECKING:
    from hub.store.db import Database

LEVELS = {6: "county", 9: "township", 12: "village"}


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # county | township | village
    parent: str | None
    kind: str | None


def normalise_code(code: str) -> str:
    code = code.strip()
    if len(code) == 12 and code.endswith("000000"):
        return code[:6]
    if len(code) == 12 and code.endswith("000"):
        return code[:9]
    if len(code) == 9 and code.endswith("000"):
        return code[:6]
    return code


def _kind(code: str, schema: Schema) -> str | None:
    if len(code) == 9:
        segment, segments = int(code[6:9]), schema.divisions.township_segments
    elif len(code) == 12:
        segment, segments = int(code[9:12]), schema.divisions.village_segments
    else:
        return None
    return next((s.kind for s in segments if s.from_ <= segment <= s.to), None)


def make_division(code: str, name: str, schema: Schema | None = None) -> Division:
    schema = schema or load_schema()
    code = normalise_code(code)
    parent = {9: code[:6], 12: code[:9]}.get(len(code))
    return Division(
        code=code, name=name.strip(), level=LEVELS[len(code)], parent=parent, kind=_kind(code, schema)
    )


def read_divisions_csv(path: Path, schema: Schema | None = None) -> list[Division]:
    """Read ``code,name`` lines (a header line is allowed). Every bad line is listed in one IngestError."""
    from hub.ingest.readers import check_file
    from hub.ingest.textfile import decode_text, sniff_delimiter

    path = Path(path)
    check_file(path)
    text = decode_text(path.read_bytes(), path.name)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    out: list[Division] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    first = True
    for record in reader:
        line = reader.line_num
        cells = [unicodedata.normalize("NFKC", c).strip() for c in record]
        if not any(cells):
            continue
        if first and not cells[0].isdigit():
            first = False
            continue  # header line
        first = False
        code, name = (cells + ["", ""])[:2]
        if not code.isdigit() or len(code) not in LEVELS:
            problems.append(f"第{line}行：代码“{code}”应为 6、9 或 12 位数字")
        elif not name:
            problems.append(f"第{line}行：代码 {code} 缺少名称")
        elif normalise_code(code) in seen:
            problems.append(f"第{line}行：代码 {code} 与第{seen[normalise_code(code)]}行重复")
        else:
            seen[normalise_code(code)] = line
            out.append(make_division(code, name, schema))
    if problems:
        raise IngestError(
            f"区划文件有 {len(problems)} 行有误：" + "；".join(problems),
            file=path.name,
            hint="每行应为“代码,名称”，例如 330727101,城关镇。",
            details={"problems": problems},
        )
    if not out:
        raise IngestError("区划文件中没有任何区划", file=path.name)
    return out


def _strip(text: str, suffixes: Iterable[str]) -> str:
    for s in suffixes:  # longest first
        if text.endswith(s) and len(text) > len(s):
            return text[: -len(s)]
    return text


def clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).replace("\u200b", "")


class Divisions:
    """An in-memory index of divisions by code and by name (with and without suffixes)."""

    def __init__(self, divisions: Iterable[Division] = (), schema: Schema | None = None):
        schema = schema or load_schema()
        self.t_suffixes = sorted(schema.divisions.township_suffixes, key=len, reverse=True)
        self.v_suffixes = sorted(schema.divisions.village_suffixes, key=len, reverse=True)
        self.by_code: dict[str, Division] = {d.code: d for d in divisions}
        self._villages: dict[str, dict[str, Division]] = {}
        self._townships: dict[str, list[Division]] = {}
        for d in self.by_code.values():
            if d.level == "village" and d.parent:
                index = self._villages.setdefault(d.parent, {})
                index.setdefault(clean(d.name), d)
                index.setdefault(_strip(clean(d.name), self.v_suffixes), d)
            elif d.level == "township":
                for key in {clean(d.name), self.township_base(d.name)}:
                    self._townships.setdefault(key, []).append(d)

    def township_base(self, name: str) -> str:
        return _strip(_strip(clean(name), ["人民政府"]), self.t_suffixes)

    @classmethod
    def from_db(cls, db: Database, schema: Schema | None = None) -> Divisions:
        rows = db.rows("SELECT code, name, level, parent, kind FROM hub_divisions ORDER BY code")
        return cls([Division(*r) for r in rows], schema)

    def save(self, db: Database) -> None:
        """Replace the rows of ``hub_divisions`` with this index, in one transaction."""
        with db.transaction():
            db.execute("DELETE FROM hub_divisions")
            for d in self.by_code.values():
                db.execute(
                    "INSERT INTO hub_divisions (code, name, level, parent, kind) VALUES (?, ?, ?, ?, ?)",
                    [d.code, d.name, d.level, d.parent, d.kind],
                )

    def __len__(self) -> int:
        return len(self.by_code)

    def village_names(self) -> frozenset[str]:
        """Every village and community name, with and without its suffix (村, 社区, 居委会…), folded."""
        from hub.model import fold

        return frozenset(fold(name) for index in self._villages.values() for name in index)

    def townships(self) -> list[Division]:
        return sorted((d for d in self.by_code.values() if d.level == "township"), key=lambda d: d.code)

    def villages(self, township_code: str) -> list[Division]:
        return sorted(
            (d for d in self.by_code.values() if d.level == "village" and d.parent == township_code),
            key=lambda d: d.code,
        )

    def name_of(self, code: str) -> str | None:
        d = self.by_code.get(normalise_code(clean(code)))
        return d.name if d else None

    def resolve_township(self, text: str) -> list[Division]:
        """Townships named by ``text``: a 9- or 12-digit code, or a name with or without 镇/乡/街道…"""
        key = clean(text)
        if key.isdigit() and len(key) in (9, 12):
            d = self.by_code.get(key[:9])
            return [d] if d and d.level == "township" else []
        found = self._townships.get(key) or self._townships.get(self.township_base(key)) or []
        return sorted(set(found), key=lambda d: d.code)

    def resolve_village(self, township_code: str, text: str) -> Division | None:
        key = clean(text)
        if not key:
            return None
        if key.isdigit() and len(key) == 12:
            d = self.by_code.get(key)
            return d if d and d.parent == township_code else None
        index = self._villages.get(township_code, {})
        return index.get(key) or index.get(_strip(key, self.v_suffixes))
