"""Filling merged cells and ditto marks, column-wise in Arrow/numpy (no loop over data rows).

* :func:`fill_merged`: every cell of a merged range takes the value of the range's top-left cell.
* :func:`fill_ditto`: a cell that is exactly a ditto mark (同上, 〃, ", 〃〃 ...) takes the last
  non-empty value above it in the same column; for household-level fields of a ledger whose rows are
  household members, empty cells are filled the same way (the head's row carries them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

DITTO_MARKS = ["同上", "〃", "〃〃", "〃〃〃", '"', '""', "“", "”", "“”", "''", "々", "仝上", "同 上"]


def fill_merged(table: pa.Table, merged: list[tuple[int, int, int, int]]) -> pa.Table:
    """``table`` is a RawSheet table (``_row`` consecutive); ``merged`` 1-based inclusive ranges."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    width = table.num_columns - 1
    if not merged or n == 0:
        return table
    base = int(table["_row"][0].as_py())
    m = np.array(merged, dtype=np.int64)
    m[:, 0] = np.clip(m[:, 0], base, base + n - 1) - base  # to 0-based row indices
    m[:, 2] = np.clip(m[:, 2], base, base + n - 1) - base
    columns = {f"c{c}": table[f"c{c}"] for c in range(1, width + 1)}
    out = dict(columns)
    for c in range(1, width + 1):
        sel = m[(m[:, 1] <= c) & (m[:, 3] >= c) & (m[:, 1] <= width)]
        if not len(sel):
            continue
        col = columns[f"c{c}"]
        for source in np.unique(sel[:, 1]):
            part = sel[sel[:, 1] == source]
            lengths = part[:, 2] - part[:, 0] + 1
            starts = np.repeat(part[:, 0], lengths)
            offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            rows = starts + offsets
            src = np.arange(n)
            src[rows] = starts
            mask = np.zeros(n, dtype=bool)
            mask[rows] = True
            taken = pc.take(columns[f"c{source}"], pa.array(src))
            col = pc.if_else(pa.array(mask), taken, col)
        out[f"c{c}"] = col
    return pa.Table.from_arrays([table["_row"], *out.values()], names=["_row", *out.keys()])


def is_ditto(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(col)
    return pc.fill_null(pc.is_in(trimmed, value_set=pa.array(DITTO_MARKS)), False)


def fill_ditto(col: pa.ChunkedArray | pa.Array, *, blanks_too: bool) -> pa.ChunkedArray | pa.Array:
    """Ditto marks (and, with ``blanks_too``, empty cells) take the last non-empty value above.
    A ditto mark with nothing above it is kept as written, so validation reports it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ditto = is_ditto(col)
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(col), ""), True)
    null = pa.scalar(None, pa.string())
    cleared = pc.if_else(pc.or_(ditto, blank), null, col)
    filled = pc.fill_null_forward(cleared)
    target = pc.or_(ditto, blank) if blanks_too else ditto
    return pc.if_else(target, pc.coalesce(filled, col), col)
