"""The `hub` command line: parse options, call the facade, print, set the exit code.

Exit codes: 0 success; 1 the input was not valid (a file refused, rows rejected, a spec with
problems, a report not written); 2 wrong usage; 70 the hub could not (an internal error, reported
without a traceback, set HUB_DEBUG=1 to see it; or the store stayed busy).

Beside `hub serve`: the server holds the store, so a command that finds it locked goes through the
server's local admin channel (``hub.serve.channel``) and prints what the server's run of the same
command prints; when another command holds the store it waits its turn (``HUB_LOCK_TIMEOUT``).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path, PurePath
from typing import Annotated, Any, TextIO, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    help="一表通 Hub：乡镇台账一次报送，逐格校验，一人一码合并，按各部门口径自动生成报表。",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)
divisions_app = typer.Typer(help="行政区划（统计用区划代码）。", no_args_is_help=True)
mappings_app = typer.Typer(help="部门报表映射规格（mappings/*.yaml）。", no_args_is_help=True)
users_app = typer.Typer(help="网页用户（乡镇填报员、部门、数据管理员）。", no_args_is_help=True)
review_app = typer.Typer(
    help="待人工确认的疑似同一人记录对：hub review 列出，hub review accept|reject PAIR 确认。",
    invoke_without_command=True,
)
app.add_typer(divisions_app, name="divisions")
app.add_typer(mappings_app, name="mappings")
app.add_typer(users_app, name="users")
app.add_typer(review_app, name="review")
admission_app = typer.Typer(
    help="报表准入：部门提交新报表草案，逐栏审查（台账可生成/需确认口径/已采集/新增）与填报负担，数据管理员决定。",
    no_args_is_help=True,
)
app.add_typer(admission_app, name="admission")

JsonOpt = Annotated[bool, typer.Option("--json", help="以 JSON 输出（机器读取；不显示进度条）。")]
ColumnsOpt = Annotated[
    Path | None,
    typer.Option("--columns", help="已确认的列映射（hub columns --out 生成并修改的 YAML）。"),
]
DateOpt = Annotated[
    str | None, typer.Option("--date", help="报表日期 YYYY-MM-DD（决定报告期与参考时点），默认今天。")
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine", help="合并与报表查询的计算引擎：duckdb（内置，默认）或 spark；也可用环境变量 HUB_ENGINE。"
    ),
]


def _emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"错误：{message}", err=True)
    raise typer.Exit(code)


class _ThroughServer(Exception):
    """The store is held by a running `hub serve`: the command goes to it (see :func:`guarded`)."""

    def __init__(self, home: Path):
        super().__init__(str(home))
        self.home = home


def guarded(func: F) -> F:
    """Turn hub errors into a message and exit 1 (70 for errors that say the hub could not, e.g. a
    store that stayed locked), and anything else into exit 70, never a traceback. A command that
    meets a store held by `hub serve` is run by the server instead."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from hub.errors import HubError

        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except _ThroughServer as exc:
            raise typer.Exit(_through_server(exc.home)) from None
        except HubError as exc:
            _fail(str(exc), int(getattr(exc, "exit_code", 1)))
        except KeyboardInterrupt:
            _fail("已中断。", 130)
        except Exception as exc:
            if os.environ.get("HUB_DEBUG"):
                raise
            _fail(
                f"内部错误（{type(exc).__name__}: {exc}）。这是系统问题，不是数据问题；请联系管理员（设置 HUB_DEBUG=1 可查看详情）。",
                70,
            )

    return wrapper  # type: ignore[return-value]


