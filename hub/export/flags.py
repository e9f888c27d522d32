"""Flagged values reach a department marked: which report cells show a value the hub flagged.

A list sheet's column whose expression is one view column (``p.phone``; also inside ``code_label``
or a mask) gets a hidden boolean column ``_flag_<key>``: true where the entity's value is one the
hub flagged at validation and kept as written (the view ``flagged_value``, 35_flagged.sql:
the warnings joined to the rows they name and the entity codes). It is
computed in the report's own query (set-based), and the xlsx writer fills those cells, comments
them and explains them in a 说明 sheet.
"""

from __future__ import annotations

from sqlglot import exp, parse_one

from hub.export.resolve import MASKS, TRANSLATE, Scope

FLAG_PREFIX = "_flag_"
FLAGS_CTE = "flagged"  # the flagged values, computed once per sheet and township (a CTE)


def flags_cte() -> exp.Select:
    tree = parse_one("SELECT entity, entity_code, field, value FROM flagged_value", read="duckdb")
    assert isinstance(tree, exp.Select)
    return tree


# view → (entity in hub_values, the view's key column)
ENTITY_OF = {
    "person": ("person", "person_code"),
    "disability": ("person", "person_code"),
    "business": ("business", "business_code"),
}
# the fields a validation warning can leave as written (flagged_value.field), per entity
FLAGGABLE = {
    "person": {
        "name", "id_number", "sex", "birth_date", "ethnicity", "marital_status", "address", "phone",
        "disability_category", "disability_level", "disability_cert",
    },
    "business": {"business_name", "operator_name", "address", "phone"},
}  # fmt: skip
# view.column → the field where the names differ
FIELD_OF = {
    "disability.category": "disability_category",
    "disability.level": "disability_level",
    "disability.certificate": "disability_cert",
    "business.name": "business_name",
}


def _column(tree: exp.Expr) -> exp.Column | None:
    """The one view column an expression shows, or None."""
    node = tree
    while isinstance(node, exp.Anonymous) and node.name.lower() in {TRANSLATE, *MASKS} and node.expressions:
        node = node.expressions[-1]
    return node if isinstance(node, exp.Column) and node.table else None


def flag_expr(tree: exp.Expr, scope: Scope) -> exp.Expr | None:
    """``EXISTS (… flagged_value …)`` for a qualified column expression, or None."""
    col = _column(tree)
    if col is None or col.table not in scope.tables:
        return None
    view = scope.tables[col.table][0]
    if view not in ENTITY_OF:
        return None
    entity, key = ENTITY_OF[view]
    field = FIELD_OF.get(f"{view}.{col.name}", col.name)
    if field not in FLAGGABLE.get(entity, set()):
        return None
    alias = col.table
    return parse_one(
        f"EXISTS (SELECT 1 FROM {FLAGS_CTE} AS fv WHERE fv.entity = '{entity}' "
        f"AND fv.entity_code = {alias}.{key} AND fv.field = '{field}' "
        f"AND fv.value = CAST({alias}.{col.name} AS VARCHAR))",
        read="duckdb",
    )
