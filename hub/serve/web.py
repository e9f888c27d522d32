"""Plumbing shared by every page: the application state, the signed-in user, role and scope checks,
CSRF, rendering, and the one error shape."""

from __future__ import annotations

import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from hub.errors import HubError
from hub.serve.accounts import LoginLimiter, User, session_user

if TYPE_CHECKING:
    from hub.facade import Hub
    from hub.serve.jobs import Jobs

log = logging.getLogger("hub.serve")
SESSION_COOKIE = "hub_session"
LOGIN_CSRF_COOKIE = "hub_login_csrf"
HERE = Path(__file__).parent


@dataclass
class State:
    hub: Hub
    templates: Jinja2Templates
    jobs: Jobs
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    max_upload_bytes: int = 20 * 1024 * 1024
    max_files: int = 20
    cookie_secure: bool = False

    last_pruned: float = 0.0

    def __post_init__(self) -> None:
        from hub.serve.labels import label

        self.templates.env.filters["label"] = label  # internal names → Chinese (hub/serve/labels.py)
        self.prune_if_due()

    def prune_if_due(self) -> None:
        """Delete uploads, annotated copies and exports older than HUB_RETENTION_DAYS (at start,
        then at most once a day, on the next upload); the store and its audit tables stay."""
        from hub.retention import incomplete_sources, prune, retention_days, secure_home

        secure_home(self.hub.home)
        days = retention_days()
        if days is None or time.time() - self.last_pruned < 86400:
            return
        self.last_pruned = time.time()
        try:
            done = prune(self.hub.home, days, incomplete_sources(self.hub.db))
        except (OSError, HubError):
            log.exception("retention: pruning old files failed")
            return
        if done.files:
            log.info(
                "retention: %d files (%d bytes) older than %d days removed", done.files, done.bytes, days
            )


class WebError(HubError):
    """An error meant for the browser or API client, with its HTTP status."""

    def __init__(self, status: int, message: str, code: str = "error", hint: str | None = None):
        super().__init__(message, hint=hint, code=code)
        self.status = status


class LoginRequired(Exception):
    pass


def forbidden(message: str = "您没有权限访问此页面。") -> WebError:
    return WebError(403, message, code="forbidden")


def not_found(message: str = "找不到该页面或数据。") -> WebError:
    return WebError(404, message, code="not-found")


def state(request: Request) -> State:
    st: State = request.app.state.hub_state
    return st


def session(request: Request) -> tuple[User, str] | None:
    if not hasattr(request.state, "session"):
        request.state.session = session_user(state(request).hub.db, request.cookies.get(SESSION_COOKIE))
    found: tuple[User, str] | None = request.state.session
    return found


def current_user(request: Request) -> User:
    found = session(request)
    if found is None:
        raise LoginRequired()
    return found[0]


def require(request: Request, *roles: str) -> User:
    user = current_user(request)
    if user.role not in roles:
        raise forbidden()
    return user


def clerk(request: Request) -> User:
    return require(request, "clerk")


def department(request: Request) -> User:
    return require(request, "department")


def steward(request: Request) -> User:
    return require(request, "steward")


def csrf_token(request: Request) -> str:
    found = session(request)
    if found is not None:
        return found[1]
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or getattr(request.state, "login_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.login_csrf = token
    return token


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's token (form field or X-CSRF-Token)."""
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    found = session(request)
    expected = found[1] if found else request.cookies.get(LOGIN_CSRF_COOKIE)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise WebError(403, "表单已过期或来源不明（CSRF 校验未通过）。请刷新页面后重新提交。", code="csrf")


def render(request: Request, name: str, status_code: int = 200, **ctx: Any) -> Response:
    found = session(request)
    ctx.setdefault("user", found[0] if found else None)
    ctx["csrf"] = csrf_token(request)
    response = state(request).templates.TemplateResponse(request, name, ctx, status_code=status_code)
    login_csrf = getattr(request.state, "login_csrf", None)
    if login_csrf:
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            login_csrf,
            httponly=True,
            samesite="strict",
            secure=state(request).cookie_secure,
            path="/",
        )
    return response


def township_name(request: Request, code: str | None) -> str:
    if not code:
        return "全县"
    name = state(request).hub.db.scalar(
        "SELECT name FROM hub_divisions WHERE code IN (?, ?) ORDER BY length(code) LIMIT 1",
        [code, code + "000"],
    )
    return str(name) if name else code


def townships(request: Request) -> list[dict[str, Any]]:
    rows = state(request).hub.db.dicts(
        "SELECT left(code, 9) AS code, name FROM hub_divisions WHERE level = 'township' ORDER BY code"
    )
    if not rows:  # no division table loaded: the townships that have submitted
        rows = state(request).hub.db.dicts(
            "SELECT DISTINCT township_code AS code, township_code AS name FROM hub_submissions "
            "WHERE township_code IS NOT NULL ORDER BY 1"
        )
    return rows
