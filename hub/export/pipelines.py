"""The two query shapes a sheet compiles to, built as sqlglot trees from the spec's parsed expressions.

Internal CTE skeletons are parsed from fixed SQL text (identifiers the compiler owns, column keys are
``[a-z][a-z0-9_]*``); every spec expression is inserted as an already-qualified tree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlglot import exp, parse_one

from hub.export.spec import Sheet

Ctes = list[tuple[str, exp.Query]]


@dataclass
class HubCheck:
    """A compiled report check (see :class:`hub.export.spec.Check`)."""

    name: str
    cond: exp.Expr
    rows: Literal["all", "data", "total"]
    on_fail: Literal["refuse", "hold"] = "refuse"
    describe: list[str] = field(default_factory=list)


@dataclass
class CompiledSheet:
    sheet: Sheet
    data: exp.Select
    total: exp.Select | None
    records: exp.Select
    checks: exp.Select
    check_names: list[str]
    untranslated: list[tuple[str, str, exp.Select]]  # (column key, code list, query of bad values)
    townships: exp.Select
    # blocks held back by on_fail: hold checks: rows of (_check, <describe keys>...)
    held: exp.Select | None = None
    parts: Parts | None = None  # what it was built from (hub.export.keyed builds the keyed variant)

    def trees(self) -> list[exp.Select]:
        extra = [q for _, _, q in self.untranslated] + ([self.total] if self.total is not None else [])
        extra += [self.held] if self.held is not None else []
        return [self.data, self.records, self.checks, self.townships, *extra]


@dataclass
class Parts:
    """A sheet's parsed, qualified pieces."""

    sheet: Sheet
    cols: dict[str, exp.Expr]  # key -> expression (serial columns absent)
    joined: exp.Select  # SELECT … FROM <population> CROSS JOIN ctx (projection replaced)
    where: exp.Expr
    record: exp.Expr
    block: exp.Expr | None
    orders: list[exp.Expr]
    groups: list[exp.Expr]
    cells: dict[str, exp.Expr]
    checks: list[HubCheck]
    ctes: Ctes
    untranslated: list[tuple[str, str, exp.Select]]
    townships: exp.Select
    flags: dict[str, exp.Expr] = field(default_factory=dict)  # key -> "value flagged" (list sheets)
    # keyed: one set of queries for every township of ctx (a column ``_twp`` in every CTE, windows
    # partitioned and aggregates grouped by it; see hub.export.keyed)
    keyed: bool = False


def sel(text: str) -> exp.Select:
    tree = parse_one(text, read="duckdb")
    assert isinstance(tree, exp.Select)
    return tree


def union(text: str) -> exp.Query:
    tree = parse_one(text, read="duckdb")
    assert isinstance(tree, exp.Query)
    return tree


def with_ctes(ctes: Ctes, query: exp.Select) -> exp.Select:
    """``query`` (modified in place: callers pass a fresh tree) with copies of the shared CTEs."""
    for name, cte in ctes:
        query = query.with_(name, as_=cte.copy(), copy=False)
    return query


