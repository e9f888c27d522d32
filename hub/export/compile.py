"""Compile a spec into sqlglot trees (one CTE pipeline per sheet) for one township and date.

List sheets:    ctx → pop (columns over the FROM/WHERE) → ranked (row order) → blocks → data
Grouped sheets: ctx → grouped (GROUPING SETS ((keys), ())) → folded (small cells) → data
Each sheet also gets a total query, a records query, one checks query (the spec's 审核关系 and
合计 = Σ rows) and one query per code translation listing values that have no translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from hub.export.context import ctx_select
from hub.export.flags import FLAGS_CTE, flag_expr, flags_cte
from hub.export.pipelines import CompiledSheet, Ctes, HubCheck, Parts, grouped, listed, sel, with_ctes
from hub.export.problems import did_you_mean
from hub.export.resolve import TRANSLATE, Resolver, Scope
from hub.export.spec import Sheet, Spec
from hub.export.templates import check_templates


@dataclass
class CompiledReport:
    spec: Spec
    file: str
    sheets: list[CompiledSheet] = field(default_factory=list)


def _is_label(n: exp.Expr) -> bool:
    return isinstance(n, exp.Anonymous) and n.name.lower() == TRANSLATE and len(n.expressions) == 2


def _labels(codes: dict[str, dict[str, str]], node: exp.Expr) -> exp.Expr:
    """code_label('<list>', x) → CASE x WHEN code THEN label … ELSE x END. A value without a
    translation stays as written and is reported (see ``untranslated``), never blanked or guessed."""
    if not _is_label(node):
        return node
    name, arg = node.expressions[0].name, node.expressions[1]
    ifs = [
        exp.If(this=exp.Literal.string(c), true=exp.Literal.string(lbl))
        for c, lbl in codes.get(name, {}).items()
    ]
    return exp.Case(this=exp.cast(arg.copy(), "VARCHAR"), ifs=ifs, default=exp.cast(arg.copy(), "VARCHAR"))


def compile_spec(
    spec: Spec,
    *,
    file: str,
    relations: dict[str, list[str]],
    resolver: Resolver,
    codes: dict[str, dict[str, str]],
    ctx: dict[str, Any],
    masked: bool = False,
) -> CompiledReport:
    """Problems go to ``resolver.problems``; the trees are only meaningful when there are none."""
    canonical = set(relations)
    rels = {**relations, "ctx": list(ctx), **{n: t.columns for n, t in spec.tables.items()}}
    ctes: Ctes = [("ctx", ctx_select(ctx))]
    for name, table in spec.tables.items():
        values = exp.values([tuple(row) for row in table.rows], alias=name, columns=table.columns)
        ctes.append((name, exp.select(*table.columns).from_(values)))
    out = CompiledReport(spec, file)
    check_templates(spec, resolver, list(ctx))
    for i, sheet in enumerate(spec.sheets):
        parts = _parts(
            spec, sheet, f"sheets[{i}]", rels, canonical, resolver, codes, ctes, masked or spec.masked
        )
        if parts is not None:
            out.sheets.append(grouped(parts) if sheet.group_by else listed(parts))
    return out


def _parts(
    spec: Spec,
    sheet: Sheet,
    path: str,
    rels: dict[str, list[str]],
    canonical: set[str],
    r: Resolver,
    codes: dict[str, dict[str, str]],
    ctes: Ctes,
    masked: bool,
) -> Parts | None:
    before = len(r.problems)
    pop = sheet.population
    base, scope = r.from_clause(pop.from_, f"{path}.population.from", rels, canonical)

    def cond(text: str | None, where: str) -> exp.Expr:
        return (r.expr(text, scope, where, condition=True) if text else None) or exp.true()

    where = cond(pop.where, f"{path}.population.where")
    township = cond(pop.township, f"{path}.population.township")
    scoped = exp.and_(
        where.copy(), exp.EQ(this=township.copy(), expression=sel("SELECT ctx.township_code").selects[0])
    )
    full_where = scoped if spec.scope == "township" else where
    record = cond(sheet.records, f"{path}.records")
    block = cond(sheet.block, f"{path}.block") if sheet.block else None
    orders = [cond(o, f"{path}.order_by[{k}]") for k, o in enumerate(sheet.order_by)]
    groups = [cond(g, f"{path}.group_by[{k}]") for k, g in enumerate(sheet.group_by)]
    if sheet.group_by and sheet.order_by:
        r.problem(f"{path}.order_by", "grouped sheets are ordered by group_by; remove order_by", "spec-key")
    keys = [c.key for c in sheet.columns]
    cols: dict[str, exp.Expr] = {}
    flags: dict[str, exp.Expr] = {}
    for j, col in enumerate(sheet.columns):
        cpath = f"{path}.columns[{j}].expr"
        if keys.count(col.key) > 1:
            r.problem(f"{path}.columns[{j}].key", f"duplicate column key '{col.key}'", "spec-key")
        if col.serial or col.expr is None:
            if not col.serial:
                r.problem(cpath, "a column needs an expr (or serial: true)", "spec-key")
            continue
        tree = r.parse(col.expr, cpath)
        if tree is None:
            continue
        if col.codelist:
            tree = exp.Anonymous(this=TRANSLATE, expressions=[exp.Literal.string(col.codelist), tree])
        if masked and col.mask:
            tree = exp.Anonymous(this=f"mask_{col.mask}", expressions=[tree])
        r.columns(tree, scope, cpath)
        r.functions(tree, cpath)
        cols[col.key] = tree
        flag = flag_expr(tree, scope) if not sheet.group_by else None
        if flag is not None:
            flags[col.key] = flag
    if flags:  # the flagged values once per sheet and township, read by every flagged column
        ctes = [*ctes, (FLAGS_CTE, flags_cte())]
    result = Scope({"r": ("_result", [*keys, "_first", "_total"])}, set())
    cells, checks = _key_refs(sheet, r, path, keys, result)
    if base is None or len(r.problems) > before:
        return None

    joined = base.copy().join(exp.to_table("ctx"), join_type="cross")
    joined.set("joins", [joined.args["joins"][-1], *joined.args["joins"][:-1]])
    untranslated = []
    for key, tree in cols.items():
        for call in [n for n in tree.find_all(exp.Anonymous) if _is_label(n)]:
            lst, arg = call.expressions[0].name, exp.cast(call.expressions[1].copy(), "VARCHAR")
            known = [exp.Literal.string(c) for c in codes.get(lst, {})]
            bad = exp.and_(
                full_where.copy(),
                exp.Not(this=exp.Is(this=arg.copy(), expression=exp.null())),
                exp.Not(this=exp.In(this=arg.copy(), expressions=known)),
            )
            q = joined.copy().select(exp.alias_(arg.copy(), "value"), append=False).distinct().where(bad)
            untranslated.append((key, lst, with_ctes(ctes, q)))
    cols = {k: t.transform(lambda n: _labels(codes, n)) for k, t in cols.items()}
    townships = with_ctes(
        ctes,
        joined.copy()
        .select(exp.alias_(township.copy(), "township"), append=False)
        .distinct()
        .where(where.copy()),
    )
    return Parts(
        sheet,
        cols,
        joined,
        full_where,
        record,
        block,
        orders,
        groups,
        cells,
        checks,
        ctes,
        untranslated,
        townships,
        flags,
    )


def _key_refs(
    sheet: Sheet, r: Resolver, path: str, keys: list[str], result: Scope
) -> tuple[dict[str, exp.Expr], list[HubCheck]]:
    def need(key: str, where: str) -> None:
        if key not in keys:
            r.problem(where, f"unknown column key '{key}'{did_you_mean(key, keys)}", "spec-column")

    cells: dict[str, exp.Expr] = {}
    if sheet.total:
        need(sheet.total.label_column, f"{path}.total.label_column")
        for k, key in enumerate(sheet.total.sum):
            need(key, f"{path}.total.sum[{k}]")
        for key, text in sheet.total.cells.items():
            need(key, f"{path}.total.cells.{key}")
            tree = r.expr(text, result, f"{path}.total.cells.{key}")
            if tree is not None:
                cells[key] = tree
    if sheet.fold:
        need(sheet.fold.measure, f"{path}.fold.measure")
        need(sheet.fold.label_column, f"{path}.fold.label_column")
    checks = []
    for k, check in enumerate(sheet.checks):
        tree = r.expr(check.assert_, result, f"{path}.checks[{k}].assert")
        for j, key in enumerate(check.describe):
            need(key, f"{path}.checks[{k}].describe[{j}]")
        if check.on_fail == "hold" and sheet.group_by:
            r.problem(f"{path}.checks[{k}].on_fail", "on_fail: hold works on list sheets only", "spec-key")
        if tree is not None:
            checks.append(HubCheck(check.name, tree, check.rows, check.on_fail, list(check.describe)))
    if sheet.column_numbers is not None and len(sheet.column_numbers) != len(keys):
        r.problem(
            f"{path}.column_numbers", f"{len(sheet.column_numbers)} 栏次 for {len(keys)} columns", "spec-key"
        )
    return cells, checks
