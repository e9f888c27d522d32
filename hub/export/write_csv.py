"""The csv writer: the spec's encoding (GA-SYRK: GBK), a header of the last header line (field
codes), missing values empty (never 'None'/'nan'), dates as the spec's pattern or ISO, quoted only
where needed, text that a spreadsheet would evaluate (``=``, ``+``, ``-``, ``@``, tab, CR first)
prefixed with ``'`` (:mod:`hub.safecell`). The lines are rendered in SQL
(:meth:`hub.export.body.Body.csv_chunks`) and encoded chunk by chunk; a value the encoding cannot hold refuses the file, naming the value and its line."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable
from pathlib import Path

from hub.errors import ExportError
from hub.export.document import Document, register_writer
from hub.safecell import csv_text


@register_writer("csv")
def write_csv(doc: Document, path: Path) -> None:
    if len(doc.sheets) != 1:
        raise ExportError(f"{doc.spec.id}: csv 只能输出一个工作表", file=str(path))
    sd, encoding = doc.sheets[0], doc.spec.output.encoding
    header = io.StringIO()
    if doc.spec.output.header == "last":
        csv.writer(header, lineterminator="\r\n").writerow([csv_text(c.header[-1]) for c in sd.sheet.columns])
    pieces = itertools.chain([header.getvalue()], sd.body.csv_chunks(sd.sheet.columns))
    tmp = path.with_name(path.name + ".part")
    try:
        with tmp.open("wb") as f:
            record = 1  # the file's line (record) number where the next piece starts
            for text in pieces:
                try:
                    f.write(text.encode(encoding))  # one encode per chunk of rows
                except UnicodeEncodeError:
                    bad = _unencodable(itertools.chain([text], pieces), record, encoding)
                    raise ExportError(
                        f"{doc.spec.id}: {len(bad)} 个值无法用 {encoding} 编码，例如第{bad[0][0]}行 {bad[0][1]!r}",
                        file=str(path),
                        details={"values": [v for _, v in bad[:20]]},
                    ) from None
                record += _records(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _records(text: str) -> int:
    return sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) if '"' in text else text.count("\r\n")


def _unencodable(pieces: Iterable[str], record: int, encoding: str) -> list[tuple[int, str]]:
    """Every value of the remaining pieces the encoding cannot hold, with its line number."""
    bad = []
    for text in pieces:
        for i, fields in enumerate(csv.reader(io.StringIO(text, newline=""))):
            bad += [(record + i, v) for v in fields if not _encodable(v, encoding)]
        record += _records(text)
    return bad


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