def reads_files(func: F) -> F:
    """A command that reads spreadsheets reads each in a child process with a hard time limit and a
    memory ceiling, as an upload job does (:func:`hub.ingest.bounded.cli_reads`, docs/limits.md): a
    file that would take the machine's memory is refused, never read to the end."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from hub.ingest.bounded import cli_reads

        with cli_reads():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _parse_date(text: str | None) -> date:
    if not text:
        return date.today()
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"日期“{text}”格式不对，应为 YYYY-MM-DD，例如 2026-11-30。", 2)
        raise  # unreachable


# -- the store: this process's own, or the server's (local admin channel) ----------------------------
_SERVER_HUB: contextvars.ContextVar[Any] = contextvars.ContextVar("hub_server_hub", default=None)
LOCK_TIMEOUT = 60.0  # seconds a command waits for another command's store (HUB_LOCK_TIMEOUT)


def _hub() -> Any:
    """The Hub with its store open. Inside `hub serve` (a command sent through the channel) the
    server's own; otherwise this process's, after waiting while another command holds the store,
    or :class:`_ThroughServer` when `hub serve` holds it."""
    served = _SERVER_HUB.get()
    if served is not None:
        return served
    from hub.facade import Hub
    from hub.serve import channel
    from hub.store.db import StoreLocked

    hub = Hub()
    timeout = float(os.environ.get("HUB_LOCK_TIMEOUT") or LOCK_TIMEOUT)
    deadline = time.monotonic() + timeout
    told = False
    while True:
        try:
            hub.db  # noqa: B018 -- open the store now, before the command does anything
            return hub
        except StoreLocked as exc:
            if channel.available(hub.home):
                raise _ThroughServer(hub.home) from None
            if time.monotonic() >= deadline:
                exc.message = f"等待 {timeout:g} 秒后仍未轮到：{exc.message}"
                raise
            if not told:
                typer.echo(
                    f"正在等待服务释放数据库…（{exc.message} 最多等 {timeout:g} 秒，可用 HUB_LOCK_TIMEOUT 调整）",
                    err=True,
                )
                told = True
            time.sleep(0.25)


def _current_context() -> Any:
    try:
        from typer._click.globals import get_current_context
    except ImportError:  # typer releases that use click itself
        from click import get_current_context  # type: ignore[no-redef]
    return get_current_context()


def _command_line() -> list[str]:
    """The running command as a command line another process can parse: every parameter as it was
    parsed (defaults included), paths made absolute (the server's working directory is not ours)."""
    ctx = _current_context()
    chain = []
    while ctx.parent is not None:
        chain.append(ctx)
        ctx = ctx.parent
    argv: list[str] = []
    for level in reversed(chain):
        argv.append(level.info_name)
        options: list[str] = []
        positional: list[str] = []
        for param in level.command.params:
            if param.name not in level.params or not param.expose_value:
                continue
            value = level.params[param.name]
            values = list(value) if isinstance(value, list | tuple) else [value]
            texts = [
                os.path.abspath(v) if isinstance(v, PurePath) else str(getattr(v, "value", v))
                for v in values
                if v is not None
            ]
            if param.param_type_name == "argument":
                positional.extend(texts)
            elif getattr(param, "is_flag", False) and isinstance(value, bool):
                if param.secondary_opts:
                    options.append(param.opts[0] if value else param.secondary_opts[0])
                elif value:
                    options.append(param.opts[0])
            else:
                for text in texts:
                    options += [param.opts[0], text]
        argv += options + (["--", *positional] if positional else [])
    return argv


def _through_server(home: Path) -> int:
    from hub.serve import channel

    typer.echo("数据库由正在运行的 hub serve 持有：本命令交给服务执行。", err=True)
    return channel.run_remote(home, _command_line(), sys.stdout, sys.stderr)


# Commands that only read: run by the server without waiting for another command to finish.
_READS_ONLY = {("status",), ("users", "list"), ("rules",), ("explain",), ("mappings", "check")}


def serve_command(argv: list[str], hub: Any, out: TextIO, err: TextIO) -> int:
    """Run one command line inside `hub serve` (the local admin channel) with the server's Hub;
    returns its exit code. Its output goes to ``out``/``err`` through the channel's routing."""
    from typer.main import get_command

    words = tuple(a for a in argv if not a.startswith("-"))
    reads = any(words[: len(k)] == k for k in _READS_ONLY)
    token = _SERVER_HUB.set(hub)
    try:
        with contextlib.nullcontext() if reads else hub.db.exclusive():
            try:
                result = get_command(app).main(args=argv, prog_name="hub", standalone_mode=False)
            except typer.TyperException as exc:  # usage errors: as the CLI shows them
                show = getattr(exc, "show", None)
                if show is not None:
                    show(file=err)
                else:
                    err.write(f"错误：{exc}\n")
                return int(exc.exit_code)
            except typer.Abort:
                return 1
        return result if isinstance(result, int) else 0
    finally:
        _SERVER_HUB.reset(token)


class _Bar:
    """A progress bar on stderr (silent under --json or when stderr is not a terminal-like stream)."""

    def __init__(self, enabled: bool, label: str):
        self.enabled = enabled and _SERVER_HUB.get() is None  # no live bar through the channel
        self.label = label
        self._progress: Any = None
        self._task: Any = None

    def __enter__(self) -> _Bar:
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self.label, total=None)
        return self

    def __call__(self, label: str, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(
                self._task, completed=done, total=total, description=f"{self.label} {label}"
            )

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


# -- divisions --------------------------------------------------------------------------------------
@divisions_app.command("load")
@guarded
def divisions_load(
    file: Annotated[Path, typer.Argument(help="区划表 CSV，列为 code,name（6、9、12 位代码）。")],
    as_json: JsonOpt = False,
) -> None:
    """导入本县的统计用区划代码表（替换已有区划）。"""
    counts = _hub().load_divisions(file)
    if as_json:
        _emit_json(counts)
    else:
        typer.echo("已导入区划：" + "，".join(f"{k} {v} 个" for k, v in counts.items()))


# -- ingest -----------------------------------------------------------------------------------------
@app.command()
@guarded
@reads_files
def ingest(
    files: Annotated[list[Path], typer.Argument(help="台账文件（.xlsx .xls .csv），可多个。")],
    township: Annotated[
        str | None,
        typer.Option("--township", help="乡镇（街道）代码或名称；不填则从标题、填报单位或文件名识别。"),
    ] = None,
    as_json: JsonOpt = False,
    annotate: Annotated[
        bool, typer.Option("--annotate/--no-annotate", help="是否生成标注问题单元格的工作簿副本。")
    ] = True,
    link: Annotated[
        bool,
        typer.Option("--link/--no-link", help="导入后是否与库中已有人员比对（号码被误用、按匹配补全号码）。"),
    ] = True,
    columns: ColumnsOpt = None,
) -> None:
    """导入并校验乡镇台账：找到表头和数据行，认出每一列（看表头，也看列中的值），逐格检查，
    返回每个问题的行号、列名和修改建议。

    有拿不准的列时，整份文件暂不导入（“待确认”），摘要列出每个待确认列的猜测和示例值：用
    hub columns 文件 --out 映射.yaml 生成列映射，改好后 hub ingest 文件 --columns 映射.yaml。
    确认过的映射会按乡镇和表头样式记住，下次不再询问。

    退出码：0 全部接收；1 有文件被拒收、待确认，或有数据行被退回。同一文件重复导入不会重复入库。"""
    from hub.signals import INTERRUPTED, terminate_as_interrupt

    hub = _hub()
    confirmed = _read_columns(columns)
    try:
        with terminate_as_interrupt(), _Bar(not as_json, "导入") as bar:
            reports = hub.ingest(
                files, township=township, annotate=annotate, link=link, progress=bar, columns=confirmed
            )
    except KeyboardInterrupt:
        _fail(INTERRUPTED, 130)
    dicts = [r.to_dict() for r in reports]
    if as_json:
        _emit_json(dicts)
    else:
        from hub.validate.report import render_text_summary

        typer.echo(render_text_summary(dicts))
        from hub.exchange.departures import summary_line

        for line in filter(None, map(summary_line, dicts)):
            typer.echo(line)
        for w in hub.warnings:
            typer.echo(f"提醒：{w}")
    if any(r.status in ("refused", "held") or r.rejected for r in reports):
        raise typer.Exit(1)


def _read_columns(path: Path | None) -> dict[str, dict[str, str | None]] | None:
    if path is None:
        return None
    from hub.ingest.columns.mapfile import read_mapfile
    from hub.model import load_schema

    return read_mapfile(path, load_schema())


@app.command("columns")
@guarded
@reads_files
def columns_cmd(
    file: Annotated[
        Path | None, typer.Argument(help="台账文件；不填时配合 --list 查看已确认的映射。")
    ] = None,
    township: Annotated[
        str | None, typer.Option("--township", help="乡镇（街道）代码或名称（决定用哪个乡镇记住的映射）。")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="把列映射写到这个 YAML 文件（供修改后 --columns 使用）。")
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="列出已确认的列映射及其历史（数据管理员）。")] = False,
    as_json: JsonOpt = False,
) -> None:
    """看 hub 如何认列：每一列对应的字段、把握、依据、示例值和其他可能；不入库。

    --out 写出可编辑的列映射（YAML），改好后用 hub ingest 文件 --columns 映射.yaml 导入，
    确认的映射按乡镇和表头样式记住。--list 列出所有已确认的映射（含历史）。"""
    hub = _hub()
    if list_:
        from hub.ingest.columns.memory import history

        items = history(hub.db, hub.resolve_township(township) if township else None)
        if as_json:
            _emit_json(items)
            return
        if not items:
            typer.echo("还没有确认过的列映射。")
        for m in items:
            state = "现用" if m["active"] else "历史"
            fields = "，".join(f"{h}→{f or '不入库'}" for h, f in m["mapping"].items())
            typer.echo(
                f"[{state}] #{m['map_id']} 乡镇 {m['township_code'] or '未定'} 样式 {m['layout']} "
                f"{m['confirmed_at']:%Y-%m-%d %H:%M} {m['confirmed_by'] or ''} {m['file_name'] or ''}\n  {fields}"
            )
        return
    if file is None:
        _fail("请给出台账文件，或用 --list 查看已确认的映射。", 2)
        return
    guesses = hub.column_guesses(file, township=township)
    if out is not None:
        from hub.ingest.columns.mapfile import write_mapfile

        out.write_text(write_mapfile(guesses, hub.schema), encoding="utf-8")
    if as_json:
        _emit_json(guesses)
        return
    for sheet in guesses["sheets"]:
        state = f"待确认：{sheet['reason']}" if sheet["held"] else "各列均已确定"
        typer.echo(f"工作表“{sheet['sheet']}”（{sheet['rows']} 行，样式 {sheet['layout']}）：{state}")
        for c in sheet["columns"]:
            mark = "  " if c["sure"] else "？"
            field = f"{c['label']}（{c['field']}，把握 {c['confidence']:.0%}）" if c["field"] else "不入库"
            extra = f"；{c['evidence']}" if c["evidence"] else ""
            samples = f"；示例：{'、'.join(c['samples'])}" if c["samples"] else ""
            typer.echo(f" {mark}{c['col']}列“{c['header'] or '（无表头）'}” → {field}{extra}{samples}")
    if out is not None:
        typer.echo(f"列映射已写到 {out}：改好 field 后运行 hub ingest {file.name} --columns {out}")


