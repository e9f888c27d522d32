"""YAML read through libyaml when PyYAML has it: about ten times the pure-Python reader's speed. The
schema (schemas/*.yaml) and the mapping specs are read by every command, which made YAML parsing about
a second of each CLI call."""

from __future__ import annotations

from typing import Any

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` (the same safe subset, the same ``yaml.YAMLError`` with ``problem_mark``)."""
    return yaml.load(text, Loader=LOADER)  # noqa: S506 (a safe loader)
