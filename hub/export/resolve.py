"""Parse spec SQL once, qualify its columns against the canonical views, and check lineage.

Each expression is parsed with ``sqlglot.parse_one(text, read="duckdb")``. Columns are resolved
against the tables in the sheet's FROM clause (canonical views, the spec's own lookup tables and the
``ctx`` row of report parameters) and written back qualified. The lineage of every column that reaches
an expression is checked against ``schemas/entitlements.yaml``: a field the department may not see,
or may see only as text / masked / in conditions, is a problem naming field and department.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from hub.export.problems import SpecProblem, did_you_mean

# Functions that turn a code into text, and the masking macros (30_views.sql).
TRANSLATE = "code_label"
MASKS = {"mask_id", "mask_mobile"}
# Hub functions a spec may call (compiled or defined as macros in 30_views.sql)
HUB_FUNCTIONS = {TRANSLATE, "age_on", *MASKS}


def _allowed_builtins() -> dict[type, str]:
    """The SQL functions a mapping expression may call (as sqlglot node classes → the name shown):
    what a report needs to compute and format a cell. Nothing that reads settings, files, the
    catalogue or the environment (``current_setting``, ``read_csv``, ``getenv``…): those parse as
    other nodes or as ``Anonymous`` and are refused."""
    names = {
        "Case": "CASE", "If": "IF", "Cast": "CAST", "TryCast": "TRY_CAST", "Coalesce": "COALESCE",
        "Nullif": "NULLIF", "Greatest": "GREATEST", "Least": "LEAST", "Abs": "abs", "Round": "round",
        "Floor": "floor", "Ceil": "ceil", "Count": "count", "Sum": "sum", "Min": "min", "Max": "max",
        "Avg": "avg", "CountIf": "count_if", "Concat": "concat", "ConcatWs": "concat_ws",
        "Substring": "substring", "Left": "left", "Right": "right", "Length": "length",
        "Upper": "upper", "Lower": "lower", "Trim": "trim", "Pad": "lpad/rpad",
        "TimeToStr": "strftime", "Year": "year", "Month": "month", "Day": "day",
        "Quarter": "quarter", "DateFromParts": "make_date", "DateDiff": "date_diff",
        "DateTrunc": "date_trunc", "Extract": "extract", "RowNumber": "row_number", "Rank": "rank",
        "DenseRank": "dense_rank", "StrPosition": "strpos",
    }  # fmt: skip
    return {getattr(exp, k): v for k, v in names.items() if isinstance(getattr(exp, k, None), type)}


ALLOWED_FUNCTIONS = _allowed_builtins()
ALLOWED_TEXT = "、".join(sorted({*ALLOWED_FUNCTIONS.values(), *HUB_FUNCTIONS}, key=str.lower))
# operators are Func nodes in sqlglot too (AND, OR, =, +, NOT…): not function calls
_OPERATORS = (exp.Connector, exp.Binary, exp.Predicate, exp.Unary, exp.Paren, exp.Bracket)

# Where a condition-only field may appear: any predicate (also inside CASE WHEN and FILTER (WHERE)).
_CONDITION_NODES = (exp.Predicate, exp.Where, exp.Not, exp.Connector)


@dataclass
class Scope:
    """Aliases visible to a sheet's expressions: alias -> (relation name, its columns)."""

    tables: dict[str, tuple[str, list[str]]]
    canonical: set[str]  # relation names whose fields are under entitlement control


