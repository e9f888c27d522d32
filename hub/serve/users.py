"""The steward's account pages (账户): list, add, disable / enable, reset a password, revoke a user's
API tokens; and the web side of login safety: the "try again later" answer and ``Secure`` cookies
whenever the hub is reached over HTTPS."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.errors import HubError
from hub.serve import accounts
from hub.serve.accounts import ROLES, User
from hub.serve.web import check_csrf, render, state, steward, townships

router = APIRouter(prefix="/steward/users", include_in_schema=False)
NOTICES = {
    "disable": "已停用 {name}：其登录会话已结束，接口令牌已吊销。",
    "enable": "已启用 {name}：可以重新登录（原有接口令牌不会恢复，需本人重新创建）。",
    "revoke": "已吊销 {name} 的全部接口令牌（{count} 个）。",
}


def _page(request: Request, status_code: int = 200, **ctx: Any) -> Response:
    db = state(request).hub.db
    ctx.setdefault("form", {})
    return render(
        request,
        "steward_users.html",
        status_code=status_code,
        users=accounts.list_users(db),
        events=accounts.account_events(db),
        towns=townships(request),
        departments=accounts.known_departments(),
        roles=ROLES,
        **ctx,
    )


@router.get("")
def users_page(
    request: Request, done: str = "", name: str = "", count: int = 0, user: User = Depends(steward)
) -> Response:
    notice = NOTICES[done].format(name=name, count=count) if done in NOTICES and name else None
    return _page(request, notice=notice)


@router.post("", dependencies=[Depends(check_csrf)])
def add(
    request: Request,
    username: str = Form(""),
    role: str = Form(""),
    township: str = Form(""),
    dept: str = Form(""),
    password: str = Form(""),
    user: User = Depends(steward),
) -> Response:
    """添加: the password is shown once, on this response only (never in a URL or the log)."""
    form = {"username": username, "role": role, "township": township, "dept": dept}
    try:
        secret = accounts.add_user(
            state(request).hub.db,
            username,
            role,
            township=township if role == "clerk" else None,
            dept=dept if role == "department" else None,
            password=password or None,
            by=user.username,
        )
    except HubError as exc:
        return _page(request, status_code=400, error=exc.message, form=form)
    name = accounts.normalize_username(username)
    return _page(request, shown={"name": name, "password": None if password else secret, "what": "添加"})


def _refused(request: Request, exc: HubError) -> Response:
    return _page(request, status_code=404 if exc.code == "user-unknown" else 400, error=exc.message)


@router.post("/{name}/disable", dependencies=[Depends(check_csrf)])
def disable(request: Request, name: str, user: User = Depends(steward)) -> Response:
    """停用: sessions end and API tokens are revoked at once."""
    if accounts.username_key(name) == accounts.username_key(user.username):
        return _page(request, status_code=400, error="不能停用自己的账户；请由另一位数据管理员操作。")
    try:
        username = accounts.set_disabled(state(request).hub.db, name, True, by=user.username)
    except HubError as exc:
        return _refused(request, exc)
    return _redirect("disable", username)


@router.post("/{name}/enable", dependencies=[Depends(check_csrf)])
def enable(request: Request, name: str, user: User = Depends(steward)) -> Response:
    try:
        username = accounts.set_disabled(state(request).hub.db, name, False, by=user.username)
    except HubError as exc:
        return _refused(request, exc)
    return _redirect("enable", username)


@router.post("/{name}/revoke-tokens", dependencies=[Depends(check_csrf)])
def revoke_tokens(request: Request, name: str, user: User = Depends(steward)) -> Response:
    try:
        count = accounts.revoke_user_tokens(state(request).hub.db, name, by=user.username)
    except HubError as exc:
        return _refused(request, exc)
    return _redirect("revoke", accounts.normalize_username(name), count)


@router.post("/{name}/reset", dependencies=[Depends(check_csrf)])
def reset(request: Request, name: str, password: str = Form(""), user: User = Depends(steward)) -> Response:
    """重置密码: a new password, shown once on this response; the user's sessions end."""
    try:
        secret = accounts.reset_password(state(request).hub.db, name, password or None, by=user.username)
    except HubError as exc:
        return _refused(request, exc)
    name = accounts.normalize_username(name)
    return _page(request, shown={"name": name, "password": None if password else secret, "what": "重置密码"})


def _redirect(done: str, name: str, count: int = 0) -> Response:
    query = urlencode({"done": done, "name": name, "count": count})
    return RedirectResponse(f"/steward/users?{query}", status_code=303)


# -- login safety ---------------------------------------------------------------------------------
def too_many(request: Request, username: str, wait: int) -> Response:
    """429 with ``Retry-After``: the next try is allowed after ``wait`` seconds (never a lock)."""
    when = f"{wait} 秒" if wait < 120 else f"{(wait + 59) // 60} 分钟"
    response = render(
        request,
        "login.html",
        status_code=429,
        username=username,
        error=f"登录失败次数过多，请 {when}后再试。",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def trusted_proxies() -> set[str]:
    """Addresses whose ``X-Forwarded-Proto`` is believed (``HUB_TRUSTED_PROXIES``, comma-separated;
    default the loopback addresses, where a reverse proxy on the same machine connects from)."""
    text = os.environ.get("HUB_TRUSTED_PROXIES", "127.0.0.1,::1")
    return {t.strip() for t in text.split(",") if t.strip()}


def over_https(request: Request) -> bool:
    """Is this request served over HTTPS: the connection itself, a trusted proxy's
    ``X-Forwarded-Proto: https``, or the deployment says so (``HUB_COOKIE_SECURE=1``)."""
    if state(request).cookie_secure or os.environ.get("HUB_COOKIE_SECURE", "") == "1":
        return True
    if request.url.scheme in ("https", "wss"):
        return True
    peer = request.client.host if request.client else ""
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return forwarded == "https" and peer in trusted_proxies()


def secure_cookies(app: FastAPI) -> None:
    """Every cookie the hub sets (session, login CSRF, anything later) gets ``Secure`` when the
    request came over HTTPS; HttpOnly and SameSite stay as each route set them."""

    @app.middleware("http")
    async def _secure(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if over_https(request):
            response.raw_headers[:] = [
                (k, v + b"; Secure") if k.lower() == b"set-cookie" and not _has_secure(v) else (k, v)
                for k, v in response.raw_headers
            ]
        return response


def _has_secure(cookie: bytes) -> bool:
    return any(part.strip().lower() == b"secure" for part in cookie.split(b";")[1:])