@app.command()
@guarded
def status(as_json: JsonOpt = False) -> None:
    """数据库概况：报送文件、数据行、人员、家庭、市场主体、冲突。"""
    s = _hub().status()
    if as_json:
        _emit_json(s)
        return
    typer.echo(f"工作目录：{s['home']}")
    typer.echo(f"区划：{s['townships']} 个乡镇（街道），{s['villages']} 个村（社区）")
    typer.echo(
        f"报送文件 {s['submissions']} 个；数据行 {s['rows']}（接收 {s['accepted']}，退回 {s['rejected']}）；"
        f"错误 {s['errors']}，提醒 {s['warnings']}"
    )
    typer.echo(
        f"人员 {s['persons']}，家庭 {s['households']}，市场主体 {s['businesses']}，冲突 {s['conflicts']}"
    )
    for t in s["by_township"]:
        typer.echo(
            f"  {t['township'] or '-'} {t['township_name'] or ''}：{t['submissions']} 个文件，"
            f"{t['rows']} 行（接收 {t['accepted']}，退回 {t['rejected']}）"
        )
    if s["last_submission"]:
        typer.echo(f"最近报送：{s['last_submission']}")
    for u in s.get("unfinished", []):
        typer.echo(
            f"未完成的导入：提交号 {u['submission_id']} {u['file_name']}（{u['state']}），再次导入该文件即可补完"
        )
    if s.get("withdrawn"):
        typer.echo(f"已撤回的报送：{s['withdrawn']} 个")


