"""Export: mapping specs → sqlglot trees over the canonical views → department files."""

from hub.export.catalog import check_mappings
from hub.export.document import register_writer
from hub.export.problems import SpecProblem
from hub.export.run import (
    ExportResult,
    ReportInfo,
    ReportRows,
    export_reports,
    list_reports,
    preview_report,
    report_rows,
)

__all__ = [
    "ExportResult",
    "ReportInfo",
    "SpecProblem",
    "check_mappings",
    "export_reports",
    "list_reports",
    "preview_report",
    "register_writer",
    "ReportRows",
    "report_rows",
]
