"""Accounts, login, sessions, CSRF and login rate limiting."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.errors import HubError
from hub.serve.accounts import LoginLimiter, add_user, authenticate
from tests.serve.conftest import PASSWORD, QINGSHAN, csrf_of, login, page_csrf


def test_add_user_hashes_with_argon2_and_generates_password(app: Any) -> None:
    db = app.state.hub_state.hub.db
    generated = add_user(db, "new_clerk", "clerk", township=QINGSHAN + "000")
    assert len(generated) >= 12
    stored = db.scalar("SELECT password_hash FROM hub_users WHERE username = 'new_clerk'")
    assert stored.startswith("$argon2id$") and generated not in stored
    assert db.scalar("SELECT township_code FROM hub_users WHERE username = 'new_clerk'") == QINGSHAN
    assert authenticate(db, "new_clerk", generated) is not None
    assert authenticate(db, "new_clerk", generated + "x") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "a b", "role": "steward"}, "用户名"),
        ({"name": "x1", "role": "admin"}, "角色"),
        ({"name": "x2", "role": "clerk"}, "--township"),
        ({"name": "x3", "role": "clerk", "township": "999999999"}, "区划表中没有"),
        ({"name": "x4", "role": "clerk", "township": "12345"}, "9位"),
        ({"name": "x5", "role": "department"}, "--dept"),
        ({"name": "x6", "role": "steward", "dept": "民政"}, "--dept"),
        ({"name": "x7", "role": "steward", "password": "short"}, "至少"),
        ({"name": "steward", "role": "steward"}, "已存在"),
    ],
)
def test_add_user_refuses_bad_arguments(app: Any, args: dict[str, Any], message: str) -> None:
    with pytest.raises(HubError) as info:
        add_user(app.state.hub_state.hub.db, **args)
    assert message in str(info.value)


def test_login_sets_httponly_samesite_cookie_and_redirects_by_role(app: Any) -> None:
    c = TestClient(app)
    token = csrf_of(c.get("/login").text)
    r = c.post(
        "/login",
        data={"username": "qs_clerk", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/clerk"
    cookie = r.headers["set-cookie"]
    assert "hub_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    db = app.state.hub_state.hub.db
    assert c.cookies.get("hub_session") not in str(
        db.rows("SELECT * FROM hub_sessions")
    )  # only the hash is stored
    assert login(app, "mz_user").get("/", follow_redirects=False).headers["location"] == "/dept"
    assert login(app, "steward").get("/", follow_redirects=False).headers["location"] == "/steward"


def test_wrong_password_is_refused_in_chinese(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "qs_clerk", "password": "nope-nope", "csrf_token": token})
    assert r.status_code == 401 and "用户名或密码不正确" in r.text
    assert "hub_session" not in client.cookies


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "qs_clerk", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text


def test_login_rate_limit_blocks_even_the_right_password(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"username": "cg_clerk", "password": "wrong-wrong", "csrf_token": token})
    r = client.post("/login", data={"username": "cg_clerk", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "过多" in r.text


def test_limiter_backs_off_exponentially_and_forgets() -> None:
    limiter = LoginLimiter(free=2, base=0.2, cap=1.0, forget=5.0)
    for _ in range(2):
        assert not limiter.blocked("k", "a")
        limiter.failed("k", "a")
    assert not limiter.blocked("k", "a")  # two free failures; the third try is still allowed
    limiter.failed("k", "a")
    assert limiter.blocked("k", "a") == 1  # a wait of 0.2 s, rounded up to the second shown
    import time

    time.sleep(0.25)
    assert not limiter.blocked("k", "a")
    limiter.failed("k", "a")  # the fourth failure doubles the wait: 0.4 s
    time.sleep(0.25)
    assert limiter.blocked("k", "a")
    time.sleep(0.2)
    assert not limiter.blocked("k", "a")
    assert not limiter.blocked("k", "b")  # another address of the same account: untouched


def test_pages_need_login(client: TestClient) -> None:
    for path in ("/clerk", "/dept", "/steward", "/clerk/submissions", "/steward/access-log"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login", path


def test_logout_needs_csrf_and_ends_the_session(app: Any) -> None:
    c = login(app, "qs_clerk")
    assert c.post("/logout", follow_redirects=False).status_code == 403
    token = page_csrf(c, "/clerk")
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    c.cookies.clear()
    assert (
        app.state.hub_state.hub.db.scalar("SELECT count(*) FROM hub_sessions WHERE username = 'qs_clerk'")
        == 0
    )


def test_csrf_token_of_another_session_is_refused(app: Any) -> None:
    mine, other = login(app, "qs_clerk"), login(app, "cg_clerk")
    stolen = page_csrf(other, "/clerk")
    r = mine.post(
        "/clerk/upload", data={"csrf_token": stolen}, files=[("files", ("a.csv", b"x", "text/csv"))]
    )
    assert r.status_code == 403 and "CSRF" in r.text


@pytest.mark.parametrize(
    ("user", "forbidden"),
    [
        ("qs_clerk", ["/dept", "/steward", "/steward/mappings", "/steward/access-log", "/dept/tokens"]),
        ("mz_user", ["/clerk", "/clerk/submissions", "/clerk/template", "/steward", "/steward/schema"]),
        ("steward", ["/clerk", "/dept"]),
    ],
)
def test_roles_only_reach_their_pages(app: Any, user: str, forbidden: list[str]) -> None:
    c = login(app, user)
    for path in forbidden:
        r = c.get(path)
        assert r.status_code == 403, path
        assert "无权" in r.text and "Traceback" not in r.text
