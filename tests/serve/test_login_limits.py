"""Login limits kept in the store: a restart of the server or a change of address gives no fresh
attempts, and no counter locks an account for good (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.serve.accounts import LoginLimiter, reset_password
from hub.serve.app import create_app
from tests.serve.conftest import PASSWORD, csrf_of


def _try(app: Any, name: str, password: str, address: str) -> Any:
    c = TestClient(app, client=(address, 40000))
    token = csrf_of(c.get("/login").text)
    return c.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _restart(app: Any) -> Any:
    st = app.state.hub_state
    home = st.hub.home
    st.jobs.shutdown()
    st.hub.close()
    return create_app(home)


def _slow(app: Any) -> Any:
    """The server's limits (3 free failures per account and address…) with waits of a minute, so a
    loaded test machine cannot outlast them."""
    st = app.state.hub_state
    st.limiter = LoginLimiter(db=st.hub.db, base=60.0)
    return app


def test_a_restart_of_the_server_gives_no_fresh_attempts(app: Any) -> None:
    for _ in range(4):
        assert _try(_slow(app), " QS_clerk", "guess-guess", "203.0.113.9").status_code == 401
    assert _try(app, "qs_clerk", PASSWORD, "203.0.113.9").status_code == 429
    again = _slow(_restart(app))
    try:
        r = _try(again, "qs_clerk", PASSWORD, "203.0.113.9")
        assert r.status_code == 429 and "登录失败次数过多" in r.text
        assert 30 <= int(r.headers["retry-after"]) <= 60
        owner = _try(again, "qs_clerk", PASSWORD, "10.1.1.1")  # the owner's own address is not slowed
        assert owner.status_code == 303 and owner.headers["location"] == "/clerk"
        rows = again.state.hub_state.hub.db.rows(
            "SELECT kind, account, address, failures FROM hub_login_failures ORDER BY kind"
        )
        assert ("pair", "qs_clerk", "203.0.113.9", 4) in rows  # the normalised name, not as typed
        assert ("address", "", "203.0.113.9", 4) in rows
    finally:
        again.state.hub_state.jobs.shutdown()
        again.state.hub_state.hub.close()


@pytest.mark.slow
def test_changing_address_gives_no_fresh_attempts_but_the_owner_gets_in(app: Any) -> None:
    st = app.state.hub_state
    st.limiter = LoginLimiter(db=st.hub.db, account_free=5, account_cap=60.0, base=60.0)
    assert _try(app, "cg_clerk", PASSWORD, "10.9.9.9").status_code == 303  # the owner's office
    for i in range(6):  # one guess from each of six addresses
        assert _try(app, "cg_clerk", "guess-guess", f"198.51.100.{i}").status_code == 401
    r = _try(app, "ＣＧ_clerk", PASSWORD, "198.51.100.77")  # a seventh address, full-width letters
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 50
    again = _restart(app)
    try:
        again.state.hub_state.limiter = LoginLimiter(
            db=again.state.hub_state.hub.db, account_free=5, account_cap=60.0, base=60.0
        )
        assert _try(again, "cg_clerk", PASSWORD, "198.51.100.78").status_code == 429
        owner = _try(again, "cg_clerk", PASSWORD, "10.9.9.9")  # where the owner signed in: exempt
        assert owner.status_code == 303 and owner.headers["location"] == "/clerk"
    finally:
        again.state.hub_state.jobs.shutdown()
        again.state.hub_state.hub.close()


def test_the_wait_is_bounded_and_counters_are_forgotten() -> None:
    limiter = LoginLimiter(free=0, base=1.0, cap=3.0, address_cap=3.0, account_cap=3.0, forget=3600)
    for _ in range(60):  # an address hammering a known account: never more than the cap
        limiter.failed("qs_clerk", "203.0.113.9")
    assert 1 <= limiter.blocked("qs_clerk", "203.0.113.9") <= 3
    assert limiter.blocked("qs_clerk", "10.1.1.1") <= 3  # elsewhere: the account counter, capped too
    forgetful = LoginLimiter(free=0, base=60.0, forget=0.5)
    forgetful.failed("qs_clerk", "203.0.113.9")
    assert forgetful.blocked("qs_clerk", "203.0.113.9") >= 59
    import time

    time.sleep(0.6)
    assert forgetful.blocked("qs_clerk", "203.0.113.9") == 0


def test_the_counters_stay_bounded_under_a_spray_of_names() -> None:
    limiter = LoginLimiter(max_keys=20)
    for i in range(104):  # three counters per failure; trimmed at the 1st and the 101st
        limiter.failed(f"user{i}", f"192.0.2.{i}")
    count = limiter.db.scalar("SELECT count(*) FROM hub_login_failures")
    assert count <= 20 + 3 * 3
    assert limiter.blocked("user103", "192.0.2.103") == 0 and count > 0


def test_a_password_reset_gives_the_owner_a_fresh_start(app: Any) -> None:
    st = _slow(app).state.hub_state
    for _ in range(5):
        _try(app, "qs_clerk", "guess-guess", "10.3.3.3")
    assert _try(app, "qs_clerk", PASSWORD, "10.3.3.3").status_code == 429
    reset_password(st.hub.db, "qs_clerk", PASSWORD + "-new")
    assert _try(app, "qs_clerk", PASSWORD + "-new", "10.3.3.3").status_code == 303
