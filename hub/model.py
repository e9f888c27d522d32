"""The canonical model, loaded from ``schemas/`` into strict models.

Every YAML file is validated with ``extra="forbid"``: an unknown or misspelt key is an error that
names the file and the field. Code lists are CSV files (``code,label,aliases``) under
``schemas/codes/``. The loaded :class:`Schema` is the single source the ingest, validation, merge
and export stages read; nothing else hard-codes a field name's synonyms or a code list.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub import yamlio
from hub.errors import SchemaError
from hub.paths import schemas_dir

FieldType = Literal[
    "text", "id_number", "uscc", "date", "code", "phone", "money", "integer", "division", "disability_cert"
]
Sensitivity = Literal["general", "personal", "sensitive"]
Severity = Literal["error", "warning"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(Strict):
    label: str
    entity: Literal["person", "household", "membership", "dibao", "disability", "business"]
    type: FieldType
    codelist: str | None = None
    level: Literal["person", "household"] = "person"
    sensitivity: Sensitivity
    synonyms: list[str]
    terms: list[str] = Field(default_factory=list)  # core words: a header containing one names the field
    detect: str | None = None  # value detector of a text field (hub.ingest.columns.values)
    # set on the fields report admission added (schemas/extensions.yaml): the report whose admission
    # added it and the department's 口径. Their values are kept apart from hub_rows (hub.extension).
    report: str | None = None
    note: str | None = None


class ExtensionsFile(Strict):
    fields: dict[str, FieldSpec] = Field(default_factory=dict)


class RoleGroup(Strict):
    words: list[str]  # role words in a header or a group header above it: 户主, 申请人, 经营者…
    fields: dict[str, str]  # base field → the field it is in this role


class FieldsFile(Strict):
    fields: dict[str, FieldSpec]
    element_codes: dict[str, str] = Field(default_factory=dict)  # XBDM → 性别代码
    ignored_headers: list[str] = Field(default_factory=list)
    ignored_terms: list[str] = Field(default_factory=list)
    role_groups: list[RoleGroup] = Field(default_factory=list)


class LedgerSpec(Strict):
    label: str
    row_entity: str
    requires_any: list[list[str]]
    signature: list[str]
    required: list[str]


class FactSpec(Strict):
    label: str
    when_any: list[str]
    required: list[str]


class LedgersFile(Strict):
    ledgers: dict[str, LedgerSpec]
    facts: dict[str, FactSpec] = Field(default_factory=dict)


class FindingSpec(Strict):
    severity: Severity
    message: str


class FindingsFile(Strict):
    findings: dict[str, FindingSpec]


class Segment(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    from_: int = Field(alias="from")
    to: int
    kind: str


class DivisionsFile(Strict):
    township_segments: list[Segment]
    village_segments: list[Segment]
    village_suffixes: list[str]
    township_suffixes: list[str]


class Code(Strict):
    code: str
    label: str
    aliases: tuple[str, ...] = ()


class CodeList(Strict):
    name: str
    codes: list[Code]

    def lookup(self) -> dict[str, str]:
        """Every accepted spelling (code, label, alias; header-folded) → code."""
        out: dict[str, str] = {}
        for c in self.codes:
            for spelling in (c.code, c.label, *c.aliases):
                out[fold(spelling)] = c.code
        return out

    def label_of(self, code: str) -> str | None:
        return next((c.label for c in self.codes if c.code == code), None)


class Schema(Strict):
    fields: dict[str, FieldSpec]
    element_codes: dict[str, str]
    ignored_headers: list[str]
    ignored_terms: list[str]
    role_groups: list[RoleGroup]
    ledgers: dict[str, LedgerSpec]
    facts: dict[str, FactSpec]
    findings: dict[str, FindingSpec]
    divisions: DivisionsFile
    codelists: dict[str, CodeList]

    def extensions(self) -> dict[str, FieldSpec]:
        """The fields report admission added (``schemas/extensions.yaml``), in the order added."""
        return {n: f for n, f in self.fields.items() if f.report is not None}

    def core(self) -> Schema:
        """The model without the admitted fields: what ingest validates into ``hub_rows`` and the
        merge reads (an admitted field's values go to ``hub_extra_values``, see hub.extension)."""
        if not any(f.report for f in self.fields.values()):
            return self
        return self.model_copy(update={"fields": {n: f for n, f in self.fields.items() if f.report is None}})

    def synonyms(self) -> dict[str, str]:
        """Folded header text → canonical field name."""
        out: dict[str, str] = {}
        for name, spec in self.fields.items():
            for s in (spec.label, *spec.synonyms):
                out[fold(s)] = name
        return out


_FOLD_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff:：*＊]")


def fold(text: str) -> str:
    """Normalise a header or code spelling for matching: NFKC, no spaces or zero-width characters,
    full-width brackets folded (NFKC does that), lower case."""
    return _FOLD_RE.sub("", unicodedata.normalize("NFKC", str(text))).lower()


