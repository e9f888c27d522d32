"""Which township a file belongs to: ``--township`` if given, else the title and meta lines, else the
file name, else the villages its village column names (when they all belong to one township)."""

from __future__ import annotations

from collections.abc import Iterable

from hub.errors import IngestError
from hub.ingest.divisions import Division, Divisions, clean

HINT = "请用 --township 指定乡镇（代码或名称）。"


def _named_in(text: str, divisions: Divisions) -> list[Division]:
    text = clean(text)
    full = [d for d in divisions.townships() if clean(d.name) in text]
    if full:
        return full
    return [d for d in divisions.townships() if len(b := divisions.township_base(d.name)) >= 2 and b in text]


def _from_villages(values: Iterable[str], divisions: Divisions) -> list[Division]:
    names = {clean(v) for v in values if v and clean(v)}
    return [t for t in divisions.townships() if any(divisions.resolve_village(t.code, v) for v in names)]


def resolve_file_township(
    file_name: str,
    divisions: Divisions,
    township: str | None,
    texts: list[str],
    villages: Iterable[str],
) -> str:
    """The 9-digit township code of a file, or IngestError saying to pass --township."""
    if township:
        found = divisions.resolve_township(township)
        key = clean(township)
        if not found and not divisions.townships() and key.isdigit() and len(key) in (9, 12):
            return key[:9]  # no divisions loaded yet: trust a well-formed code
        if len(found) == 1:
            return found[0].code
        if not found:
            raise IngestError(
                f"找不到乡镇“{township}”", file=file_name, hint="请检查乡镇代码或名称，或先导入区划。"
            )
        names = "、".join(f"{d.name}（{d.code}）" for d in found)
        raise IngestError(f"“{township}”对应多个乡镇：{names}", file=file_name, hint="请用乡镇代码指定。")
    if not divisions.townships():
        raise IngestError("尚未导入区划，无法判断文件属于哪个乡镇", file=file_name, hint=HINT)
    for source in (" ".join(texts), file_name):
        found = _named_in(source, divisions)
        if len(found) == 1:
            return found[0].code
        if len(found) > 1:
            names = "、".join(d.name for d in found)
            raise IngestError(
                f"文件同时提到多个乡镇（{names}），无法判断属于哪个乡镇", file=file_name, hint=HINT
            )
    found = _from_villages(villages, divisions)
    if len(found) == 1:
        return found[0].code
    raise IngestError("无法从标题、填报单位或文件名判断文件属于哪个乡镇", file=file_name, hint=HINT)
