"""Load specs and entitlements, compile them, and check them all: ``check_mappings``.

Every problem of every spec is collected (YAML, unknown keys, bad SQL, unknown columns, code lists,
templates, entitlements) and returned at once, each with file, field path and a suggestion.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ValidationError

from hub import yamlio
from hub.export import spec as spec_models
from hub.export.compile import CompiledReport, compile_spec
from hub.export.context import context
from hub.export.problems import SpecProblem, did_you_mean
from hub.export.resolve import Resolver
from hub.export.spec import Spec, Strict
from hub.model import load_schema
from hub.paths import mappings_dir, schemas_dir
from hub.store.db import Database

VIEWS = [
    "person", "disability", "household", "membership", "dibao_member", "business", "division",
    "person_extra", "business_extra",  # the fields report admission added (hub.extension)
]  # fmt: skip
# read by the compiler itself (hub/export/flags.py), never by a spec: no entitlement names it
INTERNAL_VIEWS = ["flagged_value"]
Level = Literal["full", "text", "masked", "condition"]


class Entitlement(Strict):
    department: str
    fields: dict[str, dict[str, Level]]  # view -> column -> level


class EntitlementsFile(Strict):
    levels: dict[str, str]
    reports: dict[str, Entitlement]


def _field_names() -> list[str]:
    names: set[str] = set()
    for obj in vars(spec_models).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel):
            for name, info in obj.model_fields.items():
                names.add(info.alias or name)
    return sorted(names)


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def load_spec_text(text: str, file: str) -> tuple[Spec | None, list[SpecProblem]]:
    try:
        data = yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, col {mark.column + 1}" if mark else "(yaml)"
        return None, [SpecProblem(file, where, f"bad YAML: {getattr(exc, 'problem', exc)}", "spec-yaml")]
    try:
        return Spec.model_validate(data), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            if err["type"] == "extra_forbidden":
                key = str(loc[-1])
                problems.append(
                    SpecProblem(
                        file, _loc(loc), f"unknown key '{key}'{did_you_mean(key, _field_names())}", "spec-key"
                    )
                )
            else:
                problems.append(SpecProblem(file, _loc(loc), err["msg"], "spec-key"))
        return None, problems


@lru_cache(maxsize=2)
def load_entitlements(directory: str | None = None) -> EntitlementsFile:
    path = Path(directory or schemas_dir()) / "entitlements.yaml"
    return EntitlementsFile.model_validate(yamlio.safe_load(path.read_text(encoding="utf-8")))


def codes() -> dict[str, dict[str, str]]:
    return {name: {c.code: c.label for c in cl.codes} for name, cl in load_schema().codelists.items()}


def relations(db: Database) -> dict[str, list[str]]:
    return {v: [c for c, _ in db.columns(v)] for v in VIEWS}


def internal_relations(db: Database) -> dict[str, dict[str, str]]:
    return {v: dict(db.columns(v)) for v in INTERNAL_VIEWS}


def compile_text(
    text: str,
    file: str,
    db: Database,
    *,
    report_date: dt.date,
    township: str | None = "000000000",
    township_name: str = "",
    county_name: str = "",
    masked: bool = False,
) -> tuple[CompiledReport | None, list[SpecProblem]]:
    spec, problems = load_spec_text(text, file)
    if spec is None:
        return None, problems
    ents = load_entitlements()
    if Path(file).stem != spec.id:
        problems.append(
            SpecProblem(
                file, "id", f"id '{spec.id}' differs from the file name '{Path(file).stem}'", "spec-key"
            )
        )
    ent = ents.reports.get(spec.id)
    if ent is None:
        problems.append(
            SpecProblem(
                file,
                "id",
                f"report '{spec.id}' has no entry in schemas/entitlements.yaml"
                f"{did_you_mean(spec.id, ents.reports)}",
                "spec-entitlement",
            )
        )
        ent = Entitlement(department=spec.department, fields={})
    elif ent.department != spec.department:
        problems.append(
            SpecProblem(
                file,
                "department",
                f"'{spec.department}' but entitlements.yaml says '{ent.department}'",
                "spec-key",
            )
        )
    entitled = {f"{view}.{col}": lvl for view, cols in ent.fields.items() for col, lvl in cols.items()}
    cl = codes()
    resolver = Resolver(file, spec.id, spec.department, entitled, set(cl))
    ctx = context(spec, report_date, township, township_name, county_name)
    compiled = compile_spec(
        spec, file=file, relations=relations(db), resolver=resolver, codes=cl, ctx=ctx, masked=masked
    )
    problems += resolver.problems
    return (None if problems else compiled), problems


def spec_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or mappings_dir()).glob("*.yaml"))


def check_mappings(directory: Path | None = None) -> list[SpecProblem]:
    """Every problem of every mapping spec at once (empty: all specs are valid)."""
    from hub.extension import create_views

    db = Database(None)
    try:
        create_views(db, load_schema())
        problems: list[SpecProblem] = []
        for path in spec_files(directory):
            file = f"mappings/{path.name}"
            compiled, found = compile_text(
                path.read_text(encoding="utf-8"), file, db, report_date=dt.date.today()
            )
            problems += found
            if compiled is not None:
                problems += _verify(compiled, file, db)
        return problems
    finally:
        db.close()


def _verify(compiled: CompiledReport, file: str, db: Database) -> list[SpecProblem]:
    """Every compiled tree must qualify against the typed view schema (sqlglot's own qualifier, a
    second opinion on the resolver) and transpile to Spark SQL."""
    import sqlglot
    from sqlglot.optimizer.qualify import qualify
    from sqlglot.schema import MappingSchema

    schema = MappingSchema(
        {**{v: dict(db.columns(v)) for v in VIEWS}, **internal_relations(db)}, dialect="duckdb"
    )
    out = []
    for i, sheet in enumerate(compiled.sheets):
        for tree in sheet.trees():
            try:
                qualify(tree.copy(), schema=schema, dialect="duckdb", validate_qualify_columns=True)
                tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
            except sqlglot.errors.SqlglotError as exc:
                out.append(SpecProblem(file, f"sheets[{i}]", f"compiled query rejected: {exc}", "spec-sql"))
    return out
