"""Writer comparison for the xlsx renderer: 50,000 rows x 12 columns with a merged title, a text
format on ID columns and a date format. Run: ``.venv/bin/python tests/export/writer_bench.py``.
Not collected by pytest (no ``test_`` prefix); the figures are quoted in docs/mappings.md."""

from __future__ import annotations

import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

ROWS, COLS = 50_000, 12


def _rows() -> list[list[object]]:
    base = dt.date(1950, 1, 1)
    return [
        [
            i,
            f"41010219{i % 90 + 10:02d}0101{i % 9000 + 1000:04d}",
            "张三",
            "男",
            base + dt.timedelta(days=i % 20000),
        ]
        + [f"村{i % 30}", "138" + f"{i:08d}", 12.5 * i, i % 7, "备注", "肢体二级", "xx"]
        for i in range(ROWS)
    ]


def bench_xlsxwriter(path: Path, rows: list[list[object]], constant_memory: bool = True) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    ws = wb.add_worksheet("名单")
    text = wb.add_format({"num_format": "@", "font_name": "宋体"})
    date = wb.add_format({"num_format": "yyyy-mm-dd", "font_name": "宋体"})
    ws.merge_range(0, 0, 0, COLS - 1, "标题", text)
    for r, row in enumerate(rows, start=2):
        for c, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), date)
            elif isinstance(v, str):
                ws.write_string(r, c, v, text)
            else:
                ws.write_number(r, c, float(v))  # type: ignore[arg-type]
    wb.close()


def bench_openpyxl(path: Path, rows: list[list[object]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    font = Font(name="宋体")
    ws.merged_cells.ranges.add("A1:L1") if hasattr(ws, "merged_cells") else None
    ws.append(["标题"])
    ws.append([])
    for row in rows:
        out = []
        for v in row:
            cell = WriteOnlyCell(ws, value=v)
            cell.font = font
            cell.number_format = (
                "yyyy-mm-dd" if isinstance(v, dt.date) else ("@" if isinstance(v, str) else "General")
            )
            out.append(cell)
        ws.append(out)
    wb.save(str(path))


def bench_rustpy(path: Path, rows: list[list[object]]) -> None:
    import rustpy_xlsxwriter  # type: ignore[import-not-found]

    rustpy_xlsxwriter.write_worksheet(
        [dict(zip([f"c{i}" for i in range(COLS)], r, strict=True)) for r in rows], str(path)
    )


def hub_table(rows: list[list[object]]) -> object:
    """The rows as a DuckDB table, where the hub's rows already are (not timed)."""
    import pyarrow as pa

    from hub.store.db import Database

    db = Database(None, ddl=False)
    cols = list(zip(*rows, strict=True))
    db.register("src", pa.table({f"c{i}": list(col) for i, col in enumerate(cols)}))
    db.execute("CREATE TABLE t AS SELECT row_number() OVER () AS _row, * FROM src")
    return db


def bench_hub(path: Path, db: object) -> None:
    """As used: XlsxWriter writes the frame, the rows are rendered in DuckDB and spliced in."""
    import xlsxwriter

    from hub import sheetxml as sx

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("名单")
    text = wb.add_format({"num_format": "@", "font_name": "宋体"})
    date = wb.add_format({"num_format": "yyyy-mm-dd", "font_name": "宋体"})
    general = wb.add_format({"font_name": "宋体"})
    ws.merge_range(0, 0, 0, COLS - 1, "标题", text)
    styles = {"s": sx.xf_index(text), "d": sx.xf_index(date), "n": sx.xf_index(general)}
    kinds = ["n", "s", "s", "s", "d", "s", "s", "n", "n", "s", "s", "s"]
    r = "(_row + 2)"
    cells = []
    for i, kind in enumerate(kinds):
        letter, col = sx.column_letter(i), f"c{i}"
        if kind == "s":
            cells.append(sx.string_cell(letter, r, str(styles["s"]), col))
        elif kind == "d":
            cells.append(
                sx.number_cell(letter, r, str(styles["d"]), f"CAST({col} - DATE '1899-12-30' AS VARCHAR)")
            )
        else:
            cells.append(sx.number_cell(letter, r, str(styles["n"]), f"CAST({col} AS VARCHAR)"))
    wb.close()
    chunks = (
        text
        for _, text in db.rows(  # type: ignore[attr-defined]
            f"SELECT _row // 2000 AS k, string_agg({sx.row_sql(r, cells)}, '' ORDER BY _row) FROM t GROUP BY k ORDER BY k"
        )
    )
    sx.splice(path, [sx.Splice("xl/worksheets/sheet1.xml", 3, ROWS + 2, COLS - 1, chunks)])


def main() -> None:
    rows = _rows()
    table = hub_table(rows)
    writers = {
        "hub: XlsxWriter frame + rows rendered in DuckDB (as used)": lambda p, r: bench_hub(p, table),
        "xlsxwriter(constant_memory)": bench_xlsxwriter,
        "xlsxwriter(default)": lambda p, r: bench_xlsxwriter(p, r, constant_memory=False),
        "openpyxl(write_only)": bench_openpyxl,
    }
    if "--rustpy" in sys.argv:
        writers["rustpy-xlsxwriter"] = bench_rustpy
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in writers.items():
            path = Path(tmp) / f"{name}.xlsx"
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            start = time.perf_counter()
            try:
                fn(path, rows)
            except Exception as exc:  # report and go on: a writer that cannot run is a finding too
                print(f"{name}: failed: {exc!r}")
                continue
            secs = time.perf_counter() - start
            grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
            print(f"{name}: {secs:.2f} s, {path.stat().st_size / 1e6:.2f} MB, peak RSS +{grew:.0f} MB")


if __name__ == "__main__":
    main()