def _a(e: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(e.copy(), name)


def _label(template: str, count_sql: str) -> exp.Expr:
    """'合计（{records}户）' → '合计（' || CAST(<count> AS VARCHAR) || '户）'."""
    head, sep, tail = template.partition("{records}")
    if not sep:
        return exp.Literal.string(template)
    count = sel(f"SELECT CAST({count_sql} AS VARCHAR)").selects[0]
    return exp.DPipe(
        this=exp.DPipe(this=exp.Literal.string(head), expression=count), expression=exp.Literal.string(tail)
    )


def _is_measure(e: exp.Expr) -> bool:
    return e.find(exp.AggFunc) is not None


def _checks(p: Parts, keys: list[str], sums: list[str], ctes: Ctes) -> tuple[exp.Select, list[str]]:
    """One row of failing counts (``c0``, ``c1``…: the spec's checks, then each 合计 against the sum of
    its rows) and their names; keyed (:attr:`Parts.keyed`): one such row per township of ctx."""
    if p.keyed:
        return _keyed_checks(p, keys, sums, ctes)
    # a sheet with no data rows has nothing to be inconsistent about (its 合计 is empty, not wrong)
    projections, names = _check_counts(p, "EXISTS (SELECT 1 FROM data)")
    projections += _sum_checks(p, sums, len(names), names, lambda key, once: (
        f"NOT EXISTS (SELECT 1 FROM data) OR (SELECT {key} FROM total) IS NOT DISTINCT FROM "
        f"(SELECT sum(r.{key}) FILTER (WHERE {once}) FROM data AS r)"))  # fmt: skip
    if projections:
        query = exp.select(*projections).from_(exp.to_table("allrows").as_("r"))
    else:  # nothing to check: one row that says so (not a row per data row, fetched for nothing)
        query = exp.select(exp.alias_(exp.Literal.number(0), "c0"))
    return with_ctes([*ctes, ("allrows", _allrows(p, keys, ""))], query), names


def _keyed_checks(p: Parts, keys: list[str], sums: list[str], ctes: Ctes) -> tuple[exp.Select, list[str]]:
    """The checks of :func:`_checks` for every township at once: one row per township of ctx
    (``_twp``, then the failing counts), the same figures as the one-township query gives."""
    # a row of this township (the left join gives a NULL row to a township without any), and the
    # township has data rows (its 合计 alone is empty, not wrong)
    counts, names = _check_counts(p, "r._twp IS NOT NULL AND h._h IS NOT NULL")
    projections = [sel("SELECT c.township_code AS _twp").selects[0], *counts]
    projections += _sum_checks(p, sums, len(names), names, lambda key, once: (
        f"h._h IS NULL OR t.{key} IS NOT DISTINCT FROM sum(r.{key}) FILTER (WHERE NOT r._total AND {once})"))  # fmt: skip
    joins = " LEFT JOIN (SELECT DISTINCT _twp AS _h FROM data) AS h ON h._h = c.township_code"
    if sums:
        joins += " LEFT JOIN total AS t ON t._twp = c.township_code"
    group = ", ".join(["c.township_code", "h._h", *(f"t.{k}" for k in sums)])
    query = sel(
        f"SELECT 1 FROM ctx AS c {joins} LEFT JOIN allrows AS r ON r._twp = c.township_code GROUP BY {group}"
    ).select(*projections, append=False)
    return with_ctes([*ctes, ("allrows", _allrows(p, keys, "_twp, "))], query), names


def _check_counts(p: Parts, present: str) -> tuple[list[exp.Expr], list[str]]:
    """Per check of the spec, the rows of ``allrows AS r`` in its scope that fail it, counted where
    ``present`` (SQL) holds; and the checks' names."""
    projections: list[exp.Expr] = []
    names: list[str] = []
    scope = {"all": None, "data": "NOT r._total", "total": "r._total"}
    for check in p.checks:
        failing: exp.Expr = _failing(check)
        if scope[check.rows]:
            failing = exp.and_(failing, sel(f"SELECT {scope[check.rows]}").selects[0])
        failing = exp.and_(failing, sel(f"SELECT {present}").selects[0])
        projections.append(
            exp.alias_(
                exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=failing)),
                f"c{len(names)}",
            )
        )
        names.append(check.name)
    return projections, names


def _sum_checks(
    p: Parts, sums: list[str], first: int, names: list[str], agrees: Callable[[str, str], str]
) -> list[exp.Expr]:
    """Per summed column ``key``, 0 when the 合计 row agrees with its rows (``agrees(key, once)``, SQL;
    ``once``: the rows that count, a household's value once per household) and 1 when not, as
    ``c<first>``…; their names are appended to ``names``."""
    labels = {c.key: c.header[-1] for c in p.sheet.columns}
    out: list[exp.Expr] = []
    for i, key in enumerate(sums):
        once = "r._first" if any(c.key == key and c.level == "household" for c in p.sheet.columns) else "TRUE"
        out.append(sel(f"SELECT CASE WHEN {agrees(key, once)} THEN 0 ELSE 1 END AS c{first + i}").selects[0])
        names.append(f"合计等于各行之和（{labels[key]}）")
    return out


