"""The annotated workbook: the clerk's own file kept, problem cells coloured and commented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.validate.annotate import AUTHOR, SUMMARY_HEADER, SUMMARY_SHEET, annotate_workbook


def _finding(
    sheet: str, row: int, column: str | None, code: str, severity: str, message: str, value: Any = None
) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        "column": column,
        "value": value,
        "code": code,
        "severity": severity,
        "message": message,
    }


def _fill(cell: Any) -> str:
    return str(cell.fill.start_color.rgb)[-6:]


def _clerk_workbook(path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    ws["A1"] = "东风村实有人口"
    ws.merge_cells("A1:D1")
    ws.append(["序号", "姓名", "身份证号", "年龄"])
    ws.append([1, "张三", "110105194912310021", 76])
    ws.append([2, "李四", "4.10102E+17", "=D3+1"])
    ws["B3"].font = Font(bold=True, color="FF0000")
    ws["C4"].comment = Comment("村里原有批注", "村文书")
    other = wb.create_sheet("说明")
    other["A1"] = "填表说明"
    wb.save(path)


def test_xlsx_keeps_everything_and_marks_cells(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    src = tmp_path / "东风村.xlsx"
    _clerk_workbook(src)
    before = src.read_bytes()
    findings = [
        _finding("花名册", 3, "身份证号", "id-checksum", "error", "校验位不正确", "110105194912310021"),
        _finding(
            "花名册", 4, "身份证号", "id-precision-lost", "error", "已被Excel当作数字保存", "4.10102E+17"
        ),
        _finding("花名册", 3, "身份证号", "age-implausible", "warning", "年龄超过110岁"),
        _finding("花名册", 4, "姓名", "name-note-removed", "warning", "含有备注文字", '=HYPERLINK("x")'),
        _finding("花名册", 4, None, "duplicate-row", "warning", "本行与第3行重复"),
    ]
    columns = {("花名册", "序号"): 1, ("花名册", "姓名"): 2, ("花名册", "身份证号"): 3}
    out = annotate_workbook(src, findings, columns, tmp_path / "out" / "东风村.标注.xlsx")
    assert out == tmp_path / "out" / "东风村.标注.xlsx" and src.read_bytes() == before

    wb = load_workbook(out)
    ws = wb["花名册"]
    assert wb.sheetnames == ["花名册", "说明", SUMMARY_SHEET]
    assert [str(r) for r in ws.merged_cells.ranges] == ["A1:D1"]
    assert ws["D4"].value == "=D3+1" and ws["B3"].font.bold and ws["C3"].value == "110105194912310021"
    assert _fill(ws["C3"]) == "FFC7CE"  # error wins over the warning on the same cell
    assert ws["C3"].comment.author == AUTHOR
    assert "校验位不正确" in ws["C3"].comment.text and "年龄超过110岁" in ws["C3"].comment.text
    assert "村里原有批注" in ws["C4"].comment.text and "已被Excel当作数字保存" in ws["C4"].comment.text
    assert _fill(ws["B4"]) == "FFEB9C" and _fill(ws["A4"]) == "FFEB9C"  # row-level → first cell
    assert "本行与第3行重复" in ws["A4"].comment.text
    assert ws["B2"].comment is None and _fill(ws["B2"]) != "FFC7CE"
    assert wb["说明"]["A1"].value == "填表说明"

    summary = [list(r) for r in wb[SUMMARY_SHEET].iter_rows(values_only=True)]
    assert tuple(summary[0]) == SUMMARY_HEADER and len(summary) == 1 + len(findings)
    assert summary[1] == ["花名册", 3, "身份证号", "110105194912310021", "校验位不正确", "错误"]
    assert summary[4][3] == '=HYPERLINK("x")'  # a clerk's value is never turned into a formula
    assert wb[SUMMARY_SHEET]["D5"].data_type == "s"
    assert summary[5] == ["花名册", 4, None, None, "本行与第3行重复", "提醒"]


def test_csv_gb18030_becomes_text_xlsx_with_same_row_numbers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    src = tmp_path / "西村.csv"
    text = '西村低保花名册\n姓名,身份证号,备注\n王五,0110105194912310021,"第一行\n第二行"\n赵六,=1+2,\n'
    src.write_bytes(text.encode("gb18030"))
    findings = [
        _finding("西村", 3, "身份证号", "id-format", "error", "不是18位公民身份号码"),
        _finding("西村", 5, "身份证号", "id-format", "error", "不是18位公民身份号码"),
    ]
    out = annotate_workbook(src, findings, {("西村", "身份证号"): 2}, tmp_path / "西村.标注.csv")
    assert out.suffix == ".xlsx" and out.exists()
    ws = load_workbook(out)["西村"]
    assert ws["A1"].value == "西村低保花名册" and ws["A2"].value == "姓名"
    assert ws["B3"].value == "0110105194912310021" and ws["B3"].data_type == "s"
    assert ws["C3"].value == "第一行\n第二行"
    assert ws["A5"].value == "赵六" and ws["B5"].value == "=1+2" and ws["B5"].data_type == "s"  # line 5
    assert _fill(ws["B3"]) == "FFC7CE" and _fill(ws["B5"]) == "FFC7CE"
    assert "不是18位" in ws["B5"].comment.text


def test_xls_goes_through_the_ingest_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Legacy .xls cannot be written back: the raw sheets the ingest reader returns are copied."""
    import pyarrow as pa
    from openpyxl import load_workbook

    from hub.ingest import readers
    from hub.ingest.types import RawSheet

    seen: list[Path] = []

    def fake_read_sheets(path: Path) -> list[RawSheet]:
        seen.append(path)
        table = pa.table({"_row": [2, 3], "c1": ["姓名", "张三"], "c2": ["出生日期", "19491231"]})
        return [RawSheet(name="Sheet1", table=table)]

    monkeypatch.setattr(readers, "read_sheets", fake_read_sheets)
    src = tmp_path / "old.xls"
    src.write_bytes(b"\xd0\xcf\x11\xe0")
    out = annotate_workbook(
        src,
        [_finding("Sheet1", 3, "出生日期", "date-invalid", "error", "不是有效日期")],
        {("Sheet1", "出生日期"): 2},
        tmp_path / "old.标注.xls",
    )
    ws = load_workbook(out)["Sheet1"]
    assert seen == [src] and out.suffix == ".xlsx"
    assert ws["A1"].value is None and ws["A2"].value == "姓名" and ws["B3"].value == "19491231"
    assert _fill(ws["B3"]) == "FFC7CE" and ws["B3"].comment.text == "[错误] 不是有效日期"


