"""Mapping expressions call only the functions of the allow-list: nothing that reads the engine's
settings, files or catalogue reaches a report or the steward's preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.export import check_mappings
from hub.paths import REPO_ROOT


def _spec(tmp_path: Path, old: str, new: str) -> Path:
    text = (REPO_ROOT / "mappings" / "SJ-GTGSH.yaml").read_text(encoding="utf-8")
    assert old in text
    (tmp_path / "SJ-GTGSH.yaml").write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def test_the_seven_specs_pass() -> None:
    assert check_mappings() == []


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("expr: b.name,", "expr: \"current_setting('temp_directory')\",", "current_setting"),
        ("expr: b.name,", "expr: \"getenv('HOME')\",", "getenv"),
        ("expr: b.name,", 'expr: "b.name || version()",', "version"),
        ("where: b.uscc_type = '92'", "where: b.uscc IN (SELECT uscc FROM business)", "子查询"),
        ("from: business b", "from: business b, read_csv('/etc/passwd') x", "表函数"),
        ("from: business b", "from: business b, (SELECT 1 AS one) x", "子查询"),
    ],
)
def test_a_function_outside_the_allow_list_is_refused(tmp_path: Path, old: str, new: str, said: str) -> None:
    problems = [
        p for p in check_mappings(_spec(tmp_path, old, new)) if p.code in ("spec-function", "spec-sql")
    ]
    assert problems, "the spec must not pass"
    text = " ".join(str(p) for p in problems)
    assert said.lower() in text.lower()
    if said not in ("子查询", "表函数"):
        assert "只能使用这些函数" in text and "code_label" in text and "strftime" in text


def test_the_stewards_preview_refuses_it_and_shows_no_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from fastapi.testclient import TestClient

    from hub.serve.accounts import add_user
    from hub.serve.app import create_app
    from tests.serve.conftest import PASSWORD, login, page_csrf

    shutil.copytree(REPO_ROOT / "mappings", tmp_path / "mappings")
    monkeypatch.setenv("HUB_MAPPINGS", str(tmp_path / "mappings"))
    app = create_app(tmp_path / "home")
    try:
        add_user(app.state.hub_state.hub.db, "steward", "steward", password=PASSWORD)
        c: TestClient = login(app, "steward")
        text = (tmp_path / "mappings" / "SJ-GTGSH.yaml").read_text(encoding="utf-8")
        draft = text.replace("expr: b.name,", "expr: \"current_setting('temp_directory')\",")
        secret = str(app.state.hub_state.hub.db.scalar("SELECT current_setting('temp_directory')"))
        r = c.post(
            "/steward/mappings/SJ-GTGSH",
            data={
                "action": "preview",
                "text": draft,
                "csrf_token": page_csrf(c, "/steward/mappings/SJ-GTGSH"),
            },
        )
        assert r.status_code == 200 and "current_setting" in r.text and "只能使用这些函数" in r.text
        assert not secret or secret not in r.text
        assert (tmp_path / "mappings" / "SJ-GTGSH.yaml").read_text(encoding="utf-8") == text  # not published
    finally:
        app.state.hub_state.jobs.shutdown()
        app.state.hub_state.hub.close()
