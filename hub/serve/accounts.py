"""Accounts, sessions and API tokens of the web application, kept in the store (``40_serve.sql``).

Passwords are hashed with argon2id; session cookies and API tokens are random 256-bit values of
which only the SHA-256 is stored, so a copy of the database does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.errors import HubError

if TYPE_CHECKING:
    from hub.store.db import Database

ROLES = {"clerk": "乡镇填报员", "department": "部门用户", "steward": "数据管理员"}
SESSION_HOURS = 12
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    username: str
    role: str  # clerk | department | steward
    township_code: str | None = None
    department: str | None = None

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def add_user(
    db: Database,
    name: str,
    role: str,
    township: str | None = None,
    dept: str | None = None,
    password: str | None = None,
) -> str:
    """Create an account; returns the password (generated when ``password`` is None, to hand over
    once). Raises :class:`HubError` with a Chinese message on any bad argument."""
    name = (name or "").strip()
    if not re.fullmatch(r"[\w.\-@\u4e00-\u9fff]{2,40}", name):
        raise HubError(
            f"用户名“{name}”不合法：2–40 个字符，可用汉字、字母、数字和 . - _ @。", code="user-invalid"
        )
    if role not in ROLES:
        raise HubError(f"角色“{role}”不存在，应为 clerk、department 或 steward。", code="user-invalid")
    township_code = dept_name = None
    if role == "clerk":
        township_code = _township_code(db, township)
    elif township:
        raise HubError("只有乡镇填报员（clerk）可以指定 --township。", code="user-invalid")
    if role == "department":
        dept_name = (dept or "").strip()
        if not dept_name:
            raise HubError("部门用户必须用 --dept 指定部门名称，例如 民政。", code="user-invalid")
    elif dept:
        raise HubError("只有部门用户（department）可以指定 --dept。", code="user-invalid")
    if password is None:
        password = secrets.token_urlsafe(12)
    elif len(password) < MIN_PASSWORD:
        raise HubError(f"密码至少 {MIN_PASSWORD} 个字符。", code="user-invalid")
    if db.scalar("SELECT count(*) FROM hub_users WHERE username = ?", [name]):
        raise HubError(f"用户“{name}”已存在。", code="user-exists")
    db.execute(
        "INSERT INTO hub_users VALUES (?, ?, ?, ?, ?, ?, false)",
        [name, role, township_code, dept_name, _hasher().hash(password), datetime.now()],
    )
    return password


def _township_code(db: Database, township: str | None) -> str:
    text = (township or "").strip()
    if not text:
        raise HubError("乡镇填报员必须用 --township 指定9位乡镇代码。", code="user-invalid")
    if re.fullmatch(r"\d{12}", text) and text.endswith("000"):
        text = text[:9]
    if not re.fullmatch(r"\d{9}", text):
        raise HubError(f"乡镇代码“{text}”应为9位数字。", code="user-invalid")
    known = int(db.scalar("SELECT count(*) FROM hub_divisions WHERE level = 'township'") or 0)
    if known and not db.scalar(
        "SELECT count(*) FROM hub_divisions WHERE code IN (?, ?)", [text, text + "000"]
    ):
        raise HubError(
            f"区划表中没有乡镇代码 {text}。请先 hub divisions load，或检查代码。", code="user-invalid"
        )
    return text


def _user(row: dict[str, Any]) -> User:
    return User(row["username"], row["role"], row.get("township_code"), row.get("department"))


def get_user(db: Database, name: str) -> User | None:
    rows = db.dicts("SELECT * FROM hub_users WHERE username = ? AND NOT disabled", [name])
    return _user(rows[0]) if rows else None


def authenticate(db: Database, name: str, password: str) -> User | None:
    from argon2.exceptions import InvalidHashError, VerificationError

    rows = db.dicts("SELECT * FROM hub_users WHERE username = ? AND NOT disabled", [name])
    hasher = _hasher()
    if not rows:
        hasher.hash(password)  # same cost whether or not the user exists
        return None
    try:
        hasher.verify(rows[0]["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    return _user(rows[0])


# -- sessions ---------------------------------------------------------------------------------
def new_session(db: Database, user: User) -> tuple[str, str]:
    """Returns (cookie value, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now()
    db.execute("DELETE FROM hub_sessions WHERE expires_at < ?", [now])
    db.execute(
        "INSERT INTO hub_sessions VALUES (?, ?, ?, ?, ?)",
        [_sha(sid), user.username, csrf, now, now + timedelta(hours=SESSION_HOURS)],
    )
    return sid, csrf


def session_user(db: Database, sid: str | None) -> tuple[User, str] | None:
    """The user and CSRF token of a live session, or None."""
    if not sid:
        return None
    rows = db.dicts(
        "SELECT u.*, s.csrf_token FROM hub_sessions s JOIN hub_users u USING (username) "
        "WHERE s.session_hash = ? AND s.expires_at > ? AND NOT u.disabled",
        [_sha(sid), datetime.now()],
    )
    return (_user(rows[0]), rows[0]["csrf_token"]) if rows else None


def end_session(db: Database, sid: str | None) -> None:
    if sid:
        db.execute("DELETE FROM hub_sessions WHERE session_hash = ?", [_sha(sid)])


# -- API tokens -------------------------------------------------------------------------------
def create_token(db: Database, user: User, label: str | None = None) -> str:
    if user.role != "department" or not user.department:
        raise HubError("只有部门用户可以创建接口令牌。", code="forbidden")
    token = "hub_" + secrets.token_urlsafe(32)
    db.execute(
        "INSERT INTO hub_api_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
        [
            _sha(token),
            token[:10],
            user.username,
            user.department,
            (label or "").strip()[:60] or None,
            datetime.now(),
        ],
    )
    return token


def token_user(db: Database, token: str | None) -> User | None:
    if not token:
        return None
    rows = db.dicts(
        "SELECT u.* FROM hub_api_tokens t JOIN hub_users u USING (username) "
        "WHERE t.token_hash = ? AND t.revoked_at IS NULL AND NOT u.disabled AND u.role = 'department'",
        [_sha(token)],
    )
    return _user(rows[0]) if rows else None


def list_tokens(db: Database, user: User) -> list[dict[str, Any]]:
    return db.dicts(
        "SELECT token_hint, label, created_at, revoked_at FROM hub_api_tokens WHERE username = ? ORDER BY created_at DESC",
        [user.username],
    )


def revoke_token(db: Database, user: User, hint: str) -> None:
    db.execute(
        "UPDATE hub_api_tokens SET revoked_at = ? WHERE username = ? AND token_hint = ? AND revoked_at IS NULL",
        [datetime.now(), user.username, hint],
    )


# -- login rate limiting ------------------------------------------------------------------------
class LoginLimiter:
    """At most ``attempts`` failed logins per user name and per client address in ``window`` seconds."""

    def __init__(self, attempts: int = 5, window: float = 900.0):
        self.attempts, self.window = attempts, window
        self._fails: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> list[float]:
        items = [t for t in self._fails.get(key, []) if now - t < self.window]
        self._fails[key] = items
        return items

    def blocked(self, *keys: str) -> int:
        """Seconds to wait (0 when allowed)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                int(self.window - (now - items[0])) + 1
                for items in (self._recent(k, now) for k in keys)
                if len(items) >= self.attempts
            ]
        return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._fails.pop(key, None)
