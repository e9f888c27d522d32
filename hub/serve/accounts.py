"""Accounts, sessions and API tokens of the web application, kept in the store (``40_serve.sql``).

Passwords are hashed with argon2id; session cookies and API tokens are random 256-bit values of
which only the SHA-256 is stored, so a copy of the database does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub.errors import HubError

if TYPE_CHECKING:
    from hub.store.db import Database

ROLES = {"clerk": "乡镇填报员", "department": "部门用户", "steward": "数据管理员"}
SESSION_HOURS = 12
MIN_PASSWORD = 8
_INVISIBLE = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")


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


def normalize_username(name: str | None) -> str:
    """The one spelling of a user name, used to store, authenticate and rate-limit it: NFKC (full-width
    letters become ASCII), zero-width characters dropped, outer spaces stripped. Names compare
    without regard to case (:func:`username_key`)."""
    text = unicodedata.normalize("NFKC", name or "")
    return _INVISIBLE.sub("", text).strip()


def username_key(name: str | None) -> str:
    """What identifies an account: the normalised name, case-folded (``QS_Clerk`` is ``qs_clerk``)."""
    return normalize_username(name).casefold()


def known_departments() -> list[str]:
    """The departments the hub serves: those ``schemas/entitlements.yaml`` gives reports to (every
    mapping spec's ``department`` must match it, see ``hub mappings check``)."""
    from hub.export.catalog import load_entitlements

    return sorted({e.department for e in load_entitlements().reports.values()})


def add_user(
    db: Database,
    name: str,
    role: str,
    township: str | None = None,
    dept: str | None = None,
    password: str | None = None,
    *,
    by: str | None = None,
) -> str:
    """Create an account; returns the password (generated when ``password`` is None, to hand over
    once). Raises :class:`HubError` with a Chinese message on any bad argument."""
    name = normalize_username(name)
    if not re.fullmatch(r"[\w.\-@\u4e00-\u9fff]{2,40}", name):
        raise HubError(
            f"用户名“{name}”不合法：2–40 个字符，可用汉字、字母、数字和 . - _ @。", code="user-invalid"
        )
    role = (role or "").strip()
    if role not in ROLES:
        raise HubError(f"角色“{role}”不存在，应为 clerk、department 或 steward。", code="user-invalid")
    township_code = dept_name = None
    if role == "clerk":
        township_code = _township_code(db, township)
    elif township:
        raise HubError("只有乡镇填报员（clerk）可以指定 --township。", code="user-invalid")
    if role == "department":
        dept_name = check_department(dept)
    elif dept:
        raise HubError("只有部门用户（department）可以指定 --dept。", code="user-invalid")
    if password is None:
        password = secrets.token_urlsafe(12)
    else:
        _check_password(password)
    if _find(db, name):
        raise HubError(f"用户“{name}”已存在。", code="user-exists")
    db.execute(
        "INSERT INTO hub_users VALUES (?, ?, ?, ?, ?, ?, false)",
        [name, role, township_code, dept_name, _hasher().hash(password), datetime.now()],
    )
    _event(db, by, "add", name, f"{ROLES[role]} {township_code or dept_name or ''}".strip())
    return password


def check_department(dept: str | None) -> str:
    """The department as the specs name it, or :class:`HubError` listing the known ones."""
    text = normalize_username(dept)
    known = known_departments()
    if not text:
        raise HubError(f"部门用户必须用 --dept 指定部门，可选：{'、'.join(known)}。", code="user-invalid")
    if text not in known:
        raise HubError(
            f"部门“{text}”不在已知部门中，可选：{'、'.join(known)}（来自 schemas/entitlements.yaml）。",
            code="user-invalid",
        )
    return text


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise HubError(f"密码至少 {MIN_PASSWORD} 个字符。", code="user-invalid")


def _township_code(db: Database, township: str | None) -> str:
    """A township given by 9/12-digit code or by name (青山镇, 青山), checked against the divisions."""
    from hub.ingest.divisions import Divisions

    text = normalize_username(township)
    if not text:
        raise HubError("乡镇填报员必须用 --township 指定乡镇（街道）代码或名称。", code="user-invalid")
    if re.fullmatch(r"\d{12}", text) and text.endswith("000"):
        text = text[:9]
    divisions = Divisions.from_db(db)
    towns = divisions.townships()
    if text.isdigit():
        if not re.fullmatch(r"\d{9}", text):
            raise HubError(f"乡镇代码“{text}”应为9位数字（或填写乡镇名称）。", code="user-invalid")
        if towns and not divisions.resolve_township(text):
            raise HubError(
                f"区划表中没有乡镇代码 {text}。请先 hub divisions load，或检查代码。", code="user-invalid"
            )
        return text
    if not towns:
        raise HubError(
            f"还没有导入区划表，无法按名称找到乡镇“{text}”。请先 hub divisions load，或填写9位乡镇代码。",
            code="user-invalid",
        )
    found = divisions.resolve_township(text)
    if len(found) != 1:
        names = "、".join(f"{d.name}（{str(d.code)[:9]}）" for d in (found or towns))
        what = "对应多个乡镇" if found else "在区划表中找不到"
        raise HubError(f"乡镇“{text}”{what}。可选：{names}。", code="user-invalid")
    return str(found[0].code)[:9]


def _find(db: Database, name: str) -> dict[str, Any] | None:
    rows = db.dicts("SELECT * FROM hub_users WHERE lower(username) = ?", [username_key(name)])
    return rows[0] if rows else None


def _existing(db: Database, name: str) -> dict[str, Any]:
    row = _find(db, name)
    if row is None:
        raise HubError(f"用户“{normalize_username(name)}”不存在。", code="user-unknown")
    return row


def _event(db: Database, by: str | None, action: str, username: str, detail: str | None = None) -> None:
    db.execute(
        "INSERT INTO hub_account_events VALUES (nextval('hub_account_event_seq'), ?, ?, ?, ?, ?)",
        [datetime.now(), by or _system_user(), action, username, detail or None],
    )


def _system_user() -> str:
    import getpass

    try:
        return f"命令行:{getpass.getuser()}"
    except (KeyError, OSError):
        return "命令行"


# -- administration -----------------------------------------------------------------------------
EVENT_LABELS = {
    "add": "添加",
    "disable": "停用",
    "enable": "启用",
    "reset": "重置密码",
    "revoke-tokens": "吊销令牌",
}


def list_users(db: Database) -> list[dict[str, Any]]:
    """Every account for the steward: never the password hash."""
    now = datetime.now()
    rows = db.dicts(
        """
        SELECT u.username, u.role, u.township_code,
               (SELECT d.name FROM hub_divisions d WHERE d.code IN (u.township_code, u.township_code || '000')
                ORDER BY length(d.code) LIMIT 1) AS township_name,
               u.department,
               u.created_at, u.disabled,
               (SELECT count(*) FROM hub_sessions s WHERE s.username = u.username AND s.expires_at > ?)
                   AS sessions,
               (SELECT max(created_at) FROM hub_sessions s WHERE s.username = u.username) AS last_login,
               (SELECT count(*) FROM hub_api_tokens t WHERE t.username = u.username AND t.revoked_at IS NULL)
                   AS tokens
        FROM hub_users u
        ORDER BY u.role, u.username
        """,
        [now],
    )
    for r in rows:
        r["role_label"] = ROLES.get(r["role"], r["role"])
        r["state"] = "已停用" if r["disabled"] else "在用"
    return rows


def account_events(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    rows = db.dicts(
        "SELECT event_at, actor, action, username, detail FROM hub_account_events "
        "ORDER BY event_id DESC LIMIT ?",
        [limit],
    )
    for r in rows:
        r["action_label"] = EVENT_LABELS.get(r["action"], r["action"])
    return rows


def set_disabled(db: Database, name: str, disabled: bool, *, by: str | None = None) -> str:
    """停用 / 启用. Disabling ends the user's sessions and revokes their API tokens (enabling again
    gives neither back); the last active steward cannot be disabled."""
    row = _existing(db, name)
    username = row["username"]
    if disabled and row["role"] == "steward" and not row["disabled"]:
        others = db.scalar(
            "SELECT count(*) FROM hub_users WHERE role = 'steward' AND NOT disabled AND username <> ?",
            [username],
        )
        if not others:
            raise HubError(
                f"“{username}”是唯一在用的数据管理员，不能停用；请先添加另一位数据管理员。",
                code="user-last-steward",
            )
    with db.transaction():
        db.execute("UPDATE hub_users SET disabled = ? WHERE username = ?", [disabled, username])
        if disabled:
            _end_all(db, username)
        _event(db, by, "disable" if disabled else "enable", username)
    return str(username)


def reset_password(db: Database, name: str, password: str | None = None, *, by: str | None = None) -> str:
    """A new password (generated when None, to hand over once); every session of the user ends."""
    username = _existing(db, name)["username"]
    if password is None:
        password = secrets.token_urlsafe(12)
    else:
        _check_password(password)
    with db.transaction():
        db.execute(
            "UPDATE hub_users SET password_hash = ? WHERE username = ?", [_hasher().hash(password), username]
        )
        db.execute("DELETE FROM hub_sessions WHERE username = ?", [username])
        # the owner gets a fresh start from every address (an address's own counter stays)
        db.execute(
            "DELETE FROM hub_login_failures WHERE kind IN ('pair', 'account') AND account = ?",
            [username_key(username)],
        )
        _event(db, by, "reset", username)
    return password


def revoke_user_tokens(db: Database, name: str, *, by: str | None = None) -> int:
    """Revoke every live API token of the user; returns how many."""
    username = _existing(db, name)["username"]
    live = int(
        db.scalar("SELECT count(*) FROM hub_api_tokens WHERE username = ? AND revoked_at IS NULL", [username])
        or 0
    )
    with db.transaction():
        db.execute(
            "UPDATE hub_api_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL",
            [datetime.now(), username],
        )
        _event(db, by, "revoke-tokens", username, f"{live} 个")
    return live


def _end_all(db: Database, username: str) -> None:
    db.execute("DELETE FROM hub_sessions WHERE username = ?", [username])
    db.execute(
        "UPDATE hub_api_tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL",
        [datetime.now(), username],
    )


def _user(row: dict[str, Any]) -> User:
    return User(row["username"], row["role"], row.get("township_code"), row.get("department"))


def get_user(db: Database, name: str) -> User | None:
    row = _find(db, name)
    return _user(row) if row and not row["disabled"] else None


def authenticate(db: Database, name: str, password: str) -> User | None:
    """The account named ``name`` (normalised as :func:`username_key`) if ``password`` is its own
    and it is not disabled."""
    from argon2.exceptions import InvalidHashError, VerificationError

    row = _find(db, name)
    rows = [row] if row and not row["disabled"] else []
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
LIMITS_DDL = "46_login_limits.sql"
KNOWN_DAYS = 30  # an address the owner signed in from is exempt from the per-account counter this long


class LoginLimiter:
    """Failed logins slow the next try down; they never lock anyone out.

    Three counters, each with exponential backoff: the first ``free`` failures cost nothing, then
    each failure makes the next try wait ``base * 2**(failures - free - 1)`` seconds (1, 2, 4, …),
    at most ``cap``; a counter is forgotten ``forget`` seconds after its last failure:

    - per account *and* address: someone guessing from elsewhere never slows the owner's own address;
    - per address, more lenient: one address spraying many accounts (an office behind one address
      keeps working: its waits are short and capped);
    - per account from addresses that never signed in to it, most lenient: guessing one account
      from many addresses; an address where the owner has signed in is exempt.

    Keys are :func:`username_key` names, so spaces, full-width letters or case give no fresh counter.
    The counters are rows of the store (``hub_login_failures``, ``hub_login_known``;
    ``46_login_limits.sql``) timed by the wall clock, so a restart of the server clears nothing;
    without ``db`` they live in a private in-memory database (tests, a library caller). The number
    of rows is bounded (``max_keys``): expired counters are deleted, then the oldest.
    """

    def __init__(
        self,
        free: int = 3,
        base: float = 1.0,
        cap: float = 900.0,
        address_free: int = 20,
        address_cap: float = 300.0,
        account_free: int = 50,
        account_cap: float = 60.0,
        forget: float = 3600.0,
        max_keys: int = 100_000,
        db: Database | None = None,
    ):
        self.rules = {
            "pair": (free, base, cap),
            "address": (address_free, base, address_cap),
            "account": (account_free, base, account_cap),
        }
        self.forget, self.max_keys = forget, max_keys
        if db is None:
            from hub.store.db import DDL_DIR, Database

            db = Database(None, ddl=False)
            db.execute((DDL_DIR / LIMITS_DDL).read_text(encoding="utf-8"))
        self.db = db
        self._writes = 0
        self._lock = threading.Lock()

    def _keys(self, account: str, address: str, now: float) -> list[tuple[str, str, str]]:
        """The counters a try of ``account`` from ``address`` is subject to."""
        keys = [("pair", account, address), ("address", "", address)]
        seen = self.db.scalar(
            "SELECT last_at FROM hub_login_known WHERE account = ? AND address = ?", [account, address]
        )
        if seen is None or now - float(seen) > KNOWN_DAYS * 86400:
            keys.append(("account", account, ""))
        return keys

    def _wait(self, kind: str, failures: int, last: float, now: float) -> float:
        if now - last > self.forget:
            return 0.0
        free, base, cap = self.rules[kind]
        if failures <= free:
            return 0.0
        delay = min(cap, base * 2.0 ** min(failures - free - 1, 30))
        return max(0.0, last + delay - now)

    def blocked(self, username: str, address: str) -> int:
        """Seconds before ``username`` may try again from ``address`` (0 when allowed now)."""
        now = time.time()
        keys = self._keys(username_key(username), address, now)
        marks = ", ".join("(?, ?, ?)" for _ in keys)
        rows = self.db.rows(
            "SELECT kind, failures, last_at FROM hub_login_failures "
            f"WHERE (kind, account, address) IN ({marks})",
            [part for key in keys for part in key],
        )
        wait = max((self._wait(k, int(n), float(t), now) for k, n, t in rows), default=0.0)
        return math.ceil(wait)

    def failed(self, username: str, address: str) -> None:
        """One more failure on every counter of this try (an expired counter starts again at 1)."""
        now = time.time()
        keys = self._keys(username_key(username), address, now)
        marks = ", ".join("(?, ?, ?, 1, ?)" for _ in keys)
        with self._lock:
            self.db.execute(
                f"INSERT INTO hub_login_failures VALUES {marks} ON CONFLICT DO UPDATE SET "
                "failures = CASE WHEN excluded.last_at - hub_login_failures.last_at > ? THEN 1 "
                "ELSE hub_login_failures.failures + 1 END, last_at = excluded.last_at",
                [*(v for key in keys for v in (*key, now)), self.forget],
            )
            self._writes += 1
            if self._writes % 100 == 1:
                self._trim(now)

    def _trim(self, now: float) -> None:
        """Keep the tables bounded under a spray of names: expired rows go, then the oldest."""
        self.db.execute("DELETE FROM hub_login_failures WHERE last_at < ?", [now - self.forget])
        self.db.execute("DELETE FROM hub_login_known WHERE last_at < ?", [now - KNOWN_DAYS * 86400])
        for table in ("hub_login_failures", "hub_login_known"):
            extra = int(self.db.scalar(f"SELECT count(*) FROM {table}") or 0) - self.max_keys
            if extra > 0:
                cut = self.db.scalar(
                    f"SELECT last_at FROM {table} ORDER BY last_at LIMIT 1 OFFSET ?",
                    [extra + self.max_keys // 10 - 1],
                )
                if cut is not None:
                    self.db.execute(f"DELETE FROM {table} WHERE last_at <= ?", [cut])

    def succeeded(self, username: str, address: str) -> None:
        """The owner got in from ``address``: its counters start again, and that address is known."""
        now = time.time()
        account = username_key(username)
        with self._lock:
            self.db.execute(
                "DELETE FROM hub_login_failures WHERE (kind = 'pair' AND account = ? AND address = ?) "
                "OR (kind = 'account' AND account = ?)",
                [account, address, account],
            )
            self.db.execute(
                "INSERT INTO hub_login_known VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET last_at = excluded.last_at",
                [account, address, now],
            )