def _allrows(p: Parts, keys: list[str], twp: str) -> exp.Query:
    """The data rows and the 合计 row (``_total``) of the sheet, ``twp`` (``"_twp, "`` when keyed) first."""
    cols = ", ".join(keys)
    text = f"SELECT {twp}{cols}, FALSE AS _total, _first FROM data"
    if p.sheet.total is not None:
        text += f" UNION ALL SELECT {twp}{cols}, TRUE AS _total, TRUE AS _first FROM total"
    return union(text)


def _per_township(agg: exp.Select, source: str) -> exp.Query:
    """``agg`` (an aggregate over ``source AS r``, no GROUP BY) for every township of ctx: grouped by
    ``r._twp``, and for a township without rows of ``source`` the aggregate over no rows (as the
    one-township query gives it: counts 0, sums NULL). Columns: ``agg``'s, then ``_twp``."""
    grouped = agg.copy().select(sel("SELECT r._twp AS _twp").selects[0]).group_by("r._twp")
    empty = agg.copy().where(exp.false())
    none = sel(
        f"SELECT e.*, c.township_code AS _twp FROM ctx AS c CROSS JOIN x AS e "
        f"WHERE c.township_code NOT IN (SELECT _twp FROM {source})"
    )
    none.args["joins"][0].set(
        "this", exp.Subquery(this=empty, alias=exp.TableAlias(this=exp.to_identifier("e")))
    )
    return grouped.union(none, distinct=False)


def _failing(check: HubCheck) -> exp.Expr:
    return exp.Not(this=exp.Coalesce(this=check.cond.copy(), expressions=[exp.false()]))


def _held(p: Parts) -> tuple[exp.Select | None, exp.Expr | None]:
    """(query listing the blocks held back by on_fail: hold checks, condition keeping the others)."""
    holds = [c for c in p.checks if c.on_fail == "hold"]
    if not holds:
        return None, None
    branches = []
    twp = "r._twp, " if p.keyed else ""
    for c in holds:
        cols = ", ".join(f"r.{k}" for k in c.describe) or "NULL"
        q = sel(f"SELECT DISTINCT {twp}r._block, '{c.name}' AS _check, {cols} FROM pop AS r")
        branches.append(q.where(_failing(c).transform(_qualify_r)))
    held = branches[0]
    for b in branches[1:]:
        held = held.union(b, distinct=False)  # type: ignore[assignment]
    keep = sel(
        "SELECT NOT EXISTS (SELECT 1 FROM held AS h WHERE h._twp = pop._twp AND h._block = pop._block)"
        if p.keyed
        else "SELECT _block NOT IN (SELECT _block FROM held)"
    ).selects[0]
    return held, keep


def _qualify_r(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Column) and not node.table:
        return exp.column(node.name, "r")
    return node


