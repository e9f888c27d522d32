"""Merging on identity: one record per real person, household and business, with stable codes,
provenance of every value and the conflicts between sources (see docs/merging.md)."""

from hub.dedupe.merge import MergeSummary, merge
from hub.dedupe.query import explain_person, list_conflicts

__all__ = ["MergeSummary", "explain_person", "list_conflicts", "merge"]