def _load_yaml(path: Path, model: type[Strict]) -> Strict:
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SchemaError(f"无法读取：{exc}", file=str(path)) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SchemaError("; ".join(problems), file=str(path), details={"problems": problems}) from exc


def _load_codelist(path: Path) -> CodeList:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != ["code", "label", "aliases"]:
            raise SchemaError(f"表头应为 code,label,aliases，实际为 {reader.fieldnames}", file=str(path))
        codes = [
            Code(
                code=r["code"].strip(),
                label=r["label"].strip(),
                aliases=tuple(a.strip() for a in (r["aliases"] or "").split("|") if a.strip()),
            )
            for r in reader
        ]
    return CodeList(name=path.stem, codes=codes)


EXTENSIONS_FILE = "extensions.yaml"


def _file_of(spec: FieldSpec) -> str:
    return EXTENSIONS_FILE if spec.report else "fields.yaml"


EXTENSION_KEY = re.compile(r"^x_[a-z0-9_]+$")


def load_schema(directory: Path | None = None) -> Schema:
    """Load and cross-check the canonical model. Raises :class:`SchemaError` naming file and field.
    Loaded once per version of ``extensions.yaml`` (report admission adds fields while the hub runs)."""
    root = Path(directory or schemas_dir())
    ext = root / EXTENSIONS_FILE
    stamp = ext.stat().st_mtime_ns if ext.is_file() else 0
    return _load_schema_cached(str(root), stamp)


@lru_cache(maxsize=4)
def _load_schema_cached(directory: str, extensions_stamp: int = 0) -> Schema:
    root = Path(directory)
    fields_file = _load_yaml(root / "fields.yaml", FieldsFile)
    ledgers_file = _load_yaml(root / "ledgers.yaml", LedgersFile)
    findings_file = _load_yaml(root / "findings.yaml", FindingsFile)
    divisions_file = _load_yaml(root / "divisions.yaml", DivisionsFile)
    assert isinstance(fields_file, FieldsFile) and isinstance(ledgers_file, LedgersFile)
    assert isinstance(findings_file, FindingsFile) and isinstance(divisions_file, DivisionsFile)
    codelists = {p.stem: _load_codelist(p) for p in sorted((root / "codes").glob("*.csv"))}

    problems: list[str] = []
    fields = dict(fields_file.fields)
    if extensions_stamp and (root / EXTENSIONS_FILE).is_file():
        ext_file = _load_yaml(root / EXTENSIONS_FILE, ExtensionsFile)
        assert isinstance(ext_file, ExtensionsFile)
        for name, spec in ext_file.fields.items():
            if not EXTENSION_KEY.match(name) or spec.report is None:
                problems.append(f"{EXTENSIONS_FILE}: fields.{name}: 准入新增字段须以 x_ 开头并写明 report")
            elif name in fields:
                problems.append(f"{EXTENSIONS_FILE}: fields.{name}: 与 fields.yaml 中的字段同名")
            fields[name] = spec
    for name, spec in fields.items():
        if spec.type == "code" and spec.codelist not in codelists:
            problems.append(f"{_file_of(spec)}: fields.{name}.codelist: 未知代码表 '{spec.codelist}'")
    seen: dict[str, str] = {}
    for name, spec in fields.items():
        for s in (spec.label, *spec.synonyms):
            key = fold(s)
            if key in seen and seen[key] != name:
                problems.append(f"{_file_of(spec)}: fields.{name}.synonyms: '{s}' 同时属于 {seen[key]}")
            seen[key] = name
    folded = {fold(s) for spec in fields.values() for s in (spec.label, *spec.synonyms)}
    for code, header in fields_file.element_codes.items():
        if fold(header) not in folded and fold(re.sub("代码$", "", header)) not in folded:
            problems.append(f"fields.yaml: element_codes.{code}: '{header}' 不是任何字段的名称或同义词")
    for kind, ledger in ledgers_file.ledgers.items():
        for f in {*ledger.signature, *ledger.required, *(x for g in ledger.requires_any for x in g)}:
            if f not in fields_file.fields:
                problems.append(f"ledgers.yaml: ledgers.{kind}: 未知字段 '{f}'")
    for fact_name, fact in ledgers_file.facts.items():
        for f in {*fact.when_any, *fact.required}:
            if f not in fields_file.fields:
                problems.append(f"ledgers.yaml: facts.{fact_name}: 未知字段 '{f}'")
    if problems:
        raise SchemaError("; ".join(problems), file=str(root), details={"problems": problems})
    return Schema(
        fields=fields,
        element_codes={k.upper(): v for k, v in fields_file.element_codes.items()},
        ignored_headers=fields_file.ignored_headers,
        ignored_terms=fields_file.ignored_terms,
        role_groups=fields_file.role_groups,
        ledgers=ledgers_file.ledgers,
        facts=ledgers_file.facts,
        findings=findings_file.findings,
        divisions=divisions_file,
        codelists=codelists,
    )