def listed(p: Parts) -> CompiledSheet:
    sheet = p.sheet
    keys = [c.key for c in sheet.columns]
    pop = (
        p.joined.copy()
        .select(
            *(_a(e, k) for k, e in p.cols.items()),
            _a(p.block or p.record, "_block"),
            _a(p.record, "_record"),
            *(_a(o, f"_o{i}") for i, o in enumerate(p.orders)),
            *(_a(f, f"_flag_{k}") for k, f in p.flags.items()),
            *([_a(exp.column("township_code", "ctx"), "_twp")] if p.keyed else []),
            append=False,
        )
        .where(p.where.copy())
    )
    by = "PARTITION BY _twp " if p.keyed else ""  # keyed: every window within its township
    order = ", ".join([*(f"_o{i}" for i in range(len(p.orders))), "_record"])
    data_cols = ", ".join(
        f"dense_rank() OVER ({by}ORDER BY _bpos) AS {c.key}" if c.serial else c.key for c in sheet.columns
    )
    held, keep = _held(p)
    ranked = sel(f"SELECT *, row_number() OVER ({by}ORDER BY {order}) AS _pos FROM pop")
    if keep is not None:
        ranked = ranked.where(keep)
    ctes = [
        *p.ctes,
        ("pop", pop),
        *([("held", held)] if held is not None else []),
        ("ranked", ranked),
        (
            "blocks",
            sel(
                f"SELECT *, min(_pos) OVER (PARTITION BY {'_twp, ' if p.keyed else ''}_block) AS _bpos FROM ranked"
            ),
        ),
        (
            "data",
            sel(
                f"SELECT {data_cols}, _bpos = _pos AS _first, _bpos AS _block_no, _pos, _record"
                + "".join(f", _flag_{k}" for k in p.flags)
                + (", _twp" if p.keyed else "")
                + " FROM blocks"
            ),
        ),
    ]
    total = None
    sums: list[str] = []
    if sheet.total is not None:
        household = {c.key for c in sheet.columns if c.level == "household"}
        sums = list(sheet.total.sum)
        proj: list[exp.Expr] = [exp.alias_(_label(sheet.total.label, "count(DISTINCT r._record)"), "_label")]
        for k in keys:
            if k in sheet.total.cells:
                proj.append(_a(p.cells[k], k))
            elif k in sums:
                proj.append(
                    sel(
                        f"SELECT sum(r.{k}) FILTER (WHERE {'r._first' if k in household else 'TRUE'}) AS {k}"
                    ).selects[0]
                )
            else:
                proj.append(exp.alias_(exp.null(), k))
        total_sel: exp.Query = exp.select(*proj).from_(exp.to_table("data").as_("r"))
        if p.keyed:
            total_sel = _per_township(total_sel, "data")  # type: ignore[arg-type]
        total = with_ctes(ctes, total_sel.copy())  # type: ignore[arg-type]
        ctes = [*ctes, ("total", total_sel)]
    checks, names = _checks(p, keys, sums, ctes)
    records: exp.Query = sel("SELECT count(DISTINCT _record) FROM ranked")
    if p.keyed:
        records = _per_township(
            sel("SELECT count(DISTINCT r._record) AS _records FROM ranked AS r"), "ranked"
        )
    return CompiledSheet(
        sheet,
        with_ctes(ctes, sel(f"SELECT * FROM data ORDER BY {'_twp, ' if p.keyed else ''}_block_no, _pos")),
        total,
        with_ctes(ctes, records),  # type: ignore[arg-type]
        checks,
        names,
        p.untranslated,
        p.townships,
        with_ctes(ctes, sel("SELECT * FROM held ORDER BY ALL")) if held is not None else None,
        p,
    )


