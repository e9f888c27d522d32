"""Fields report admission adds to the canonical model (docs/admission.md, "New fields").

A genuinely new column of an admitted report becomes a field of the model: it is written to
``schemas/extensions.yaml`` (label, synonyms, entity, type, the report and its 口径), which
:func:`hub.model.load_schema` loads beside ``fields.yaml``. From then on it is a field like the others
for everything that reads headers: the column recogniser places a clerk's column on it, the township's
一张表 carries it (:func:`template_fields`), the column step offers it. Its values do not go into
``hub_rows`` (a column per model field): ingest checks and keeps them as (key, value) rows
(:func:`hub.extension.values.check_sheet` → ``hub_extra_values``), the merge picks each person's or
business's value (:func:`merge_values` → ``hub_extra``), and mapping specs read them through the views
``person_extra px`` / ``business_extra bx``, one column per field (:func:`create_views`).

API: :class:`NewField`, :func:`add_fields`, :func:`create_views`, :func:`merge_values`,
:func:`template_fields`, :data:`VIEW_ALIAS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub import yamlio
from hub.errors import HubError
from hub.model import EXTENSIONS_FILE
from hub.paths import schemas_dir

if TYPE_CHECKING:
    from hub.model import Schema
    from hub.store.db import Database

__all__ = ["VIEW_ALIAS", "NewField", "add_fields", "create_views", "merge_values", "template_fields"]

#: entity of an admitted field → (its view, the alias specs use, the key column)
VIEW_ALIAS = {
    "person": ("person_extra", "px", "person_code"),
    "business": ("business_extra", "bx", "business_code"),
}
_HEAD = (
    '# Fields report admission added to the canonical model (docs/admission.md, "New fields").\n'
    "# Written by `hub admission decide ID admit`; loaded with fields.yaml by hub.model.load_schema.\n"
    "# Their values: hub_extra_values (ingest) → hub_extra (merge) → views person_extra / business_extra.\n"
)
_YES_NO = re.compile(r"^是否")


@dataclass(frozen=True)
class NewField:
    key: str  # x_<report>_<column>
    label: str
    entity: str  # person | business
    report: str
    note: str = ""
    synonyms: tuple[str, ...] = ()

    def spec(self) -> dict[str, Any]:
        """The field's entry in extensions.yaml: a 是否… field is coded on the 是/否 list (a drop-down
        in the 一张表, 是 / 否 / Y / √ read as codes), any other is text."""
        coded = bool(_YES_NO.match(self.label))
        out: dict[str, Any] = {
            "label": self.label,
            "entity": self.entity,
            "type": "code" if coded else "text",
        }
        if coded:
            out["codelist"] = "bool"
        out["sensitivity"] = "personal" if self.entity == "person" else "general"
        out["synonyms"] = list(dict.fromkeys(s for s in self.synonyms if s and s != self.label))
        out["report"] = self.report
        if self.note:
            out["note"] = self.note
        return out


def _path() -> Path:
    return schemas_dir() / EXTENSIONS_FILE


def add_fields(fields: list[NewField]) -> str | None:
    """Append ``fields`` to ``schemas/extensions.yaml`` and check the model loads with them. Returns
    the file's previous text (None: there was none) for :func:`restore`. A field whose label another
    field already answers to is refused (the model would no longer know which one a header means)."""
    from hub.errors import SchemaError
    from hub.model import load_schema

    path = _path()
    before = path.read_text(encoding="utf-8") if path.is_file() else None
    if not fields:
        return before
    data = (yamlio.safe_load(before) if before else None) or {}
    current = dict(data.get("fields") or {})
    for f in fields:
        if f.key in current:
            raise HubError(f"新增字段 {f.key} 已在 {EXTENSIONS_FILE} 中。", code="admission-exists")
        current[f.key] = f.spec()
    text = _HEAD + yaml.safe_dump({"fields": current}, allow_unicode=True, sort_keys=False, width=120)
    path.write_text(text, encoding="utf-8")
    try:
        load_schema()
    except SchemaError as exc:
        restore(before)
        raise HubError(
            "新增字段不能加入统一台账模型：" + exc.message,
            code="admission-spec",
            hint="把该栏目改用另一个名称，或说明它即台账中的哪个字段。",
        ) from exc
    return before


def restore(before: str | None) -> None:
    """Put ``extensions.yaml`` back as :func:`add_fields` found it."""
    if before is None:
        _path().unlink(missing_ok=True)
    else:
        _path().write_text(before, encoding="utf-8")


def create_views(db: Database, schema: Schema) -> None:
    """(Re)define ``person_extra`` and ``business_extra``: one row per entity with a value, one column
    per admitted field of that entity (text; a coded field holds its code)."""
    from hub.sqltext import sql_literal

    for entity, (view, _alias, key) in VIEW_ALIAS.items():
        cols = "".join(
            f", max(value) FILTER (WHERE field_key = {sql_literal(name)}) AS {name}"
            for name, spec in schema.extensions().items()
            if spec.entity == entity
        )
        db.execute(
            f"CREATE OR REPLACE VIEW {view} AS SELECT entity_code AS {key}{cols} "
            f"FROM hub_extra WHERE entity = '{entity}' GROUP BY entity_code"
        )


def merge_values(db: Database) -> int:
    """Rebuild ``hub_extra`` from the accepted rows in force: per person (by ID number) or business
    (by USCC) and field, the value of the latest row (the recency key of the merge). Returns its rows."""
    from hub.dedupe.codes import RESOLVED
    from hub.dedupe.values import rows_sql

    db.execute("DELETE FROM hub_extra")
    if not db.scalar("SELECT count(*) FROM (SELECT 1 FROM hub_extra_values LIMIT 1)"):
        return 0
    rows = rows_sql(where="r.submission_id IN (SELECT DISTINCT submission_id FROM hub_extra_values)")
    db.execute(
        f"""
        INSERT INTO hub_extra
        WITH r AS ({rows}), v AS (
            SELECT x.field_key, x.value, x.submission_id, r.submitted_at, r.k,
                   CASE WHEN r.kind = 'business' THEN 'business' ELSE 'person' END AS entity,
                   CASE WHEN r.kind = 'business' THEN r.uscc ELSE r.id_number END AS natural_key
            FROM hub_extra_values x JOIN r USING (submission_id, sheet, row_no)
        )
        SELECT v.entity, c.code, v.field_key, arg_max(v.value, v.k), arg_max(v.submission_id, v.k),
               max(v.submitted_at)
        FROM v JOIN {RESOLVED} c ON c.entity = v.entity AND c.natural_key = v.natural_key
        GROUP BY v.entity, c.code, v.field_key
        """
    )
    return int(db.scalar("SELECT count(*) FROM hub_extra"))


def template_fields(schema: Schema, entity: str) -> list[str]:
    """The admitted fields of ``entity`` the 一张表 adds to its sheet (人口 for persons, 市场主体
    for businesses), in the order they were admitted."""
    return [name for name, spec in schema.extensions().items() if spec.entity == entity]
