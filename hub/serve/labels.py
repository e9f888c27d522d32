"""The one place where internal names become the Chinese words a page shows.

Field names (``township_code``, ``phone``), ledger kinds (``population``), report periods
(``monthly``), scopes, channels and statuses are identifiers inside the hub; on a page they are
shown through :func:`label` (the Jinja filter ``label``). Field and ledger labels come from the
schema (``schemas/fields.yaml``, ``schemas/ledgers.yaml``), so a new field is labelled where it is
defined. Messages of libraries (pydantic's ``Field required``, openpyxl's ``File not found …``)
become Chinese through :func:`chinese_message`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

#: identifiers that are not schema fields or ledger kinds, by group
WORDS: dict[str, dict[str, str]] = {
    "field": {
        "township_code": "乡镇（街道）",
        "township": "乡镇（街道）",
        "village_code": "村（社区）代码",
        "village_name": "村（社区）",
        "household_code": "家庭编码",
        "person_code": "人员编码",
        "business_code": "市场主体编码",
        "head_person_code": "户主",
        "alive": "健在",
        "kind": "类型",
    },
    "entity": {"person": "人员", "household": "家庭", "business": "市场主体", "membership": "家庭成员"},
    "period": {"monthly": "月报", "quarterly": "季报", "annual": "年报", "on_demand": "按需"},
    "scope": {"township": "按乡镇", "county": "全县"},
    "format": {"xlsx": "Excel 工作簿", "csv": "CSV 文本", "json": "JSON 数据行", "file": "报表文件"},
    "channel": {"web": "网页", "api": "接口"},
    "role": {"clerk": "乡镇填报员", "department": "部门用户", "steward": "数据管理员"},
    "status": {
        "ingested": "已导入",
        "unchanged": "未变（重复文件）",
        "refused": "拒收",
        "held": "待确认列",
        "done": "已完成",
        "failed": "失败",
        "queued": "排队中",
        "running": "处理中",
    },
    "severity": {"error": "错误", "warning": "提示"},
    # request parameters, named in the message of a request the hub cannot read
    "param": {
        "sid": "提交号",
        "job_id": "任务号",
        "upload_id": "上传文件号",
        "report": "报表",
        "report_id": "报表编号",
        "township": "乡镇（街道）",
        "date": "日期",
        "purpose": "用途",
        "format": "格式",
        "map_id": "列映射号",
        "q": "查找内容",
        "severity": "类别",
        "column": "列",
        "off": "列映射号",
        "published": "版本号",
        "label": "名称",
        "hint": "令牌",
        "username": "用户名",
        "password": "密码",
        "name": "用户名",
        "files": "文件",
        "text": "规格内容",
        "action": "操作",
    },
}


@lru_cache(maxsize=1)
def _schema_words() -> dict[str, dict[str, str]]:
    from hub.model import load_schema

    schema = load_schema()
    return {
        "field": {name: f.label for name, f in schema.fields.items()},
        "kind": {name: ledger.label for name, ledger in schema.ledgers.items()},
    }


def label(value: Any, group: str = "field") -> str:
    """The Chinese word for an internal name of ``group`` (field, kind, entity, period, scope,
    format, channel, role, status, severity); a value that is not an internal name is shown as is."""
    if value is None:
        return ""
    text = str(value)
    schema = _schema_words()
    for words in (schema.get(group, {}), WORDS.get(group, {})):
        if text in words:
            return words[text]
    if group == "kind":  # a ledger kind may be stored as 'population+dibao' for a mixed file
        parts = [p for p in re.split(r"[+,/ ]+", text) if p]
        if len(parts) > 1 and all(p in schema["kind"] for p in parts):
            return "、".join(schema["kind"][p] for p in parts)
    return text


def invalid_request(errors: list[dict[str, Any]]) -> str:
    """The message of a request whose parameters FastAPI could not read (pydantic's errors), in
    Chinese: which parameter, and what is wrong with it."""
    parts = []
    for err in errors:
        loc = err.get("loc") or ["?"]
        name = label(loc[-1], "param")
        kind = str(err.get("type", ""))
        if kind == "missing":
            parts.append(f"缺少“{name}”")
        elif kind.startswith(("int", "float")):
            parts.append(f"“{name}”应为数字")
        elif kind in ("literal_error", "enum"):
            allowed = (err.get("ctx") or {}).get("expected", "")
            parts.append(
                f"“{name}”的取值不在可选范围内{('（可选 ' + str(allowed) + '）') if allowed else ''}"
            )
        else:
            parts.append(f"“{name}”的值无法识别")
    return "请求参数不正确：" + "；".join(dict.fromkeys(parts)) + "。"


# English messages of libraries that reach a user, as patterns → Chinese
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Field required$"), "缺少必填项"),
    (re.compile(r"^Input should be a valid (\w+).*$"), "取值类型不对"),
    (re.compile(r"^Extra inputs are not permitted$"), "不认识的项"),
    (re.compile(r"^String should have at least (\d+) characters?$"), r"至少应有 \1 个字"),
    (re.compile(r"^String should have at most (\d+) characters?$"), r"最多 \1 个字"),
    (re.compile(r"^Input should be (.+)$"), r"取值应为 \1"),
    (
        re.compile(r"File not found '[^']*'|There is no item named '[^']*' in the archive", re.I),
        "文件不是有效的 Excel 工作簿（内部结构缺失或已损坏），请用 Excel 或 WPS 打开后另存为 .xlsx 再上传",
    ),
    (
        re.compile(r"File is not a zip file|Bad magic number|BadZipFile", re.I),
        "文件已损坏或不是它扩展名所说的格式，请用 Excel 或 WPS 打开后另存为 .xlsx 再上传",
    ),
]


def chinese_message(text: str) -> str:
    """A library's English message in Chinese (unknown English stays, for the server log to show)."""
    for pattern, chinese in _MESSAGES:
        if pattern.search(text):
            return pattern.sub(chinese, text) if "\\" in chinese else chinese
    return text
