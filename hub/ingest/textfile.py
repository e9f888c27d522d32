"""CSV / TSV / TXT reader.

Encoding: a UTF-16 BOM (Excel's "Unicode 文本") → UTF-16; else UTF-8 (with or without BOM) tried
strictly, then GB18030 (a superset of GBK and GB2312). Delimiter: tab for ``.tsv``, else sniffed
from the first lines among comma, tab, semicolon and ``|``.

Row numbers are the line a text editor shows for the record's first line: a record starts one line
after the previous record, which spans ``1 + (line breaks inside its quoted cells)`` lines; this is
computed column-wise in Arrow after parsing.

Parsing: rectangular files (every record the same width, no blank lines: what systems export) go
through pyarrow's CSV parser; anything else (a one-cell title line above the header, blank lines,
ragged rows) through the C ``csv`` module in chunks of ``CHUNK`` records. A short ragged preamble
(title and meta lines, the usual case) above a rectangular body takes the hybrid path: the preamble
through ``csv``, the body through pyarrow. Measured on a 1,000,000 × 12 GBK file (105 MB): about 2 s
on the fast and hybrid paths, about 8 s on the fallback.

Unbalanced quotes: a line whose quoted cell opens and never closes on that line would, by the CSV
rules, swallow the lines below into one cell until the next stray quote (or the end of the file). The
hub does not let that happen silently: after parsing, a record that spans several lines and whose
cell holds a continuation line that is itself a whole row (as many cells as the header) is taken for
such a line; that line alone is re-read cell by cell as written (its quote kept as a character), the
file re-parsed, and a ``csv-quote-unbalanced`` warning names the line. Every other row is read as it
would have been without the stray quote.

Limits (:mod:`hub.ingest.limits`): the memory a read takes is estimated from the file size before
decoding; columns, rows and cells are checked before a ragged file is padded to its widest line.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from hub.errors import IngestError
from hub.ingest import limits
from hub.ingest.readers import note, register_reader
from hub.ingest.types import RawSheet

if TYPE_CHECKING:
    import pyarrow as pa

MAX_QUOTE_FIXES = 200  # lines with an unbalanced quote re-read one by one; more than this: refused
PREAMBLE_SCAN = 40  # records looked at for a title/meta preamble above a rectangular body
CHUNK = 200_000
DELIMITERS = (",", "\t", ";", "|")


def decode_text(data: bytes, name: str) -> str:
    """Bytes → text: UTF-16 (BOM), UTF-8 (strict, BOM dropped), else GB18030. IngestError if neither."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise IngestError("文件编码（UTF-16）有误，无法读取", file=name) from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"无法识别文件编码（第 {exc.start} 字节附近），既不是 UTF-8 也不是 GBK/GB18030",
            file=name,
            hint="请用 Excel 打开后另存为 .xlsx 或 “CSV UTF-8” 再上传。",
        ) from exc


def sniff_delimiter(text: str) -> str:
    """The delimiter whose per-line count is most consistent over the first 50 non-blank lines."""
    lines = [ln for ln in text[:200_000].splitlines()[:60] if ln.strip()][:50]
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        counts = Counter(ln.count(delim) for ln in lines if ln.count(delim) > 0)
        if not counts:
            continue
        width, lines_with_it = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        score = (lines_with_it, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def _chunk_table(records: list[list[str]]) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = list(itertools.zip_longest(*records, fillvalue=None)) if records else []
    arrays = []
    for col in columns:
        arr = pa.array(col, type=pa.string())
        arrays.append(pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr))
    return pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(1, len(arrays) + 1)])


def _line_spans(table: pa.Table) -> pa.Array:
    """Lines each record occupies: 1 + line breaks inside its cells."""
    import pyarrow as pa
    import pyarrow.compute as pc

    spans = pa.array([1] * table.num_rows, type=pa.int64())
    for col in table.columns:
        breaks = pc.fill_null(pc.count_substring(col, "\n"), 0)
        spans = pc.add(spans, pc.cast(breaks, pa.int64()))
    return spans


