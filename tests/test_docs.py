"""Docs and the code cannot drift: every CLI command is in the README, every finding code in the
validation docs, every report in the README and docs/mappings.md, and the changelog has entries."""

from __future__ import annotations

import typer
from typer.main import get_command

from hub.model import load_schema
from tests.conftest import ROOT


def _commands(group: object, prefix: str = "") -> list[str]:
    commands = getattr(group, "commands", None)
    assert isinstance(commands, dict)
    out = []
    for name, cmd in commands.items():
        full = f"{prefix}{name}"
        if hasattr(cmd, "commands"):
            out.append(full)
            out += _commands(cmd, full + " ")
        else:
            out.append(full)
    return out


def test_every_cli_command_is_in_the_readme_with_chinese_help() -> None:
    from cli import app

    assert isinstance(app, typer.Typer)
    group = get_command(app)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _commands(group)
    assert {"ingest", "run", "export", "mappings check", "review accept", "serve", "users add"} <= set(
        commands
    )
    for name in commands:
        assert f"hub {name}" in readme, f"README does not document `hub {name}`"


def test_every_finding_code_and_report_is_documented() -> None:
    validation = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for code in load_schema().findings:
        assert f"`{code}`" in validation, code
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    mappings = (ROOT / "docs" / "mappings.md").read_text(encoding="utf-8")
    for spec in sorted((ROOT / "mappings").glob("*.yaml")):
        assert spec.stem in readme and spec.stem in mappings, spec.stem


def test_changelog_has_unreleased_entries() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## Unreleased" in text and text.count("\n- ") >= 5