@pytest.mark.slow
def test_a_50000_row_workbook_keeps_every_row_and_marks_1000_cells(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The full-mode openpyxl path at ledger size (its time is measured in benchmarks/bench_ingest).
    The sheet's XML is 18 MB, over the default limit of that path (above it the copy is streamed and
    keeps the head rows and the rows with a problem): the limit is raised here."""
    import xlsxwriter
    from openpyxl import load_workbook

    monkeypatch.setenv("HUB_ANNOTATE_OPEN_MB", "64")

    src = tmp_path / "big.xlsx"
    book = xlsxwriter.Workbook(str(src), {"constant_memory": True})
    sheet = book.add_worksheet("花名册")
    sheet.write_row(0, 0, ["姓名", "身份证号", "性别", "出生日期", "住址", "电话"])
    for r in range(1, 50_001):
        sheet.write_row(
            r, 0, [f"人{r}", f"41010219900307{r % 10000:04d}", "男", "1990-03-07", "东风村", "13800138000"]
        )
    book.close()
    findings = [
        _finding("花名册", 2 + i * 50, "身份证号", "id-checksum", "error", "校验位不正确")
        for i in range(1000)
    ]
    out = annotate_workbook(src, findings, {("花名册", "身份证号"): 2}, tmp_path / "big.标注.xlsx")
    wb = load_workbook(out)
    ws = wb["花名册"]
    assert ws.max_row == 50_001 and ws["A50001"].value == "人50000"
    marked = [r for r in range(2, 50_002) if ws.cell(row=r, column=2).comment is not None]
    assert marked == [2 + i * 50 for i in range(1000)]
    assert _fill(ws["B52"]) == "FFC7CE" and _fill(ws["B53"]) != "FFC7CE"
    assert wb[SUMMARY_SHEET].max_row == 1001


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return {
        ws.title: [
            (c.coordinate, c.value, c.data_type, _fill(c), c.comment.text if c.comment else None)
            for row in ws.iter_rows()
            for c in row
            if c.value is not None or c.comment is not None
        ]
        for ws in wb.worksheets
    }


def test_a_batch_written_by_worker_processes_equals_one_written_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batch: the pool (forced by a zero size threshold) gives the same copies, in job order, and a
    job's error comes back as the hub's error, not a pool traceback."""
    from hub.errors import ValidationEngineError
    from hub.validate import annotate
    from hub.validate.annotate import AnnotateJob, Batch

    xlsx = tmp_path / "东风村.xlsx"
    _clerk_workbook(xlsx)
    csv = tmp_path / "西村.csv"
    csv.write_text("西村台账\n姓名,身份证号\n王五,123\n赵六,=1+2\n", encoding="utf-8")
    jobs = [
        AnnotateJob(
            xlsx,
            [_finding("花名册", 3, "身份证号", "id-checksum", "error", "校验位不正确")],
            {("花名册", "身份证号"): 3},
            tmp_path / "here" / "东风村_批注.xlsx",
        ),
        AnnotateJob(
            csv,
            [_finding("西村", 4, "身份证号", "id-format", "warning", "请核对")],
            {("西村", "身份证号"): 2},
            tmp_path / "here" / "西村_批注.xlsx",
        ),
    ]
    here = Batch(jobs).result()
    monkeypatch.setattr(annotate, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(annotate.os, "cpu_count", lambda: 2)
    pooled = [AnnotateJob(j.source, j.findings, j.columns, tmp_path / "pool" / j.out.name) for j in jobs]
    ticks: list[tuple[str, int, int]] = []
    there = Batch(pooled).result(lambda label, done, total: ticks.append((label, done, total)))
    assert [p.parent.name for p in there] == ["pool", "pool"]
    assert [p.name for p in there] == [p.name for p in here]
    for a, b in zip(here, there, strict=True):
        assert _cells(a) == _cells(b)
    assert _cells(there[1])["西村"][-1][1:] == ("=1+2", "s", "FFEB9C", "[提醒] 请核对")
    assert ticks[-1] == ("", 2, 2)
    (tmp_path / "blocked").write_text("a file where a folder should be")
    broken = [AnnotateJob(csv, jobs[1].findings, jobs[1].columns, tmp_path / "blocked" / "x.xlsx")]
    with pytest.raises(ValidationEngineError, match="无法写出标注文件"):
        Batch([pooled[0], *broken]).result()


def test_a_large_csv_copy_keeps_the_header_and_the_problem_rows_at_their_line_numbers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from hub.validate.annotate import FULL_COPY_ROWS, HEAD_ROWS

    src = tmp_path / "大村.csv"
    lines = ["大村人口台账", "姓名,身份证号"] + [f"人{i},33{i:016d}" for i in range(FULL_COPY_ROWS + 500)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    last = len(lines)
    findings = [
        _finding("大村", 10, "身份证号", "id-checksum", "error", "校验位不正确"),
        _finding("大村", last, "身份证号", "id-checksum", "error", "校验位不正确"),
    ]
    out = annotate_workbook(src, findings, {("大村", "身份证号"): 2}, tmp_path / "大村.标注.xlsx")
    wb = load_workbook(out)
    ws = wb["大村"]
    kept = sorted(r[0].row for r in ws.iter_rows(min_col=1, max_col=1) if r[0].value is not None)
    assert kept == [*range(1, HEAD_ROWS + 1), 10, last]
    assert ws.cell(row=last, column=1).value == f"人{last - 3}"  # line N of the CSV is row N of the copy
    assert "校验位" in ws.cell(row=last, column=2).comment.text
    assert wb["问题汇总"].max_row == 3


def test_a_copy_marks_at_most_the_first_rows_with_a_problem_and_says_how_many_more(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a file of 200,000 repeated rows has a problem on every row; its copy marks the first
    ``HUB_ANNOTATE_MAX_ROWS`` (20,000) of them and its 问题汇总 says how many are left out."""
    from openpyxl import load_workbook

    monkeypatch.setenv("HUB_ANNOTATE_MAX_ROWS", "3")
    src = tmp_path / "重复.csv"
    src.write_text("姓名,身份证号\n" + "".join("张三,3301\n" for _ in range(6)), encoding="utf-8")
    findings = [_finding("重复", r, None, "duplicate-row", "warning", "与第2行完全相同") for r in range(3, 8)]
    findings.append(_finding("重复", 7, "身份证号", "id-format", "error", "不是18位公民身份号码"))
    out = annotate_workbook(src, findings, {("重复", "身份证号"): 2}, tmp_path / "重复.标注.xlsx")
    wb = load_workbook(out)
    ws = wb["重复"]
    marked = sorted(c.row for row in ws.iter_rows() for c in row if c.comment is not None)
    assert marked == [3, 4, 5]  # the first three rows with a problem; rows 6 and 7 not marked
    summary = [[c.value for c in row] for row in wb[SUMMARY_SHEET].iter_rows(min_row=2)]
    assert [r[1] for r in summary[:3]] == [3, 4, 5] and len(summary) == 4
    assert "有问题的行共 5 行，只标注了前 3 行；其余 2 行的 3 个问题未逐一标注" in summary[-1][4]


def test_a_single_large_copy_is_written_by_a_worker_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 11: a lone large copy (a 200,000-row file's) is written in a worker process, whose memory
    goes back to the system when it is done, not in the caller's (the web server's); the same copy."""
    from hub.validate import annotate
    from hub.validate.annotate import AnnotateJob, Batch

    csv = tmp_path / "西村.csv"
    csv.write_text("西村台账\n姓名,身份证号\n王五,123\n", encoding="utf-8")
    job = AnnotateJob(
        csv,
        [_finding("西村", 3, "身份证号", "id-format", "error", "不是18位公民身份号码")],
        {("西村", "身份证号"): 2},
        tmp_path / "here" / "西村_批注.xlsx",
    )
    (here,) = Batch([job]).result()
    monkeypatch.setattr(annotate, "ALONE_BYTES", 0)
    batch = Batch([AnnotateJob(job.source, job.findings, job.columns, tmp_path / "pool" / job.out.name)])
    assert batch.pool is not None  # started at once, in a worker
    (there,) = batch.result()
    assert batch.pool is None and there.parent.name == "pool"
    assert _cells(here) == _cells(there)
