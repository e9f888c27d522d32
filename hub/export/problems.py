"""Spec problems: every problem at once, each with file, field path and a next step."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SpecProblem:
    file: str
    path: str  # e.g. sheets[0].columns[3].expr
    message: str
    code: str = (
        "spec-invalid"  # spec-yaml | spec-key | spec-sql | spec-column | spec-table | spec-entitlement ...
    )

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""
