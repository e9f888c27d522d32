"""`hub serve`: the web application. Server-rendered Chinese pages and a small JSON API, every
one of them calling the same :class:`hub.facade.Hub` as the CLI."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import HubError
from hub.serve import accounts
from hub.serve.jobs import Jobs
from hub.serve.web import (
    HERE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    LoginRequired,
    State,
    WebError,
    check_csrf,
    render,
    session,
    state,
)

log = logging.getLogger("hub.serve")
HOME_OF_ROLE = {"clerk": "/clerk", "department": "/dept", "steward": "/steward"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'",
}
STATUS_TEXT = {
    400: "请求有误",
    403: "无权访问",
    404: "找不到页面",
    405: "不支持的请求方式",
    413: "文件太大",
    422: "请求参数不正确",
    429: "尝试过于频繁",
    500: "系统错误",
}


def create_app(hub_home: Path | None = None) -> FastAPI:
    from hub.facade import Hub

    hub = Hub(hub_home)
    hub.db  # noqa: B018 -- open the store (and apply the DDL) before the first request
    from hub.ingest.bounded import warm_up

    warm_up()  # upload jobs read files in child processes of a fork server (hub/ingest/bounded.py)
    # what the first upload jobs would load while reading and inside the store's unit (column
    # recognition, pandas, Splink, pypinyin and OpenCC's dictionaries: 3-4 s), loaded in the
    # background at start instead
    threading.Thread(target=_load_stages, name="hub-warm-up", daemon=True).start()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["ROLES"] = accounts.ROLES
    st = State(
        hub=hub,
        templates=templates,
        jobs=Jobs(hub),
        limiter=accounts.LoginLimiter(db=hub.db),  # counters in the store: a restart keeps them
        max_upload_bytes=int(float(os.environ.get("HUB_MAX_UPLOAD_MB", "20")) * 1024 * 1024),
        cookie_secure=os.environ.get("HUB_COOKIE_SECURE", "") == "1",
    )
    app = FastAPI(
        title="一表通 Hub 部门报表接口",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="部门用令牌（Authorization: Bearer …）按乡镇、报告期拉取报表；每次拉取必须说明用途（purpose），并记入访问日志。",
    )
    app.state.hub_state = st
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _install_errors(app)

    from hub.serve import admission, api, clerk, dept, jobpages, steward, users

    for module in (clerk, dept, steward, api, users, jobpages, admission):
        app.include_router(module.router)
    from hub.serve import flowback

    app.include_router(flowback.router)
    app.include_router(flowback.api)
    from hub.exchange import api as exchange_api

    app.include_router(exchange_api.router)
    users.secure_cookies(app)
    _auth_routes(app)

    @app.on_event("shutdown")
    def _close() -> None:
        st.jobs.shutdown()
        hub.close()

    return app


def _load_stages() -> None:
    try:
        import pandas  # noqa: F401 -- pyarrow imports it on a job's first Arrow conversion

        import hub.dedupe.linkage.engine  # noqa: F401 -- Splink
        import hub.exchange.feedback  # noqa: F401
        import hub.extension.values  # noqa: F401
        import hub.ingest.columns.assign  # noqa: F401 -- column recognition (a job's layout step)
        import hub.ingest.fill  # noqa: F401
        import hub.ingest.layout  # noqa: F401
        import hub.ingest.township  # noqa: F401
        import hub.validate.engine  # noqa: F401
        from hub.dedupe.linkage.names import name_key

        name_key("张伟")  # pypinyin's and OpenCC's dictionaries
    except Exception:  # only a head start: the first job loads what is missing
        logging.getLogger("hub.serve").warning("warming up the stages failed", exc_info=True)


def _auth_routes(app: FastAPI) -> None:
    from hub.serve import users

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        found = session(request)
        if found is None:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(HOME_OF_ROLE.get(found[0].role, "/login"), status_code=303)

    @app.get("/login", include_in_schema=False)
    def login_page(request: Request) -> Response:
        return render(request, "login.html", error=None, username="")

    @app.post("/login", include_in_schema=False, dependencies=[Depends(check_csrf)])
    def login(request: Request, username: str = Form(""), password: str = Form("")) -> Response:
        st = state(request)
        client = request.client.host if request.client else "-"
        wait = st.limiter.blocked(username, client)  # keyed as authenticate() reads the name
        if wait:
            return users.too_many(request, username, wait)
        user = accounts.authenticate(st.hub.db, username, password)
        if user is None:
            st.limiter.failed(username, client)
            return render(
                request, "login.html", status_code=401, username=username, error="用户名或密码不正确。"
            )
        st.limiter.succeeded(username, client)
        sid, _ = accounts.new_session(st.hub.db, user)
        response = RedirectResponse(HOME_OF_ROLE[user.role], status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            sid,
            httponly=True,
            samesite="lax",
            secure=st.cookie_secure,
            max_age=accounts.SESSION_HOURS * 3600,
            path="/",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.post("/logout", include_in_schema=False, dependencies=[Depends(check_csrf)])
    def logout(request: Request) -> Response:
        accounts.end_session(state(request).hub.db, request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def error_response(
    request: Request, status: int, message: str, code: str, hint: str | None = None
) -> Response:
    """The one error shape: JSON ``{"error", "message"[, "hint"]}`` on the API, a Chinese page elsewhere."""
    if _wants_json(request):
        body: dict[str, Any] = {"error": code, "message": message}
        if hint:
            body["hint"] = hint
        return JSONResponse(body, status_code=status)
    return render(
        request,
        "error.html",
        status_code=status,
        title=STATUS_TEXT.get(status, "出错了"),
        message=message,
        hint=hint,
    )


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _wants_json(request):
            return error_response(request, 401, "请先登录。", "unauthenticated")
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(WebError)
    async def _web(request: Request, exc: WebError) -> Response:
        return error_response(request, exc.status, exc.message, exc.code, exc.hint)

    @app.exception_handler(HubError)
    async def _hub(request: Request, exc: HubError) -> Response:
        return error_response(request, 400, str(exc), exc.code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        text = STATUS_TEXT.get(exc.status_code, "请求未能完成")
        return error_response(request, exc.status_code, f"{text}。", f"http-{exc.status_code}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        from hub.serve.labels import invalid_request  # parameter names in Chinese

        return error_response(request, 400, invalid_request(list(exc.errors())), "invalid-request")

    @app.middleware("http")
    async def _harden(request: Request, call_next: Any) -> Response:
        st: State = request.app.state.hub_state
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > st.max_upload_bytes * st.max_files + 1_000_000:
            return error_response(
                request,
                413,
                f"上传内容超过上限（单个文件最大 {st.max_upload_bytes // 1048576} MB，"
                f"一次最多 {st.max_files} 个文件）。",
                "too-large",
            )
        try:
            response: Response = await call_next(request)
        except Exception:  # no stack trace ever reaches a browser; the server log keeps it
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            response = error_response(
                request, 500, "系统内部错误，这不是数据问题。请稍后再试或联系数据管理员。", "internal"
            )
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def serve(host: str = "127.0.0.1", port: int = 8000, channel_runner: Any = None) -> None:
    """Run the web application (for `hub serve`); with ``channel_runner`` (``cli.serve_command``)
    the CLI's commands run here meanwhile, through the local admin channel (``hub.serve.channel``)."""
    import contextlib

    import uvicorn

    from hub.serve.channel import Channel

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    application = create_app()
    hub = application.state.hub_state.hub
    channel: Any = contextlib.nullcontext()
    if channel_runner:
        channel = Channel(hub.home, lambda argv, out, err: channel_runner(argv, hub, out, err))
        application.router.add_event_handler("shutdown", channel.stop)  # before uvicorn re-raises SIGTERM
    with channel:
        uvicorn.run(application, host=host, port=port, log_level="info")
