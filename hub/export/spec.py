"""Mapping specs (``mappings/<ID>.yaml``) as strict data.

A spec is authored as YAML and loaded into these models (``extra="forbid"``: a misspelt key is an
error naming its path). SQL lives in the spec only as text; :mod:`hub.export.compile` parses it once
with sqlglot and nothing downstream parses strings again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RefRule = Literal["month_end", "quarter_end", "year_end", "previous_month_end", "report_date"]
Period = Literal["monthly", "quarterly", "annual", "on_demand"]
Format = Literal["text", "date", "money", "integer", "datetime"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Column(Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    header: list[str] = Field(min_length=1)
    expr: str | None = None  # SQL over the population (list) or an aggregate (grouped sheets)
    serial: bool = False  # 序号: 1..n over data rows (over blocks when the sheet has a block)
    level: Literal["person", "household"] = "person"
    codelist: str | None = None  # translate the expression's code through schemas/codes/<name>.csv
    format: Format = "text"
    pattern: str | None = None  # strftime pattern for date/datetime in csv output (e.g. %Y%m%d)
    mask: Literal["id", "mobile"] | None = None  # applied in a masked copy
    width: float | None = None


class Population(Strict):
    from_: str = Field(alias="from")  # FROM clause text over the canonical views
    where: str | None = None
    township: str  # expression giving the 9-digit township of a row (scope and file split)


class Total(Strict):
    position: Literal["top", "bottom"] = "bottom"
    label_column: str
    label: str = "合计"  # may use {records}
    sum: list[str] = Field(default_factory=list)  # column keys summed (household columns once per block)
    cells: dict[str, str] = Field(default_factory=dict)  # key -> aggregate SQL over the result columns


class Fold(Strict):
    """Small-cell protection: grouped rows whose `measure` is below `below` become one row."""

    measure: str
    below: int
    label_column: str
    label: str  # written in label_column; the other non-measure columns of the folded row are empty


class Check(Strict):
    name: str
    assert_: str = Field(alias="assert")  # SQL boolean over the column keys, true on every row
    rows: Literal["all", "data", "total"] = "all"
    # refuse: a failing row refuses the whole file (integrity: 合计, 审核关系);
    # hold: the failing rows' blocks (e.g. households) are held back and each is listed as a problem,
    # named by the `describe` column keys; the rest of the file goes out (list sheets only)
    on_fail: Literal["refuse", "hold"] = "refuse"
    describe: list[str] = Field(default_factory=list)


class Sheet(Strict):
    name: str
    title: str
    meta: list[str] = Field(default_factory=list)
    population: Population
    columns: list[Column] = Field(min_length=1)
    group_by: list[str] = Field(default_factory=list)  # column keys: a grouped (aggregate) sheet
    order_by: list[str] = Field(default_factory=list)  # SQL over the population / grouped keys
    block: str | None = None  # household key: level=household cells merge vertically over a block
    records: str  # expression whose distinct count is the number of entities covered
    total: Total | None = None
    fold: Fold | None = None
    column_numbers: list[str] | None = None  # 栏次 row
    footer: list[str] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    freeze: bool = True


class Table(Strict):
    """A small lookup table that is part of the 口径 (e.g. 高龄津贴 bands and rates)."""

    columns: list[str]
    rows: list[list[str | int | float]]


class Output(Strict):
    format: Literal["xlsx", "csv"] = "xlsx"
    encoding: str = "utf-8"
    header: Literal["last", "none"] = "last"  # csv: the last header line of every column


#: the sign-off row that ends a statistical form (统计报表表尾): who is responsible, who filled it, when
DEFAULT_SIGNOFF = ("单位负责人", "统计负责人", "填表人", "报出日期")


class Spec(Strict):
    id: str = Field(pattern=r"^[A-Z]{2}-[A-Z0-9]+$")
    department: str
    title: str
    period: Period
    reference_date: RefRule
    scope: Literal["township", "county"] = "township"
    output: Output = Field(default_factory=Output)
    params: dict[str, int | float | str] = Field(default_factory=dict)
    tables: dict[str, Table] = Field(default_factory=dict)
    sheets: list[Sheet] = Field(min_length=1)
    masked: bool = False  # a copy for a party not entitled to full IDs
    # the sign-off row under every sheet of a printed report (xlsx): each label followed by room to
    # sign; 报出日期 gets "年 月 日". [] for none (an exchange file has no place to sign).
    signoff: list[str] = Field(default_factory=lambda: list(DEFAULT_SIGNOFF))
