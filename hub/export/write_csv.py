"""The csv writer: the spec's encoding (GA-SYRK: GBK), a header of the last header line (field
codes), missing values empty (never 'None'/'nan'), dates as the spec's pattern or ISO."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.errors import ExportError
from hub.export.document import Document, register_writer


def _text(value: Any, pattern: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime(pattern) if pattern else value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


@register_writer("csv")
def write_csv(doc: Document, path: Path) -> None:
    if len(doc.sheets) != 1:
        raise ExportError(f"{doc.spec.id}: csv 只能输出一个工作表", file=str(path))
    sd, out = doc.sheets[0], doc.spec.output
    cols = sd.sheet.columns
    lines = [[c.header[-1] for c in cols]] if out.header == "last" else []
    lines += [[_text(row[c.key], c.pattern) for c in cols] for row in sd.rows]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    try:
        data = buffer.getvalue().encode(out.encoding)  # one encode; the values are searched only on failure
    except UnicodeEncodeError:
        bad = [
            (i, v) for i, line in enumerate(lines, start=1) for v in line if not _encodable(v, out.encoding)
        ]
        raise ExportError(
            f"{doc.spec.id}: {len(bad)} 个值无法用 {out.encoding} 编码，例如第{bad[0][0]}行 {bad[0][1]!r}",
            file=str(path),
            details={"values": [v for _, v in bad[:20]]},
        ) from None
    path.write_bytes(data)


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