@dataclass
class Resolver:
    file: str
    report: str
    department: str
    entitled: Mapping[str, str]  # "view.column" -> full | text | masked | condition
    codelists: set[str]
    problems: list[SpecProblem] = field(default_factory=list)

    def problem(self, path: str, message: str, code: str) -> None:
        self.problems.append(SpecProblem(self.file, path, message, code))

    def parse(self, text: str, path: str) -> exp.Expr | None:
        try:
            tree = sqlglot.parse_one(text, read="duckdb")
        except ParseError as exc:
            err = exc.errors[0] if exc.errors else {}
            where = f" (line {err.get('line')}, col {err.get('col')})" if err else ""
            self.problem(path, f"bad SQL{where}: {err.get('description', str(exc))} in {text!r}", "spec-sql")
            return None
        if tree is None:
            self.problem(path, f"empty SQL {text!r}", "spec-sql")
        return tree

    def from_clause(
        self, text: str, path: str, relations: dict[str, list[str]], canonical: set[str]
    ) -> tuple[exp.Select | None, Scope]:
        tree = self.parse(f"SELECT 1 FROM {text}", path)
        scope = Scope({"ctx": ("ctx", relations["ctx"])}, canonical)
        if not isinstance(tree, exp.Select):
            return None, scope
        for table in tree.find_all(exp.Table):
            if table.name not in relations:
                hint = did_you_mean(table.name, relations)
                self.problem(path, f"unknown view '{table.name}'{hint}", "spec-table")
                continue
            scope.tables[table.alias_or_name] = (table.name, relations[table.name])
        for join in tree.args.get("joins") or []:
            on = join.args.get("on")
            if on is not None:
                self.columns(on, scope, path, condition=True)
        self._allowed(tree, path, tables=True)
        return tree, scope

    def expr(self, text: str, scope: Scope, path: str, *, condition: bool = False) -> exp.Expr | None:
        tree = self.parse(text, path)
        if tree is not None:
            self.columns(tree, scope, path, condition=condition)
            self.functions(tree, path)
        return tree

    def functions(self, tree: exp.Expr, path: str) -> None:
        """Only functions of the allow-list, no subqueries and no table references in an expression."""
        self._allowed(tree, path)
        for call in tree.find_all(exp.Anonymous):
            if call.name.lower() == TRANSLATE:
                args = call.expressions
                name = args[0].name if args and isinstance(args[0], exp.Literal) else None
                if len(args) != 2 or name is None:
                    self.problem(path, "code_label takes ('<codelist>', expression)", "spec-sql")
                elif name not in self.codelists:
                    self.problem(
                        path,
                        f"unknown code list '{name}'{did_you_mean(name, self.codelists)}",
                        "spec-codelist",
                    )

    def _allowed(self, tree: exp.Expr, path: str, *, tables: bool = False) -> None:
        refused: list[str] = []
        for node in tree.walk():
            if isinstance(node, exp.Subquery | exp.Query) and node is not tree:
                self.problem(path, "表达式中不能有子查询（SELECT）；只能引用本表 from 中的视图列", "spec-sql")
                return
            if isinstance(node, exp.Table) and not tables:
                self.problem(
                    path,
                    f"表达式中不能引用表“{node.sql('duckdb')}”；表只能写在 population.from 中",
                    "spec-sql",
                )
                return
            if isinstance(node, exp.Table) and not isinstance(node.this, exp.Identifier):
                self.problem(
                    path, f"from 中只能是视图名，不能是表函数“{node.this.sql('duckdb')}”", "spec-sql"
                )
                return
            if not isinstance(node, exp.Func) or isinstance(node, _OPERATORS):
                continue
            if isinstance(node, exp.Anonymous):
                if node.name.lower() not in HUB_FUNCTIONS:
                    refused.append(node.name)
            elif type(node) not in ALLOWED_FUNCTIONS:
                refused.append(node.sql(dialect="duckdb").split("(")[0].strip()[:40] or node.key)
        for name in dict.fromkeys(refused):
            self.problem(
                path, f"不允许调用函数 {name}。映射表达式只能使用这些函数：{ALLOWED_TEXT}", "spec-function"
            )

    def columns(self, tree: exp.Expr, scope: Scope, path: str, *, condition: bool = False) -> None:
        """Qualify every column in place and check it against the entitlements."""
        for col in list(tree.find_all(exp.Column)):
            alias = col.table
            if alias:
                if alias not in scope.tables:
                    self.problem(
                        path,
                        f"unknown table alias '{alias}'{did_you_mean(alias, scope.tables)}",
                        "spec-column",
                    )
                    continue
                rel, cols = scope.tables[alias]
                if col.name not in cols:
                    hint = did_you_mean(col.name, cols)
                    self.problem(
                        path, f"unknown column '{col.name}'{hint} (view {rel} as {alias})", "spec-column"
                    )
                    continue
            else:
                owners = [a for a, (_, cols) in scope.tables.items() if col.name in cols]
                if not owners:
                    every = [c for _, cols in scope.tables.values() for c in cols]
                    self.problem(
                        path, f"unknown column '{col.name}'{did_you_mean(col.name, every)}", "spec-column"
                    )
                    continue
                if len(owners) > 1:
                    self.problem(
                        path,
                        f"ambiguous column '{col.name}' (in {', '.join(owners)}): qualify it",
                        "spec-column",
                    )
                    continue
                alias = owners[0]
                rel = scope.tables[alias][0]
                col.set("table", exp.to_identifier(alias))
            if rel in scope.canonical:
                self._entitled(rel, col, tree, path, condition)

    def _entitled(self, rel: str, col: exp.Column, root: exp.Expr, path: str, condition: bool) -> None:
        name = f"{rel}.{col.name}"
        level = self.entitled.get(name)
        who = f"{self.department} ({self.report})"
        if level is None:
            self.problem(path, f"field '{name}' is not entitled for {who}", "spec-entitlement")
            return
        if level == "full":
            return
        ctx = set(_contexts(col, root)) | ({"condition"} if condition else set())
        allowed = {
            "text": {"condition", "translated"},
            "masked": {"condition", "masked"},
            "condition": {"condition"},
        }
        if not ctx & allowed.get(level, set()):
            how = {
                "text": "only as code text (code_label)",
                "masked": "only masked (mask_id / mask_mobile)",
                "condition": "only in conditions (是/否, counts, joins)",
            }.get(level, level)
            self.problem(path, f"field '{name}' may be used by {who} {how}", "spec-entitlement")


def _contexts(node: exp.Expr, root: exp.Expr) -> list[str]:
    out: list[str] = []
    cur = node.parent
    child: exp.Expr = node
    while cur is not None:
        if isinstance(cur, _CONDITION_NODES) or (isinstance(cur, exp.If) and child is cur.this):
            out.append("condition")
        if isinstance(cur, exp.Anonymous) and cur.name.lower() == TRANSLATE:
            out.append("translated")
        if isinstance(cur, exp.Anonymous) and cur.name.lower() in MASKS:
            out.append("masked")
        if cur is root:
            break
        child, cur = cur, cur.parent
    return out
