"""The steward's work on mapping specs: check a draft with the same checker as `hub mappings check`,
preview what it changes on the data in the store, publish it with a versioned history."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from hub import yamlio
from hub.errors import HubError
from hub.paths import mappings_dir

if TYPE_CHECKING:
    from hub.facade import Hub
    from hub.serve.accounts import User

ID_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]+$")
SERIAL_COLUMNS = {"序号"}  # renumbered whenever a row is added or removed: not a change of its own
KEY_HINTS = ("身份证", "GMSFHM", "信用代码", "证号", "区划代码", "代码", "编号", "村（社区）", "名称", "姓名")


def spec_path(report_id: str) -> Path:
    if not ID_RE.fullmatch(report_id):
        raise HubError(f"报表编号“{report_id}”不合法，应形如 MZ-DIBAO。", code="spec-id")
    return mappings_dir() / f"{report_id}.yaml"


def published_text(report_id: str) -> str | None:
    path = spec_path(report_id)
    return path.read_text(encoding="utf-8") if path.is_file() else None


def check_text(hub: Hub, report_id: str, text: str) -> list[str]:
    """Every problem of the draft, in the words of `hub mappings check`."""
    name = f"{report_id}.yaml"
    try:
        data = yamlio.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" 第{mark.line + 1}行第{mark.column + 1}列" if mark else ""
        return [f"mappings/{name}:{where} YAML 格式错误：{getattr(exc, 'problem', exc)}"]
    if not isinstance(data, dict):
        return [f"mappings/{name}: 规格应为 YAML 映射（键: 值）。"]
    problems = []
    if data.get("id") != report_id:
        problems.append(
            f"mappings/{name}: id: 应为 {report_id}（文件名与 id 必须一致），实际为 {data.get('id')!r}"
        )
    with tempfile.TemporaryDirectory(prefix="hub-spec-") as tmp:
        (Path(tmp) / name).write_text(text, encoding="utf-8")
        problems += [str(p).replace(tmp, "mappings") for p in hub.check_mappings(Path(tmp))]
    return problems


@dataclass
class Diff:
    township: str
    township_name: str
    before: int
    after: int
    added: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[str, list[tuple[str, Any, Any]]]] = field(default_factory=list)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def unchanged(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.columns_added
            or self.columns_removed
            or self.error
        )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _key_columns(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    if not old or not new:
        return []
    common = [c for c in new[0] if c in old[0] and c not in SERIAL_COLUMNS]
    ranked = sorted(
        common, key=lambda c: next((i for i, h in enumerate(KEY_HINTS) if h in c), len(KEY_HINTS))
    )
    for column in ranked:
        if all(
            len({_text(r.get(column)) for r in rows}) == len(rows) and all(_text(r.get(column)) for r in rows)
            for rows in (old, new)
        ):
            return [column]
    return []


def diff_rows(
    old: list[dict[str, Any]], new: list[dict[str, Any]], township: str = "", name: str = ""
) -> Diff:
    """Rows added, removed and changed between the published and the draft output, matched on the
    first column that identifies a row in both (an ID, a code, a village), else by position."""
    out = Diff(township, name, len(old), len(new))
    old_cols, new_cols = list(old[0]) if old else [], list(new[0]) if new else []
    if old and new:
        out.columns_added = [c for c in new_cols if c not in old_cols]
        out.columns_removed = [c for c in old_cols if c not in new_cols]
    out.key = _key_columns(old, new)

    def key_of(i: int, row: dict[str, Any]) -> str:
        return "｜".join(_text(row.get(k)) for k in out.key) if out.key else f"第{i + 1}行"

    before = {key_of(i, r): r for i, r in enumerate(old)}
    after = {key_of(i, r): r for i, r in enumerate(new)}
    out.removed = [r for k, r in before.items() if k not in after]
    out.added = [r for k, r in after.items() if k not in before]
    shared = [c for c in new_cols if c in old_cols and c not in SERIAL_COLUMNS]
    for k, row in after.items():
        if k in before:
            cells = [
                (c, before[k].get(c), row.get(c))
                for c in shared
                if _text(before[k].get(c)) != _text(row.get(c))
            ]
            if cells:
                out.changed.append((k, cells))
    return out


def preview_change(
    hub: Hub, report_id: str, draft: str, ref: date, towns: list[dict[str, Any]]
) -> list[Diff]:
    from hub.export import preview_report

    published = published_text(report_id)
    data = yamlio.safe_load(draft) or {}
    scopes = [{"code": None, "name": "全县"}] if data.get("scope") == "county" else towns
    diffs = []
    for town in scopes:
        try:
            old = preview_report(hub.db, report_id, town["code"], ref) if published is not None else []
            new = preview_report(hub.db, report_id, town["code"], ref, spec_text=draft)
        except HubError as exc:
            diffs.append(Diff(str(town["code"] or ""), str(town["name"]), 0, 0, error=str(exc)))
            continue
        diffs.append(diff_rows(old, new, str(town["code"] or ""), str(town["name"])))
    return diffs


def summarise(diffs: list[Diff]) -> str:
    changed = [d for d in diffs if not d.unchanged]
    if not changed:
        return "对库中数据无影响"
    return "；".join(
        f"{d.township_name}：新增{len(d.added)}行，删除{len(d.removed)}行，修改{len(d.changed)}行"
        for d in changed
    )


def publish(hub: Hub, report_id: str, text: str, user: User, summary: str) -> int:
    """Check, write the spec where the export stage reads it, and record the version. Returns it."""
    problems = check_text(hub, report_id, text)
    if problems:
        raise HubError(
            f"规格有 {len(problems)} 个问题，未发布。", code="spec-error", details={"problems": problems}
        )
    db, now = hub.db, datetime.now()
    path = spec_path(report_id)
    with db.transaction():
        last = int(
            db.scalar(
                "SELECT coalesce(max(version), 0) FROM hub_spec_versions WHERE report_id = ?", [report_id]
            )
        )
        old = published_text(report_id)
        if last == 0 and old is not None and old != text:  # the file as it was before the first publication
            last = 1
            db.execute(
                "INSERT INTO hub_spec_versions VALUES (?, 1, ?, '（发布前的文件）', ?, ?, '初始版本')",
                [report_id, now, _sha(old), old],
            )
        version = last + 1
        db.execute(
            "INSERT INTO hub_spec_versions VALUES (?, ?, ?, ?, ?, ?, ?)",
            [report_id, version, now, user.username, _sha(text), text, summary],
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return version


def history(hub: Hub, report_id: str) -> list[dict[str, Any]]:
    rows = hub.db.dicts(
        "SELECT * FROM hub_spec_versions WHERE report_id = ? ORDER BY version DESC", [report_id]
    )
    for i, row in enumerate(rows):
        previous = rows[i + 1]["spec_text"] if i + 1 < len(rows) else ""
        row["diff"] = "\n".join(
            difflib.unified_diff(
                previous.splitlines(),
                row["spec_text"].splitlines(),
                f"v{row['version'] - 1}",
                f"v{row['version']}",
                lineterm="",
            )
        )
    return rows


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
