"""Which source wins for which field: the survivorship rules of the merge, as data.

Every merged field names the ledger kind that OWNS it (a department's own ledger wins for its own
facts) or ``None`` (no owner: the latest submission wins). Within the owner's rows, and among all rows
when no owner row carries a value, the latest submission wins (``submitted_at``, then
``submission_id``), then the lowest sheet name, then the lowest row number. A source that left a
field empty never wins it. The rules compile into one DuckDB ``arg_max`` per field over a single
BIGINT priority (:func:`pick`); an entity with a single source row takes that row (:func:`single`).
"""

from __future__ import annotations

from dataclasses import dataclass

KIND_LABELS = {
    "population": "实有人口台账",
    "disability": "残疾人台账",
    "dibao": "低保对象花名册",
    "business": "市场主体登记台账",
}

# Bit above every possible recency key (see merge._SRC: sub_rank << 40 | sheet << 24 | row).
OWNER_BIT = 1 << 62


@dataclass(frozen=True)
class FieldRule:
    field: str  # the field name in hub_values / the output table
    source: str  # SQL expression over a source row giving the value (typed as in the output)
    owner: str | None  # ledger kind that owns this fact, None = latest submission wins

    @property
    def rule_text(self) -> str:
        latest = "取最近一次报送的值（按报送时间，其次报送批次号；同一批次取表名、行号靠前者）"
        if self.owner is None:
            return latest
        return f"以{KIND_LABELS[self.owner]}为准（本部门台账优先），其次{latest}"


# hub_person: population roster owns identity/residence facts; the rest is latest-wins.
PERSON_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("id_type", "id_type", None),
    FieldRule("name", "name", "population"),
    FieldRule("sex", "sex", None),
    FieldRule("birth_date", "birth_date", None),
    FieldRule("ethnicity", "ethnicity", "population"),
    FieldRule("marital_status", "marital_status", "population"),
    FieldRule("township_code", "township_code", None),
    FieldRule("village_code", "village_code", "population"),
    FieldRule("address", "address", "population"),
    FieldRule("phone", "phone", None),
    FieldRule("person_status", "person_status", None),
    FieldRule("death_date", "death_date", None),
)

# hub_disability: the disability ledger (残联) owns its facts.
DISABILITY_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("disability_category", "disability_category", "disability"),
    FieldRule("disability_level", "disability_level", "disability"),
    FieldRule("disability_cert", "disability_cert", "disability"),
)

# hub_household (低保家庭): the 低保 roster owns household and dibao facts.
HOUSEHOLD_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("township_code", "township_code", None),
    FieldRule("village_code", "village_code", "dibao"),
    FieldRule("dibao_category", "dibao_category", "dibao"),
    FieldRule("covered_count", "covered_count", "dibao"),
    FieldRule("dibao_amount", "dibao_amount", "dibao"),
    FieldRule("dibao_start", "dibao_start", "dibao"),
)

# hub_business: the business ledger owns everything; name/operator come from differently named columns.
BUSINESS_FIELDS: tuple[FieldRule, ...] = (
    FieldRule("name", "business_name", "business"),
    FieldRule("operator_name", "operator_name", "business"),
    FieldRule("address", "address", "business"),
    FieldRule("township_code", "township_code", None),
    FieldRule("village_code", "village_code", "business"),
    FieldRule("phone", "phone", "business"),
)

DUPLICATE_REGISTRATION_RULE = (
    "同一对象在多个乡镇（街道）登记（人户分离/重复登记），只计入最近一次报送的乡镇，"
    "按报送时间，其次报送批次号"
)


def priority(rule: FieldRule) -> str:
    """The BIGINT priority of a source row for ``rule``: owner bit, then recency key ``k``."""
    if rule.owner is None:
        return "k"
    return f"(k + CASE WHEN kind = '{rule.owner}' THEN {OWNER_BIT} ELSE 0 END)"


def pick(rule: FieldRule, column: str | None = None) -> str:
    """Aggregate expressions: chosen value and a disagreement flag (NULLs are not a disagreement)."""
    name = column or rule.field
    src = rule.source
    return (
        f"arg_max({src}, {priority(rule)}) AS {name}, coalesce(min({src}) <> max({src}), false) AS c_{name}"
    )


def single(rule: FieldRule, column: str | None = None) -> str:
    """The single-row form of :func:`pick`: the row's own value, and nothing to disagree with."""
    name = column or rule.field
    return f"{rule.source} AS {name}, false AS c_{name}"


def as_text(rule: FieldRule) -> str:
    """The value of ``rule`` as hub_values text (dates ISO, amounts with 2 decimals)."""
    return f"CAST({rule.source} AS VARCHAR)"