def _fast_parse(text: str, delimiter: str) -> pa.Table | None:
    """pyarrow's multi-threaded parser for rectangular files; None when a row is ragged or blank."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True, block_size=8 << 20),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(4096)},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    arrays = [pc.if_else(pc.equal(c, ""), pa.scalar(None, pa.string()), c) for c in table.columns]
    return pa.Table.from_arrays(arrays, names=[f"c{i}" for i in range(1, len(arrays) + 1)])


def _slow_parse(text: str, delimiter: str, file: str = "") -> pa.Table:
    """The C ``csv`` module in chunks: handles ragged rows (title lines) and blank lines. The widest
    line is checked against the limits before the chunk is padded to it."""
    import pyarrow as pa

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    parts: list[pa.Table] = []
    rows = 0
    width = 0
    while True:
        records = list(itertools.islice(reader, CHUNK))
        if not records:
            break
        rows += len(records)
        width = max(width, max(len(r) for r in records))
        limits.check(limits.COLUMNS, width, file)
        limits.check_extent(rows, width, file)
        parts.append(_chunk_table(records))
    width = max((p.num_columns for p in parts), default=0)
    names = [f"c{i}" for i in range(1, width + 1)]
    padded = []
    for p in parts:
        for name in names[p.num_columns :]:
            p = p.append_column(name, pa.nulls(p.num_rows, pa.string()))
        padded.append(p)
    return pa.concat_tables(padded) if padded else pa.table({})


def _hybrid_parse(text: str, delimiter: str) -> pa.Table | None:
    """A short ragged preamble (title and meta lines above the header) through the ``csv`` module,
    the rectangular body through pyarrow. None when the body is not rectangular either."""
    import pyarrow as pa

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    head: list[tuple[list[str], int]] = []  # (record, line_num after it)
    for record in itertools.islice(reader, PREAMBLE_SCAN):
        head.append((record, reader.line_num))
    if not head:
        return None
    width = max(len(r) for r, _ in head)
    start = next((i for i in range(len(head)) if all(len(r) == width for r, _ in head[i:])), None)
    if not start:  # no preamble (the whole file is ragged) or nothing rectangular in the scan
        return None
    lines_before = head[start - 1][1]
    offset = 0
    for _ in range(lines_before):
        offset = text.index("\n", offset) + 1
    body = _fast_parse(text[offset:], delimiter)
    if body is None or body.num_columns != width:
        return None
    preamble = _chunk_table([r for r, _ in head[:start]])
    for i in range(preamble.num_columns + 1, width + 1):
        preamble = preamble.append_column(f"c{i}", pa.nulls(preamble.num_rows, pa.string()))
    return pa.concat_tables([preamble.select(body.column_names), body])


def parse_text(text: str, delimiter: str, file: str = "") -> pa.Table:
    """Parse CSV text into the RawSheet table (``_row`` + ``c1..cN``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = _fast_parse(text, delimiter)
    if table is None:
        table = _hybrid_parse(text, delimiter)
    if table is None:
        table = _slow_parse(text, delimiter, file)
    limits.check_extent(table.num_rows, table.num_columns, file)
    width = table.num_columns
    spans = _line_spans(table)
    # first line of record i = 1 + sum of the spans of the records before it
    ends = pc.cumulative_sum(spans)
    rows = pc.add(pc.subtract(ends, spans), 1)
    return table.add_column(0, "_row", rows) if width else pa.table({"_row": pa.array([], pa.int64())})


def _swallowing_lines(table: pa.Table, delimiter: str) -> list[int]:
    """First lines of records that swallowed the lines below them: a cell with a line break whose
    continuation line is a whole row by itself (at least as many cells as the sheet has columns)."""
    import pyarrow.compute as pc

    width = table.num_columns - 1
    if width < 2 or table.num_rows == 0:
        return []
    found: set[int] = set()
    for name in table.column_names[1:]:
        col = table[name]
        multi = pc.fill_null(pc.greater(pc.count_substring(col, "\n"), 0), False)
        if not pc.any(multi).as_py():
            continue
        picked = table.filter(multi).select(["_row", name])
        for row, value in zip(picked["_row"].to_pylist(), picked[name].to_pylist(), strict=True):
            for line in value.split("\n")[1:]:
                cells = next(csv.reader([line], delimiter=delimiter, strict=False), [])
                if len(cells) >= width:
                    found.add(int(row))
                    break
    return sorted(found)


def _literal_line(line: str, delimiter: str) -> str:
    """``line`` re-written so it reads as one record on its own: quoted cells that close stay as they
    are; from the cell whose quote never closes, cells are split at the delimiter as written, the
    quote kept as a character (every cell then re-quoted)."""
    cells: list[str] = []
    i, n = 0, len(line)
    while i <= n:
        if i < n and line[i] == '"':
            j = i + 1
            value = []
            closed = False
            while j < n:
                if line[j] == '"':
                    if j + 1 < n and line[j + 1] == '"':
                        value.append('"')
                        j += 2
                        continue
                    if j + 1 == n or line[j + 1] == delimiter:
                        closed = True
                    break
                value.append(line[j])
                j += 1
            if closed:
                cells.append("".join(value))
                i = j + 2
                continue
            cells.extend(line[i:].split(delimiter))  # the unbalanced quote: the rest as written
            break
        end = line.find(delimiter, i)
        end = n if end < 0 else end
        cells.append(line[i:end])
        i = end + 1
    return delimiter.join('"' + c.replace('"', '""') + '"' for c in cells)


def _fix_quotes(text: str, delimiter: str, name: str) -> tuple[pa.Table, list[dict[str, object]]]:
    """Parse ``text``; lines with an unbalanced quote re-read on their own (see the module docstring)."""
    table = parse_text(text, delimiter, name)
    fixed: dict[int, str] = {}
    while bad := [n for n in _swallowing_lines(table, delimiter) if n not in fixed]:
        if len(fixed) + len(bad) > MAX_QUOTE_FIXES:
            raise IngestError(
                f"文件中有 {len(fixed) + len(bad)} 行以上的英文双引号不成对，无法按行读取",
                file=name,
                row=bad[0],
                hint="请用 Excel 或 WPS 打开后另存为 .xlsx，或把单元格中的英文双引号改为中文引号后再上传。",
            )
        lines = text.split("\n")
        for n in bad:
            raw = lines[n - 1]
            cr = "\r" if raw.endswith("\r") else ""
            fixed[n] = raw.rstrip("\r")
            lines[n - 1] = _literal_line(fixed[n], delimiter) + cr
        text = "\n".join(lines)
        table = parse_text(text, delimiter, name)
    notes = [
        note(
            "",
            n,
            "csv-quote-unbalanced",
            f"第{n}行的英文双引号不成对（{_snippet(line)}），按 CSV 规则会把下面的行并进一个单元格；"
            "已按原样逐格读取本行，下面各行照常读取。请核对本行，把单元格中的英文双引号改成中文引号或删去。",
            value=_snippet(line),
        )
        for n, line in sorted(fixed.items())
    ]
    return table, notes


def _snippet(line: str) -> str:
    at = line.find('"')
    start = max(0, at - 10)
    return ("…" if start else "") + line[start : at + 20] + ("…" if len(line) > at + 20 else "")


@register_reader("text", ".csv", ".tsv", ".txt")
def read_text(path: Path, deadline: limits.Deadline) -> list[RawSheet]:
    size = path.stat().st_size
    limits.check(limits.READ_MB, size * limits.BYTES_PER_TEXT_BYTE / limits.MB, path.name)
    data = path.read_bytes()
    if (
        data[:8] == b"\x89PNG\r\n\x1a\n"
        or b"\x00" in data[:4096]
        and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    ):
        raise IngestError("文件内容不是文本表格（可能是图片或其他二进制文件改了扩展名）", file=path.name)
    text = decode_text(data, path.name)
    del data
    if not text.strip():
        raise IngestError("文件没有任何内容", file=path.name)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(text)
    try:
        table, notes = _fix_quotes(text, delimiter, path.name)
    except csv.Error as exc:
        raise IngestError(f"CSV 格式有误：{exc}", file=path.name) from exc
    deadline.check()
    limits.check_cell_chars(table, path.name, None)
    for n in notes:
        n["sheet"] = path.stem
    return [RawSheet(name=path.stem, table=table, notes=notes)]