def grouped(p: Parts) -> CompiledSheet:
    sheet = p.sheet
    keys = [c.key for c in sheet.columns]
    measures = [k for k, e in p.cols.items() if _is_measure(e)]
    plain = [k for k in p.cols if k not in measures]
    twp = [exp.column("township_code", "ctx")] if p.keyed else []  # keyed: every set within its township
    group = exp.Group(
        expressions=[
            exp.GroupingSets(
                expressions=[
                    exp.Tuple(expressions=[*twp, *(g.copy() for g in p.groups)]),
                    exp.Tuple(expressions=[t.copy() for t in twp]),
                ]
            )
        ]
    )
    grouping = exp.EQ(
        this=exp.Anonymous(this="GROUPING", expressions=[p.groups[0].copy()]),
        expression=exp.Literal.number(1),
    )
    agg = (
        p.joined.copy()
        .select(
            *(_a(e, k) for k, e in p.cols.items()),
            *(_a(g, f"_g{i}") for i, g in enumerate(p.groups)),
            exp.alias_(grouping, "_total"),
            exp.alias_(exp.Count(this=exp.Distinct(expressions=[p.record.copy()])), "_records"),
            *(_a(t, "_twp") for t in twp),
            append=False,
        )
        .where(p.where.copy())
    )
    agg.set("group", group)
    gs = [f"_g{i}" for i in range(len(p.groups))]
    ctes_before = [("grouped", agg)]
    if p.keyed:  # a township without rows gets the 合计 over no rows, as the one-township query gives it
        empty = (
            p.joined.copy()
            .select(
                *(_a(p.cols[k], k) for k in measures),
                exp.alias_(exp.Count(this=exp.Distinct(expressions=[p.record.copy()])), "_records"),
                append=False,
            )
            .where(exp.false())
        )
        none = sel(
            "SELECT "
            + ", ".join(
                [
                    *(f"e.{k} AS {k}" if k in measures else f"NULL AS {k}" for k in p.cols),
                    *(f"NULL AS {g}" for g in gs),
                    "TRUE AS _total, e._records AS _records, c.township_code AS _twp",
                ]
            )
            + " FROM ctx AS c CROSS JOIN x AS e"
            " WHERE c.township_code NOT IN (SELECT _twp FROM grouped_sets WHERE _total)"
        )
        none.args["joins"][0].set(
            "this", exp.Subquery(this=empty, alias=exp.TableAlias(this=exp.to_identifier("e")))
        )
        ctes_before = [
            ("grouped_sets", agg),
            ("grouped", sel("SELECT * FROM grouped_sets").union(none, distinct=False)),  # type: ignore[list-item]
        ]
    by = "PARTITION BY _twp " if p.keyed else ""
    fold = sheet.fold
    if fold is None:
        folded = sel("SELECT *, FALSE AS _folded FROM grouped WHERE NOT _total")
    else:
        label = exp.Literal.string(fold.label).sql("duckdb")
        parts = [
            f"CASE WHEN _small THEN {label if k == fold.label_column else 'NULL'} ELSE {k} END" for k in plain
        ]
        parts += [f"CASE WHEN _small THEN NULL ELSE {g} END" for g in gs]
        parts += ["_twp"] if p.keyed else []
        names = [*plain, *gs, *(["_twp"] if p.keyed else [])]
        proj = ", ".join(
            [
                *(f"{e} AS {n}" for e, n in zip(parts, names, strict=True)),
                *(f"sum({m}) AS {m}" for m in measures),
                "bool_or(_small) AS _folded",
                "sum(_records) AS _records",
            ]
        )
        # A folded row must hold at least two villages, or the one small village could be read off
        # it (secondary suppression): a single small village is folded with the next smallest one.
        small = (
            f"SELECT *, _s0 OR (count(*) FILTER (WHERE _s0) OVER ({by.strip()}) = 1 AND NOT _s0 AND "
            f"row_number() OVER (PARTITION BY {'_twp, ' if p.keyed else ''}_s0 "
            f"ORDER BY {fold.measure}, {', '.join(gs)}) = 1) AS _small "
            f"FROM (SELECT *, {fold.measure} < {int(fold.below)} AS _s0 FROM grouped WHERE NOT _total) AS s0"
        )
        folded = sel(f"SELECT {proj} FROM ({small}) AS s GROUP BY {', '.join(parts)}")
    order = ", ".join(["_folded", *gs])
    data_cols = ", ".join(
        f"row_number() OVER ({by}ORDER BY {order}) AS {c.key}" if c.serial else c.key for c in sheet.columns
    )
    ctes = [
        *p.ctes,
        *ctes_before,
        ("folded", folded),
        (
            "data",
            sel(
                f"SELECT {data_cols}, TRUE AS _first, row_number() OVER ({by}ORDER BY {order}) AS _block_no, "
                f"row_number() OVER ({by}ORDER BY {order}) AS _pos{', _twp' if p.keyed else ''} FROM folded"
            ),
        ),
    ]
    total = None
    if sheet.total is not None:
        proj2: list[exp.Expr] = [exp.alias_(_label(sheet.total.label, "r._records"), "_label")]
        proj2 += [
            _a(p.cells[k], k)
            if k in p.cells
            else (exp.column(k, "r") if k in measures else exp.alias_(exp.null(), k))
            for k in keys
        ]
        proj2 += [exp.column("_twp", "r")] if p.keyed else []
        total_sel = (
            exp.select(*proj2)
            .from_(exp.to_table("grouped").as_("r"))
            .where(sel("SELECT r._total").selects[0])
        )
        total = with_ctes(ctes, total_sel.copy())
        ctes = [*ctes, ("total", total_sel)]
    checks, names = _checks(p, keys, measures if sheet.total is not None else [], ctes)
    key = "_twp, " if p.keyed else ""
    return CompiledSheet(
        sheet,
        with_ctes(ctes, sel(f"SELECT * FROM data ORDER BY {key}_block_no")),
        total,
        with_ctes(ctes, sel(f"SELECT {key}_records FROM grouped WHERE _total")),
        checks,
        names,
        p.untranslated,
        p.townships,
        None,
        p,
    )
