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