@app.command()
@guarded
def withdraw(
    submission: Annotated[
        int, typer.Argument(help="提交号（hub ingest 的结果或 hub status --json 中的 submission_id）。")
    ],
    reason: Annotated[str, typer.Option("--reason", help="撤回原因（必填，永久记录）。")],
    by: Annotated[str | None, typer.Option("--by", help="撤回人（默认当前系统用户）。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """撤回一份已导入的报送文件：其数据行从库中和所有报表中移除（重新比对、合并），
    报送记录和撤回决定（谁、何时、为何）永久保留。提交号不存在或已撤回时退出码为 1。"""
    from hub.signals import terminate_as_interrupt

    who = by or os.environ.get("USER") or "steward"
    try:
        with terminate_as_interrupt():
            out = _hub().withdraw(submission, by=who, reason=reason)
    except KeyboardInterrupt:
        _fail("已中断：再次运行同一命令即可完成撤回。", 130)
        return
    if as_json:
        _emit_json(out)
        return
    typer.echo(
        f"已撤回提交号 {out['submission_id']}（{out['file_name']}，{out['rows']} 行）："
        f"{out['withdrawn_by']} 于 {out['withdrawn_at']:%Y-%m-%d %H:%M}，原因：{out['reason']}。"
        f"已重新合并，人员 {out['persons']}。"
    )


@app.command()
@guarded
def prune(
    days: Annotated[
        str | None,
        typer.Option(
            "--days",
            envvar="HUB_RETENTION_DAYS",
            show_envvar=False,
            metavar="天数",
            help="保留天数：删除早于此的文件（默认取环境变量 HUB_RETENTION_DAYS）。",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只列出将删除的文件，不删除。")] = False,
    as_json: JsonOpt = False,
) -> None:
    """按保留期限清理含身份证号的文件：上传的台账（uploads/）、批注副本（annotated/）、导出的报表
    （exports/）。尚未完成导入的源文件保留；数据库（报送、问题、撤回、下载日志）不清理。"""
    from hub.retention import parse_days, prune_store_files, summary

    n = parse_days(days)
    hub = _hub()
    done = prune_store_files(hub.home, hub.db, n, dry_run=dry_run)
    if as_json:
        _emit_json(
            {
                "days": n,
                "cutoff": datetime.fromtimestamp(done.cutoff).isoformat(timespec="seconds"),
                "dry_run": dry_run,
                "files": done.files,
                "bytes": done.bytes,
                "by_dir": done.by_dir,
                "kept_incomplete": done.kept_incomplete,
                "paths": done.paths,
            }
        )
        return
    for line in summary(done):
        typer.echo(line)


@app.command()
@guarded
def rebuild(as_json: JsonOpt = False) -> None:
    """全量重建：对整个数据库重新比对人员并重新合并全部人员、家庭、市场主体（日常导入和确认只更新受影响的记录）。"""
    r = _hub().rebuild()
    if as_json:
        _emit_json(r)
        return
    t = r["seconds"]
    typer.echo(
        f"已全量重建：人员 {r['persons']}，家庭 {r['households']}，市场主体 {r['businesses']}，冲突 {r['conflicts']}"
        f"（比对 {t['link']} 秒，合并 {t['merge']} 秒）"
    )


@app.command()
@guarded
def conflicts(
    township: Annotated[str | None, typer.Option("--township", help="只看某乡镇（街道）。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """列出各来源不一致的字段（值不一致）和跨乡镇重复登记，供数据管理员核实。"""
    hub = _hub()
    hub.catch_up()  # conflicts are found by merging every accepted row
    items = hub.conflicts(township)
    if as_json:
        _emit_json(items)
        return
    if not items:
        typer.echo("没有冲突。")
        return
    for c in items:
        values = "；".join(
            f"{s.get('value')}（{s.get('file')} 第{s.get('row')}行）" for s in c.get("sources", [])
        )
        typer.echo(
            f"[{c['kind']}] {c.get('code')} {c.get('name') or ''} {c['field']}：采用“{c.get('chosen')}”"
            f"（{c.get('rule')}）；来源：{values}"
        )
    typer.echo(f"共 {len(items)} 条。")


# -- export and the main job ------------------------------------------------------------------------
@app.command()
@guarded
def export(
    report: Annotated[
        list[str] | None, typer.Option("--report", help="报表编号（可多次），默认全部，如 MZ-DIBAO。")
    ] = None,
    township: Annotated[
        list[str] | None, typer.Option("--township", help="乡镇（街道）代码或名称（可多次），默认全部。")
    ] = None,
    date_: DateOpt = None,
    out: Annotated[Path, typer.Option("--out", help="输出目录。")] = Path("out"),
    as_json: JsonOpt = False,
    engine: EngineOpt = None,
) -> None:
    """按各部门映射规格生成报表文件（xlsx / GBK CSV）。"""
    hub = _hub()
    hub.use_engine(engine)
    hub.catch_up()  # what `hub ingest` stored since the last merge
    results = hub.export(reports=report, townships=township, ref_date=_parse_date(date_), out_dir=out)
    from hub.facade import _result_dict

    items = [_result_dict(r) for r in results]
    if as_json:
        _emit_json(items)
    else:
        for r in items:
            typer.echo(_report_line(r))
            for p in r["problems"]:
                typer.echo(f"  问题：{p}")
        typer.echo(f"共写出 {sum(1 for r in items if r['written'])} 个文件。")
    if any(r["problems"] for r in items):
        raise typer.Exit(1)


@app.command("changes")
@guarded
def changes_cmd(
    report: Annotated[str, typer.Option("--report", help="报表编号，如 MZ-DIBAO。")],
    township: Annotated[
        str | None, typer.Option("--township", help="乡镇（街道）代码或名称；全县报表不填。")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="上次拉取返回的游标；不填则返回全部记录（作为新增）。")
    ] = None,
    date_: DateOpt = None,
    purpose: Annotated[str, typer.Option("--purpose", help="用途，记入访问日志。")] = "命令行拉取变更",
    out: Annotated[Path | None, typer.Option("--out", help="把变更（JSON）写入此文件。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """数据订阅：报表自某个游标以来的变更——新增、变更（逐字段旧值→新值）、移出（注明原因：死亡、迁出、
    撤回、合并、不再符合条件），并给出下次使用的游标。每次拉取记入访问日志。游标无效或已过期时退出码为 1。"""
    hub = _hub()
    town = hub.resolve_township(township) if township else None
    from hub.exchange.versions import stale

    if stale(hub.db):  # ledgers stored by `hub ingest` since the last merge
        hub.merge()
    got = hub.changes(report, town, since, _parse_date(date_))
    from hub.exchange.feed import log_pull

    log_pull(hub.db, got, purpose=purpose.strip() or "命令行拉取变更")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(got.body)
    if as_json:
        sys.stdout.write(got.body.decode("utf-8") + "\n")
        return
    where = got.township or "全县"
    span = (
        f"版本 {got.from_version} → {got.to_version}" if got.since else f"版本 {got.to_version}（全部记录）"
    )
    why = "，".join(f"{k} {v}" for k, v in got.reasons.items())
    typer.echo(
        f"{got.report} {where} {span}：新增 {got.added}，变更 {got.changed}，移出 {got.removed}"
        + (f"（{why}）" if why else "")
    )
    if out is not None:
        typer.echo(f"已写入 {out}")
    typer.echo(f"下次拉取请用：--since {got.cursor}")


@app.command()
@guarded
@reads_files
def run(
    directory: Annotated[Path, typer.Argument(help="包含台账文件（和 divisions.csv）的目录。")],
    date_: DateOpt = None,
    out: Annotated[Path, typer.Option("--out", help="报表输出目录。")] = Path("out"),
    as_json: JsonOpt = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="报表有任何问题（未写出、代码无对应文字）时以退出码 1 结束。")
    ] = False,
    link: Annotated[
        bool,
        typer.Option(
            "--link/--no-link",
            help="是否做人员比对（号码误用、按匹配补全号码）；--no-link 只按身份证号合并。",
        ),
    ] = True,
    columns: ColumnsOpt = None,
    engine: EngineOpt = None,
) -> None:
    """主流程：导入区划和目录下所有台账，合并为一人一码，生成全部部门报表，并给出减负数字。

    退出码：0 流程完成（被退回的数据行和报表问题列在摘要中）；1 使用 --strict 且报表有问题。"""
    from hub.signals import INTERRUPTED, terminate_as_interrupt

    hub = _hub()
    hub.use_engine(engine)
    try:
        with terminate_as_interrupt(), _Bar(not as_json, "导入") as bar:
            summary = hub.run(
                directory,
                ref_date=_parse_date(date_),
                out_dir=out,
                link=link,
                progress=bar,
                columns=_read_columns(columns),
            )
    except KeyboardInterrupt:
        _fail(INTERRUPTED, 130)
    if as_json:
        _emit_json(summary)
    else:
        _print_run(summary)
    if strict and summary["report_problems"]:
        raise typer.Exit(1)


def _report_line(r: dict[str, Any]) -> str:
    where = f"{r['report']} {r['township_name'] or '全县'}"
    if not r["written"]:
        return f"{where}：未写出（审核未通过，见下方问题）"
    return f"{where}：{r['records']} 条 → {r['path']}"


def _print_run(s: dict[str, Any]) -> None:
    typer.echo(
        f"文件 {s['files']} 个（拒收 {s['refused']}，未变 {s['unchanged']}，待确认 {s['held_files']}）；"
        f"数据行 {s['rows']}：接收 {s['accepted']}，退回 {s['rejected']}，待确认 {s['held']}"
    )
    for f in s["file_reports"]:
        mark = {"refused": "拒收", "unchanged": "未变", "held": "待确认"}.get(f["status"], "")
        line = f"  {Path(f['file']).name}：{f['accepted']}/{f['rows']} 行接收"
        if f["errors"]:
            line += f"，错误 {len(f['errors'])}"
        if f["warnings"]:
            line += f"，提醒 {len(f['warnings'])}"
        if mark:
            line += f"【{mark}】{f.get('message') or ''}"
        typer.echo(line)
        if f.get("annotated"):
            typer.echo(f"    标注副本：{f['annotated']}")
        if f.get("resubmission"):  # what a resubmission changed (hub/exchange/departures.py)
            typer.echo(f"    {f['resubmission']['message']}")
    typer.echo(
        f"人员 {s['persons']}，家庭 {s['households']}，市场主体 {s['businesses']}，冲突 {s['conflicts']}"
    )
    typer.echo(f"报表 {s['reports_written']} 个：")
    for r in s["reports"]:
        typer.echo("  " + _report_line(r))
    for p in s["report_problems"]:
        typer.echo(f"  问题：{p}")
    typer.echo(
        f"减负：乡镇一次录入 {s['cells_typed']} 格，交付各部门 {s['cells_delivered']} 格，"
        f"其中 {s['cells_from_model']} 格直接取自统一台账，字段复用率 {s['reuse_rate']:.1%}"
        f"（过去这些格子要按各部门格式重新填写）"
    )
    t = s["timings"]
    typer.echo(
        f"用时 {s['seconds']} 秒（导入与校验 {t['ingest']}，合并 {t['merge']}，导出 {t['export']}，"
        f"等候批注副本 {t['annotate']}）。"
    )
    held = [(f, c) for f in s["file_reports"] for c in f.get("held_columns") or []]
    if held:
        typer.echo(
            f"待确认列 {len(held)} 个（未使用，数据已保留；hub columns 文件 --out 映射.yaml 确认后用 --columns 重新导入）："
        )
        for f, c in held:
            typer.echo(
                f"  {Path(f['file']).name} {c['sheet']} {c['col']}列“{c['header']}”：像“{c['guess_label']}”"
                f"（把握 {c['confidence']:.0%}）"
            )
    for w in s.get("warnings") or []:
        typer.echo(f"提醒：{w}")


# -- mappings ---------------------------------------------------------------------------------------
@mappings_app.command("check")
@guarded
def mappings_check(
    directory: Annotated[Path | None, typer.Argument(help="规格目录，默认 mappings/。")] = None,
    as_json: JsonOpt = False,
) -> None:
    """检查全部映射规格：字段、SQL 表达式、代码转换、部门可见字段；一次列出所有问题。"""
    problems = _hub().check_mappings(directory)
    items = [str(p) for p in problems]
    if as_json:
        _emit_json({"ok": not items, "problems": items})
    elif items:
        for p in items:
            typer.echo(p)
        typer.echo(f"共 {len(items)} 个问题。")
    else:
        typer.echo("全部映射规格检查通过。")
    if items:
        raise typer.Exit(1)


@app.command()
@guarded
def report(
    submission: Annotated[
        int, typer.Argument(help="提交号（见 hub status / hub ingest --json 的 submission_id）。")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="报告目录，默认 HUB_HOME/validation/submission-N（网页“校验报告”页可打开）。"
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """为一次报送生成 great-expectations 校验报告（HTML，供数据管理员查看），并核对与逐格校验结果一致。"""
    result = _hub().validation_report(submission, out)
    if as_json:
        _emit_json(result)
        return
    for s in result["sheets"]:
        state = "通过" if s["success"] else "有问题"
        counts = "，".join(f"{k} {v} 行" for k, v in s["failing_rows"].items()) or "无"
        typer.echo(f"{s['sheet']}（{s['kind']}）：{state}；{counts}")
    typer.echo(f"报告：{result['index']}")


@app.command()
@guarded
def rules(as_json: JsonOpt = False) -> None:
    """列出全部校验规则（问题代码、严重程度、提示语模板）。"""
    from hub.model import load_schema

    items = [
        {"code": k, "severity": v.severity, "message": v.message} for k, v in load_schema().findings.items()
    ]
    if as_json:
        _emit_json(items)
        return
    for i in items:
        typer.echo(f"{i['code']:<24} {'错误' if i['severity'] == 'error' else '提醒'}  {i['message']}")


# -- entity resolution ------------------------------------------------------------------------------
@review_app.callback()
@guarded
def review(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """列出待确认的记录对：两条记录并排、匹配概率和起作用的字段。"""
    if ctx.invoked_subcommand is not None:
        return
    pairs = _hub().review_pending()
    if as_json:
        _emit_json(pairs)
        return
    if not pairs:
        typer.echo("没有待确认的记录对。")
        return
    for p in pairs:
        typer.echo(f"[{p['pair_id']}] 匹配概率 {p['match_probability']:.3f}（{p['rule']}）")
        for side in ("left", "right"):
            r = p[side]
            typer.echo(
                f"  {r['name']}  {r['id_masked'] or '（无有效号码）'}  {r['birth_date'] or ''}  "
                f"{r['village_name'] or ''}  ← {r['file_name']} {r['sheet']} 第{r['row_no']}行"
            )
        drivers = "，".join(f"{d['level']}({d['weight']:+.1f})" for d in p["drivers"])
        typer.echo(f"  依据：{drivers}")
    typer.echo(f"共 {len(pairs)} 对。确认：hub review accept PAIR；否定：hub review reject PAIR")


def _decide(pair: str, decision: str, by: str | None, as_json: bool) -> None:
    who = by or os.environ.get("USER") or "steward"
    result = _hub().review_decide(pair, decision, who)
    if as_json:
        _emit_json(result)
    else:
        typer.echo(
            f"已记录：{pair} {'是同一人' if decision == 'accept' else '不是同一人'}（{who}），已重新合并，人员 {result['persons']}。"
        )


ByOpt = Annotated[str | None, typer.Option("--by", help="决定人（默认当前系统用户）。")]


@review_app.command("accept")
@guarded
def review_accept(
    pair: Annotated[str, typer.Argument(help="记录对编号。")], by: ByOpt = None, as_json: JsonOpt = False
) -> None:
    """确认两条记录是同一人（永久记录，不再询问）。"""
    _decide(pair, "accept", by, as_json)


@review_app.command("reject")
@guarded
def review_reject(
    pair: Annotated[str, typer.Argument(help="记录对编号。")], by: ByOpt = None, as_json: JsonOpt = False
) -> None:
    """确认两条记录不是同一人（永久记录，不再询问）。"""
    _decide(pair, "reject", by, as_json)


@app.command()
@guarded
def explain(
    code: Annotated[str, typer.Argument(help="人员编码，如 P000000001。")], as_json: JsonOpt = False
) -> None:
    """说明一个人员编码的来历：来源记录、记录对的决定及依据字段、被合并的旧编码。"""
    out = _hub().explain(code)
    if as_json:
        _emit_json(out)
        return
    typer.echo(f"人员编码 {out['code']}" + (f"（查询的 {code} 已并入此编码）" if out["code"] != code else ""))
    for key, label in (
        ("absorbed", "并入的旧编码"),
        ("records", "来源记录"),
        ("pairs", "记录对"),
        ("decisions", "人工决定"),
        ("fills", "按匹配补全"),
        ("misuse", "号码误用"),
    ):
        items = out.get(key) or []
        if items:
            typer.echo(f"{label}：")
            for item in items:
                typer.echo(
                    "  " + "，".join(f"{k}={v}" for k, v in item.items() if v not in (None, ""))
                    if isinstance(item, dict)
                    else f"  {item}"
                )


# -- web --------------------------------------------------------------------------------------------
@app.command()
@guarded
def serve(
    host: Annotated[str, typer.Option("--host", help="监听地址。")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口。")] = 8000,
) -> None:
    """启动网页：乡镇填报员上传台账、部门下载报表（含 API）、数据管理员维护映射。

    服务运行时，本机同一系统用户执行的 hub 命令会交给服务执行（本机管理通道 HUB_HOME/run/hub.sock）。"""
    from hub.serve.app import serve as run_server

    run_server(host, port, channel_runner=serve_command)


UserArg = Annotated[str, typer.Argument(help="用户名。")]


def _user_line(u: dict[str, Any]) -> str:
    where = {"clerk": f"{u['township_name'] or ''}（{u['township_code']}）", "department": u["department"]}
    parts = [u["username"], u["role_label"], where.get(u["role"]) or "", u["state"]]
    parts += [f"会话 {u['sessions']}", f"令牌 {u['tokens']}"]
    if u["last_login"]:
        parts.append(f"最近登录 {u['last_login']:%Y-%m-%d %H:%M}")
    return "  ".join(p for p in parts if p)


@users_app.command("list")
@guarded
def users_list(as_json: JsonOpt = False) -> None:
    """列出全部网页用户：角色、乡镇或部门、在用/已停用、在线会话和有效令牌数（不显示密码）。"""
    from hub.serve.accounts import list_users

    items = list_users(_hub().db)
    if as_json:
        _emit_json(items)
        return
    if not items:
        typer.echo("还没有用户。添加：hub users add 用户名 --role clerk|department|steward")
    for u in items:
        typer.echo(_user_line(u))


@users_app.command("add")
@guarded
def users_add(
    name: UserArg,
    role: Annotated[
        str, typer.Option("--role", help="clerk（乡镇填报员）| department（部门）| steward（数据管理员）。")
    ],
    township: Annotated[
        str | None, typer.Option("--township", help="clerk 所属乡镇（街道）：9位代码或名称，如 青山镇。")
    ] = None,
    dept: Annotated[
        str | None, typer.Option("--dept", help="department 的部门名称，如 民政（须为已知部门）。")
    ] = None,
    password: Annotated[
        str | None, typer.Option("--password", help="密码（不填则生成一个，只显示这一次）。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """添加网页用户。"""
    from hub.serve.accounts import add_user, get_user, normalize_username

    hub = _hub()
    secret = add_user(hub.db, name, role, township=township, dept=dept, password=password)
    user = get_user(hub.db, name)
    shown = None if password else secret
    if as_json:
        _emit_json(
            {
                "username": normalize_username(name),
                "role": role,
                "township_code": user.township_code if user else None,
                "department": user.department if user else None,
                "password": shown,
            }
        )
        return
    where = f"，乡镇 {user.township_code}" if user and user.township_code else ""
    typer.echo(
        f"已添加用户 {normalize_username(name)}（{role}{where}）。"
        + (f"初始密码：{secret}（只显示这一次，请转交本人）" if shown else "")
    )


def _account_action(name: str, as_json: bool, action: str) -> None:
    from hub.serve import accounts

    db = _hub().db
    if action == "revoke-tokens":
        count = accounts.revoke_user_tokens(db, name)
        result: dict[str, Any] = {"username": accounts.normalize_username(name), "revoked": count}
        text = f"已吊销 {result['username']} 的接口令牌 {count} 个。"
    else:
        username = accounts.set_disabled(db, name, action == "disable")
        result = {"username": username, "disabled": action == "disable"}
        text = (
            f"已停用 {username}：登录会话已结束，接口令牌已吊销。"
            if action == "disable"
            else f"已启用 {username}（原有接口令牌不恢复）。"
        )
    if as_json:
        _emit_json(result)
    else:
        typer.echo(text)


@users_app.command("disable")
@guarded
def users_disable(name: UserArg, as_json: JsonOpt = False) -> None:
    """停用用户：立即结束其登录会话、吊销其接口令牌，之后不能登录。"""
    _account_action(name, as_json, "disable")


@users_app.command("enable")
@guarded
def users_enable(name: UserArg, as_json: JsonOpt = False) -> None:
    """重新启用已停用的用户（原有接口令牌不恢复）。"""
    _account_action(name, as_json, "enable")


@users_app.command("revoke-tokens")
@guarded
def users_revoke_tokens(name: UserArg, as_json: JsonOpt = False) -> None:
    """吊销用户的全部接口令牌。"""
    _account_action(name, as_json, "revoke-tokens")


@users_app.command("reset")
@guarded
def users_reset(
    name: UserArg,
    password: Annotated[
        str | None, typer.Option("--password", help="新密码（不填则生成一个，只显示这一次）。")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """重置用户密码：其所有登录会话结束。"""
    from hub.serve.accounts import normalize_username, reset_password

    secret = reset_password(_hub().db, name, password)
    shown = None if password else secret
    if as_json:
        _emit_json({"username": normalize_username(name), "password": shown})
        return
    typer.echo(
        f"已重置 {normalize_username(name)} 的密码，其登录会话已结束。"
        + (f"新密码：{secret}（只显示这一次，请转交本人）" if shown else "")
    )


@app.command()
@guarded
def template(
    township: Annotated[str, typer.Option("--township", help="乡镇（街道）代码或名称。")],
    out: Annotated[Path | None, typer.Option("--out", help="输出文件，默认 一张表_<乡镇>.xlsx。")] = None,
) -> None:
    """生成本乡镇的“一张表”：预填已知数据、代码列下拉选择、身份证列为文本、附填表说明；改好后用 hub ingest 上传。"""
    from hub.serve.template import build_template

    hub = _hub()
    code = hub.resolve_township(township)
    target = out or Path(f"一张表_{hub.divisions().name_of(code) or code}.xlsx")
    typer.echo(f"已生成：{build_template(hub, code, target)}")


# -- resubmissions (待核实) and feedback (回流): hub/exchange --------------------------------------------
departures_app = typer.Typer(
    help="重新报送后不再列出的人员（待核实）：hub departures 列出，hub departures answer 编号 --answer 迁出|死亡|漏报。",
    invoke_without_command=True,
)
feedback_app = typer.Typer(
    help="部门对记录的反馈：hub feedback 列出，hub feedback answer 编号 --answer 已更正|核实无误|非本乡镇人员。",
    invoke_without_command=True,
)
app.add_typer(departures_app, name="departures")
app.add_typer(feedback_app, name="feedback")
TownOpt = Annotated[str | None, typer.Option("--township", help="乡镇（街道）代码或名称；不填为全部。")]
AllOpt = Annotated[bool, typer.Option("--all", help="也列出已答复的。")]
NoteOpt = Annotated[str | None, typer.Option("--note", help="说明（可选，永久记录）。")]


def _who(by: str | None) -> str:
    return by or os.environ.get("USER") or "steward"


@departures_app.callback()
@guarded
def departures(
    ctx: typer.Context, township: TownOpt = None, all_: AllOpt = False, as_json: JsonOpt = False
) -> None:
    """列出重新报送后不再列出的人员（待核实）：核实前其原有记录照常报送各部门。"""
    if ctx.invoked_subcommand is not None:
        return
    from hub.exchange.departures import list_departures

    hub = _hub()
    items = list_departures(hub.db, hub.resolve_township(township) if township else None, all_=all_)
    if as_json:
        _emit_json(items)
        return
    if not items:
        typer.echo("没有待核实人员。")
        return
    for d in items:
        typer.echo(
            f"[{d['departure_id']}] {d['status']}  {d['person_code'] or ''} {d['name'] or ''} {d['id_number']}  "
            f"{d['township_name'] or d['township_code']}：{d['old_file']} 有、{d['new_file']} 无"
            + (f"  （{d['note']}）" if d["note"] else "")
        )
    typer.echo(f"共 {len(items)} 人。核实：hub departures answer 编号 --answer 迁出|死亡|漏报 [--note 说明]")


@departures_app.command("answer")
@guarded
def departures_answer(
    departure: Annotated[int, typer.Argument(help="待核实编号（hub departures 列出）。")],
    answer: Annotated[str, typer.Option("--answer", help="迁出、死亡 或 漏报。")],
    note: NoteOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录核实结果：迁出、死亡（从各部门报表中移除）或漏报（保留原记录）；答复人和时间永久保存，随即重新合并。"""
    from hub.exchange.departures import ANSWER_TEXT
    from hub.exchange.departures import answer as answer_departure

    out = answer_departure(_hub(), departure, answer, by=_who(by), note=note)
    if as_json:
        _emit_json(out)
        return
    typer.echo(
        f"已记录：[{departure}] {out['name'] or ''} {ANSWER_TEXT[out['answer']]}（{out['answered_by']}）。"
        f"已重新合并，人员 {out['persons']}。"
    )


@feedback_app.callback()
@guarded
def feedback(
    ctx: typer.Context, township: TownOpt = None, all_: AllOpt = False, as_json: JsonOpt = False
) -> None:
    """列出部门反馈（待答复的；--all 含已答复的及每次答复）。"""
    if ctx.invoked_subcommand is not None:
        return
    from hub.exchange.feedback import list_feedback

    hub = _hub()
    items = list_feedback(hub.db, hub.resolve_township(township) if township else None, all_=all_)
    if as_json:
        _emit_json(items)
        return
    if not items:
        typer.echo("没有待答复的部门反馈。")
        return
    for f in items:
        field = hub.schema.fields[f["field"]].label if f["field"] in hub.schema.fields else "整条记录"
        typer.echo(
            f"[{f['feedback_id']}] {f['status']}  {f['record_code']} {f['record_name'] or ''} {field}："
            f"{f['message']}（{f['department']} {f['posted_by']}，{f['posted_at']:%Y-%m-%d %H:%M}）"
        )
    typer.echo(
        f"共 {len(items)} 条。答复：hub feedback answer 编号 --answer 已更正|核实无误|非本乡镇人员 [--note 说明]"
    )


@feedback_app.command("answer")
@guarded
def feedback_answer(
    item: Annotated[int, typer.Argument(help="反馈编号（hub feedback 列出）。")],
    answer: Annotated[str, typer.Option("--answer", help="已更正、核实无误 或 非本乡镇人员。")],
    note: NoteOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """答复一条部门反馈；每次答复（谁、何时、结果、说明）永久保存。"""
    from hub.exchange.feedback import answer_feedback

    out = answer_feedback(_hub().db, item, answer, by=_who(by), note=note)
    if as_json:
        _emit_json(out)
        return
    typer.echo(f"已答复：[{item}] {out['record_code']} {out['answer']}（{out['answered_by']}）。")


@feedback_app.command("add")
@guarded
def feedback_add(
    record: Annotated[str, typer.Argument(help="记录编码：人员 P…、家庭 H…、市场主体 B…。")],
    message: Annotated[str, typer.Option("--message", help="哪里有误。")],
    dept: Annotated[str, typer.Option("--dept", help="反馈部门，如 民政。")],
    field: Annotated[str | None, typer.Option("--field", help="字段名或中文名称；不填为整条记录。")] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """以部门名义登记一条反馈（与接口 POST /api/v1/feedback 相同）。"""
    from hub.exchange.feedback import post_feedback
    from hub.serve.accounts import known_departments

    hub = _hub()
    if dept not in known_departments():
        _fail(f"没有名为“{dept}”的部门，可选：{'、'.join(sorted(known_departments()))}。")
    out = post_feedback(
        hub.db, hub.schema, record=record, field=field, message=message, department=dept, by=_who(by)
    )
    if as_json:
        _emit_json(out)
        return
    typer.echo(
        f"已登记反馈 [{out['feedback_id']}]：{out['record_code']}，待 {out['township_name'] or '乡镇'} 答复。"
    )


# -- report admission (hub/admission, docs/admission.md) --------------------------------------------
@admission_app.command("submit")
@guarded
@reads_files
def admission_submit(
    file: Annotated[
        Path, typer.Argument(help="部门的 Excel 表样，或栏目清单（.yaml / .csv：栏目,口径说明）。")
    ],
    dept: Annotated[str, typer.Option("--dept", help="提出报表的部门，如 卫健。")],
    title: Annotated[str | None, typer.Option("--title", help="报表名称（默认取表样标题或文件名）。")] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="报送周期：monthly | quarterly | annual | on_demand。")
    ] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """提交报表草案并立即审查：每一栏是否台账已有、是否需确认口径、是否其他报表已采集、是否新增，以及新增栏目的填报负担。"""
    from hub.admission.text import review_text

    who = by or os.environ.get("USER") or dept
    out = _hub().admission_submit(file, department=dept, by=who, title=title, period=period)
    if as_json:
        _emit_json(out)
        return
    typer.echo(review_text(out))
    typer.echo(
        f"\n草案编号 {out['draft_id']}：数据管理员用 hub admission decide {out['draft_id']} admit|return|reject 决定。"
    )


@admission_app.command("review")
@guarded
def admission_review(
    draft: Annotated[int, typer.Argument(help="草案编号（hub admission submit 的结果）。")],
    as_json: JsonOpt = False,
) -> None:
    """一份草案的准入审查（逐栏分类、口径问题、与已登记报表的重合、填报负担对比、决定记录）。"""
    from hub.admission.text import review_text

    out = _hub().admission_review(draft)
    if as_json:
        _emit_json(out)
        return
    typer.echo(review_text(out))


@admission_app.command("decide")
@guarded
def admission_decide(
    draft: Annotated[int, typer.Argument(help="草案编号。")],
    decision: Annotated[str, typer.Argument(help="admit（准入）| return（退回修改）| reject（不予准入）。")],
    reason: Annotated[str, typer.Option("--reason", help="理由（必填，永久记录）。")],
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """对草案作出决定。准入时写出映射规格（经 hub mappings check 同样的检查）、新增字段并登记报表清单。"""
    who = by or os.environ.get("USER") or "steward"
    out = _hub().admission_decide(draft, decision, reason=reason, by=who)
    if as_json:
        _emit_json(out)
        return
    typer.echo(
        f"草案 {out['draft_id']}（{out['report_id']}）：{out['label']}，{out['by']} 于 {out['at']}，理由：{out['reason']}"
    )
    if out.get("spec"):
        typer.echo(f"映射规格：{out['spec']}；已登记报表清单，下一次 hub run 将生成此报表。")


@admission_app.command("list")
@guarded
def admission_list(as_json: JsonOpt = False) -> None:
    """报表清单（已登记的报表：部门、周期、栏目、依据、登记人、时间）和全部草案。"""
    from hub import admission
    from hub.admission.text import registry_text

    hub = _hub()
    reg, drafts = admission.registry(hub.db), admission.drafts(hub.db)
    if as_json:
        _emit_json({"registry": reg, "drafts": drafts})
        return
    typer.echo("报表清单：\n" + registry_text(reg))
    for d in drafts:
        typer.echo(
            f"草案 {d['draft_id']} {d['report_id']} {d['department']}《{d['title']}》{d['status_label']}"
        )


@app.command()
@guarded
def burden(as_json: JsonOpt = False) -> None:
    """全县减负台账：按乡镇和月份列出一次录入格数、交付各部门格数、字段复用率、台账直供报表数，以及报表准入减少的填报。"""
    from hub.admission.text import ledger_text

    out = _hub().burden()
    if as_json:
        _emit_json(out)
        return
    typer.echo(ledger_text(out))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
