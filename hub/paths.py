"""Where the hub finds its data (schemas, mappings) and keeps its workspace (HUB_HOME)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def schemas_dir() -> Path:
    return Path(os.environ.get("HUB_SCHEMAS", REPO_ROOT / "schemas"))


def mappings_dir() -> Path:
    return Path(os.environ.get("HUB_MAPPINGS", REPO_ROOT / "mappings"))


def hub_home() -> Path:
    return Path(os.environ.get("HUB_HOME", "hub-data")).resolve()
