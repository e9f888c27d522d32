"""Account administration (the steward's 账户 page and `hub users …`), login limits that slow an
attacker without locking the owner out, and Secure cookies over HTTPS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.serve.accounts import LoginLimiter, create_token, get_user
from tests.serve.conftest import PASSWORD, QINGSHAN, csrf_of, login, page_csrf


def _try_login(app: Any, name: str, password: str, address: str = "10.0.0.1", **kw: Any) -> Any:
    """One login from ``address``; the form's cookie is sent back by hand (a client keeps a
    ``Secure`` cookie from a plain-http URL, as a browser would)."""
    c = TestClient(app, client=(address, 40000), **kw)
    token = csrf_of(c.get("/login").text)
    c.cookies.clear()
    return c.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        headers={"Cookie": f"hub_login_csrf={token}"},
        follow_redirects=False,
    )


def _post(c: TestClient, path: str, **data: str) -> Any:
    return c.post(path, data={"csrf_token": page_csrf(c, "/steward/users"), **data}, follow_redirects=False)


def _token(app: Any, name: str) -> str:
    db = app.state.hub_state.hub.db
    user = get_user(db, name)
    assert user is not None
    return create_token(db, user, "test")


# -- the steward's pages ------------------------------------------------------------------------------
def test_steward_lists_accounts_without_password_hashes(app: Any) -> None:
    page = login(app, "steward").get("/steward/users")
    assert page.status_code == 200
    for name in ("qs_clerk", "cg_clerk", "mz_user", "ga_user", "steward"):
        assert f'data-user="{name}"' in page.text
    assert "青山镇" in page.text and "民政" in page.text and "数据管理员" in page.text
    assert "$argon2" not in page.text
    for role in ("qs_clerk", "mz_user"):
        assert login(app, role).get("/steward/users").status_code == 403


def test_steward_adds_a_clerk_and_the_password_is_shown_once(app: Any) -> None:
    c = login(app, "steward")
    r = _post(c, "/steward/users", username="ｎｅｗ_clerk ", role="clerk", township=QINGSHAN)
    assert r.status_code == 200, r.text
    password = r.text.split('<code id="password">')[1].split("</code>")[0]
    assert _try_login(app, "new_clerk", password).headers["location"] == "/clerk"
    again = c.get("/steward/users").text
    assert password not in again and 'data-user="new_clerk"' in again
    assert "添加" in again.split('id="events"')[1]  # the account log names the action


def test_adding_refuses_unknown_departments_with_the_list_and_keeps_the_form(app: Any) -> None:
    c = login(app, "steward")
    r = _post(c, "/steward/users", username="x_dept", role="department", dept="宣传部")
    assert r.status_code == 400
    assert "宣传部" in r.text and "民政" in r.text and "市场监管" in r.text
    assert 'value="x_dept"' in r.text
    assert "x_dept" not in str(app.state.hub_state.hub.db.rows("SELECT username FROM hub_users"))


def test_post_without_csrf_is_refused(app: Any) -> None:
    c = login(app, "steward")
    r = c.post("/steward/users/qs_clerk/disable", follow_redirects=False)
    assert r.status_code == 403
    assert _try_login(app, "qs_clerk", PASSWORD).status_code == 303


def test_disabling_ends_sessions_and_tokens_and_stops_login(app: Any) -> None:
    clerk = login(app, "qs_clerk")
    token = _token(app, "mz_user")
    api = TestClient(app)
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/reports", headers=bearer).status_code == 200
    c = login(app, "steward")
    for name in ("qs_clerk", "mz_user"):
        r = _post(c, f"/steward/users/{name}/disable")
        assert r.status_code == 303
    page = c.get(r.headers["location"]).text
    assert "已停用 mz_user" in page
    assert clerk.get("/clerk", follow_redirects=False).headers["location"] == "/login"
    assert api.get("/api/v1/reports", headers=bearer).status_code == 401
    refused = _try_login(app, "qs_clerk", PASSWORD)
    assert refused.status_code == 401 and "用户名或密码不正确" in refused.text
    assert _post(c, "/steward/users/qs_clerk/enable").status_code == 303
    assert _try_login(app, "qs_clerk", PASSWORD).status_code == 303
    assert api.get("/api/v1/reports", headers=bearer).status_code == 401  # tokens do not come back


def test_steward_cannot_disable_self_and_unknown_users_are_404(app: Any) -> None:
    c = login(app, "steward")
    r = _post(c, "/steward/users/steward/disable")
    assert r.status_code == 400 and "自己" in r.text
    assert _post(c, "/steward/users/nobody/reset").status_code == 404


def test_reset_password_ends_sessions_and_shows_the_new_one(app: Any) -> None:
    clerk = login(app, "cg_clerk")
    c = login(app, "steward")
    r = _post(c, "/steward/users/cg_clerk/reset")
    assert r.status_code == 200
    password = r.text.split('<code id="password">')[1].split("</code>")[0]
    assert clerk.get("/clerk", follow_redirects=False).headers["location"] == "/login"
    assert _try_login(app, "cg_clerk", PASSWORD).status_code == 401
    assert _try_login(app, "cg_clerk", password).status_code == 303


def test_revoke_tokens_from_the_page(app: Any) -> None:
    token = _token(app, "ga_user")
    c = login(app, "steward")
    r = _post(c, "/steward/users/ga_user/revoke-tokens")
    assert r.status_code == 303
    assert "1 个" in c.get(r.headers["location"]).text
    api = TestClient(app)
    assert api.get("/api/v1/reports", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(app, "ga_user").get("/dept").status_code == 200  # the account itself still works


# -- the CLI --------------------------------------------------------------------------------------
@pytest.fixture
def cli_home(tmp_path: Path, bare_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(bare_home, home)
    monkeypatch.setenv("HUB_HOME", str(home))
    return home


def _hub(*args: str) -> Any:
    from cli import app

    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_cli_adds_a_clerk_by_township_name_as_the_readme_shows(cli_home: Path) -> None:
    r = _hub("users", "add", "qs_new", "--role", "clerk", "--township", "青山镇")
    assert r.exit_code == 0, r.output
    assert "初始密码" in r.output and QINGSHAN in r.output
    r = _hub("users", "add", "cg_new", "--role", "clerk", "--township", "城关", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["township_code"] == "331099001"
    r = _hub("users", "add", "xx", "--role", "clerk", "--township", "白云镇")
    assert r.exit_code == 1 and "找不到" in r.output and "青山镇（331099101）" in r.output


def test_cli_checks_departments_against_the_known_list(cli_home: Path) -> None:
    r = _hub("users", "add", "mz2", "--role", "department", "--dept", "民政局")
    assert r.exit_code == 1
    assert "民政局" in r.output and "可选：" in r.output and "卫健" in r.output and "公安" in r.output
    assert _hub("users", "add", "mz2", "--role", "department", "--dept", "民政").exit_code == 0


def test_cli_lists_disables_enables_resets_and_revokes(cli_home: Path) -> None:
    listed = json.loads(_hub("users", "list", "--json").stdout)
    by_name = {u["username"]: u for u in listed}
    assert set(by_name) >= {"qs_clerk", "mz_user", "steward"}
    assert by_name["qs_clerk"]["township_code"] == QINGSHAN and by_name["mz_user"]["department"] == "民政"
    assert not any("hash" in key for u in listed for key in u)
    assert "$argon2" not in _hub("users", "list").output

    from hub.facade import Hub
    from hub.serve.accounts import authenticate

    assert _hub("users", "disable", " QS_clerk ").exit_code == 0  # names as authentication reads them
    hub = Hub(cli_home)
    assert authenticate(hub.db, "qs_clerk", PASSWORD) is None
    hub.close()
    assert json.loads(_hub("users", "list", "--json").stdout)[0] is not None
    assert _hub("users", "enable", "qs_clerk").exit_code == 0
    r = _hub("users", "reset", "qs_clerk", "--json")
    new = json.loads(r.stdout)["password"]
    hub = Hub(cli_home)
    assert authenticate(hub.db, "qs_clerk", new) is not None
    user = get_user(hub.db, "mz_user")
    assert user is not None
    create_token(hub.db, user)
    hub.close()
    r = _hub("users", "revoke-tokens", "mz_user", "--json")
    assert json.loads(r.stdout) == {"username": "mz_user", "revoked": 1}
    missing = _hub("users", "disable", "nobody")
    assert missing.exit_code == 1 and "不存在" in missing.output


def test_cli_refuses_to_disable_the_last_steward(cli_home: Path) -> None:
    r = _hub("users", "disable", "steward")
    assert r.exit_code == 1 and "唯一" in r.output


# -- login limits ---------------------------------------------------------------------------------
@pytest.fixture
def slow_limiter(app: Any) -> Any:
    """The default limits with waits long enough that a loaded test machine cannot outlast them."""
    app.state.hub_state.limiter = LoginLimiter(base=60.0, address_free=5)
    return app


def test_spaces_case_or_full_width_letters_give_no_fresh_attempts(slow_limiter: Any) -> None:
    app = slow_limiter
    for name in ("cg_clerk", " cg_clerk  ", "CG_clerk", "ｃｇ_clerk"):  # 3 free, then 1 s to wait
        r = _try_login(app, name, "wrong-wrong")
        assert r.status_code == 401, name
    r = _try_login(app, "\tcg_clerk ", PASSWORD)
    assert r.status_code == 429 and "过多" in r.text and int(r.headers["retry-after"]) > 50


def test_a_third_party_elsewhere_cannot_lock_the_owner_out(slow_limiter: Any) -> None:
    app = slow_limiter
    for _ in range(8):
        _try_login(app, "qs_clerk", "guess-guess", address="203.0.113.9")
    assert _try_login(app, "qs_clerk", PASSWORD, address="203.0.113.9").status_code == 429
    owner = _try_login(app, "qs_clerk", PASSWORD, address="10.1.1.1")  # the owner's own address
    assert owner.status_code == 303 and owner.headers["location"] == "/clerk"


def test_one_address_spraying_many_accounts_is_slowed(slow_limiter: Any) -> None:
    app = slow_limiter
    for i in range(6):
        _try_login(app, f"user{i}", "wrong-wrong", address="198.51.100.7")
    assert _try_login(app, "steward", PASSWORD, address="198.51.100.7").status_code == 429
    assert _try_login(app, "steward", PASSWORD, address="10.2.2.2").status_code == 303


# -- Secure cookies -------------------------------------------------------------------------------
def _session_cookie(response: Any) -> str:
    cookies = response.headers.get_list("set-cookie")
    found = [c for c in cookies if c.startswith("hub_session=")]
    assert found, cookies
    return found[0]


def test_cookies_are_secure_over_https_and_httponly_samesite_stay(app: Any) -> None:
    r = _try_login(app, "qs_clerk", PASSWORD, base_url="https://hub.example")
    cookie = _session_cookie(r)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    login_csrf = TestClient(app, base_url="https://hub.example").get("/login").headers["set-cookie"]
    assert "Secure" in login_csrf and "HttpOnly" in login_csrf


def test_cookies_over_plain_http_are_not_secure(app: Any) -> None:
    cookie = _session_cookie(_try_login(app, "qs_clerk", PASSWORD))
    assert "Secure" not in cookie and "HttpOnly" in cookie


def test_forwarded_proto_is_believed_only_from_a_trusted_proxy(app: Any) -> None:
    https = {"X-Forwarded-Proto": "https"}
    proxied = _try_login(app, "qs_clerk", PASSWORD, address="127.0.0.1", headers=https)
    assert "Secure" in _session_cookie(proxied)
    direct = _try_login(app, "cg_clerk", PASSWORD, address="10.9.9.9", headers=https)
    assert "Secure" not in _session_cookie(direct)


def test_cookie_secure_flag_forces_secure(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_COOKIE_SECURE", "1")
    assert "Secure" in _session_cookie(_try_login(app, "qs_clerk", PASSWORD))
    assert "Secure" in TestClient(app).get("/login").headers["set-cookie"]
