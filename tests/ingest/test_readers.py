from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from hub.errors import IngestError
from hub.ingest import read_sheets
from hub.ingest.render import excel_general, render


def rows(path: Path, sheet: int = 0) -> list[dict]:
    return read_sheets(path)[sheet].table.to_pylist()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (123, "123"),
        (123.0, "123"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (4.10102199003071e17, "4.10102E+17"),
        (1e15, "1E+15"),
        (330727199001011234.0, "3.30727E+17"),
        (99999999999999.0, "99999999999999"),
        (True, "是"),
        (False, "否"),
        (dt.date(2020, 1, 2), "2020-01-02"),
        (dt.datetime(2020, 1, 2, 13, 5), "2020-01-02"),
        ("", None),
        (None, None),
        (" x ", " x "),
    ],
)
def test_render(value: object, text: str | None) -> None:
    assert render(value) == text


def test_excel_general_negative_exponent_style() -> None:
    assert excel_general(1.23456789e20) == "1.23457E+20"


def test_xlsx_rows_start_where_excel_shows_them(tmp: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "人口"
    ws["C3"] = "标题"
    ws.merge_cells("C3:F3")
    ws["C5"] = 4.10102199003071e17
    ws["D5"] = 123
    ws["E5"] = dt.date(1990, 1, 2)
    ws["F5"] = True
    ws["C6"] = "隐藏"
    ws.row_dimensions[6].hidden = True
    ws.column_dimensions["E"].hidden = True
    path = tmp / "a.xlsx"
    wb.save(path)
    (sheet,) = read_sheets(path)
    data = sheet.table.to_pylist()
    assert [r["_row"] for r in data] == [1, 2, 3, 4, 5, 6]
    assert data[2]["c3"] == "标题"
    assert (data[4]["c3"], data[4]["c4"], data[4]["c5"], data[4]["c6"]) == (
        "4.10102E+17",
        "123",
        "1990-01-02",
        "是",
    )
    assert sheet.merged == [(3, 3, 3, 6)]
    assert sheet.hidden_rows == {6}
    assert sheet.hidden_cols == {5}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings(tmp: Path, encoding: str) -> None:
    path = tmp / "x.csv"
    rare = "张三" if encoding == "gbk" else "䶮𠀀"  # outside GBK: only GB18030 and Unicode have them
    path.write_text(f"姓名,身份证号\n张三,330727199001011234\n{rare},2\n", encoding=encoding)
    data = rows(path)
    assert data[0] == {"_row": 1, "c1": "姓名", "c2": "身份证号"}
    assert data[1] == {"_row": 2, "c1": "张三", "c2": "330727199001011234"}
    assert data[2]["c1"] == rare


def test_gbk_only_text(tmp: Path) -> None:
    path = tmp / "g.csv"
    path.write_bytes("姓名,村\n张三,城关村\n".encode("gbk"))
    assert rows(path)[1] == {"_row": 2, "c1": "张三", "c2": "城关村"}


@pytest.mark.parametrize(("suffix", "delim"), [(".tsv", "\t"), (".csv", "\t"), (".txt", ";"), (".csv", ",")])
def test_delimiters(tmp: Path, suffix: str, delim: str) -> None:
    path = tmp / f"d{suffix}"
    path.write_text(
        delim.join(["姓名", "性别", "民族"]) + "\n" + delim.join(["张三", "男", "汉族"]) + "\n",
        encoding="utf-8",
    )
    assert rows(path)[1] == {"_row": 2, "c1": "张三", "c2": "男", "c3": "汉族"}


@pytest.mark.parametrize("title", [True, False])
def test_csv_quoted_line_breaks_keep_editor_line_numbers(tmp: Path, title: bool) -> None:
    lines = (["某镇人口表", ""] if title else []) + [
        "姓名,住址,电话",
        '张三,"城关村\n3组\n5号",1',
        "李四,城关村,2",
        '王五,"a\r\nb",3',
        "赵六,x,4",
    ]
    path = tmp / "q.csv"
    path.write_bytes("\r\n".join(lines).encode("utf-8") + b"\r\n")
    data = rows(path)
    offset = 2 if title else 0
    by_name = {r["c1"]: r["_row"] for r in data}
    assert by_name["张三"] == 2 + offset
    assert by_name["李四"] == 5 + offset
    assert by_name["王五"] == 6 + offset
    assert by_name["赵六"] == 8 + offset


def test_ragged_csv_pads(tmp: Path) -> None:
    path = tmp / "r.csv"
    path.write_text("标题\n姓名,性别,民族\n张三,男\n", encoding="utf-8")
    data = rows(path)
    assert data[0] == {"_row": 1, "c1": "标题", "c2": None, "c3": None}
    assert data[2] == {"_row": 3, "c1": "张三", "c2": "男", "c3": None}


# -- bad files ---------------------------------------------------------------------------------


def expect_error(path: Path, fragment: str) -> IngestError:
    with pytest.raises(IngestError) as info:
        read_sheets(path)
    assert info.value.file == path.name
    assert fragment in str(info.value)
    return info.value


def test_empty_file(tmp: Path) -> None:
    for name in ("e.xlsx", "e.csv"):
        (tmp / name).write_bytes(b"")
        expect_error(tmp / name, "空")


def test_word_document_is_refused_with_the_accepted_formats(tmp: Path) -> None:
    """The format is read from the content: a Word document (zip with word/document.xml) is refused
    whatever its name, and the message lists what can be uploaded."""
    for name in ("a.docx", "a.xlsx"):
        with zipfile.ZipFile(tmp / name, "w") as zf:
            zf.writestr("word/document.xml", "<w:document/>")
        error = expect_error(tmp / name, "Word 文档")
        assert ".xlsx" in str(error) and ".csv" in str(error) and ".ods" in str(error)


def test_png_renamed(tmp: Path) -> None:
    (tmp / "p.xlsx").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    expect_error(tmp / "p.xlsx", "图片")
    (tmp / "p.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    expect_error(tmp / "p.csv", "不是文本")


def test_html_disguised_as_xls(tmp: Path) -> None:
    (tmp / "h.xls").write_text("<html><table><tr><td>姓名</td></tr></table></html>", encoding="utf-8")
    expect_error(tmp / "h.xls", "网页")


def test_truncated_workbook(tmp: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "姓名"
    wb.save(tmp / "ok.xlsx")
    data = (tmp / "ok.xlsx").read_bytes()
    (tmp / "t.xlsx").write_bytes(data[: len(data) // 2])
    expect_error(tmp / "t.xlsx", "损坏")


def test_garbage_with_zip_magic(tmp: Path) -> None:
    (tmp / "g.xlsx").write_bytes(b"PK\x03\x04" + b"junk" * 100)
    expect_error(tmp / "g.xlsx", "损坏")


def test_oversized(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_MAX_UPLOAD_MB", "0.001")
    (tmp / "big.csv").write_text("姓名\n" + "张三\n" * 1000, encoding="utf-8")
    expect_error(tmp / "big.csv", "太大")


def _bomb(path: Path, megabytes: int) -> None:
    chunk = b"0" * (16 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            for _ in range(megabytes // 16):
                fh.write(chunk)


def test_ratio_bomb(tmp: Path) -> None:
    _bomb(tmp / "r.xlsx", 64)
    assert (tmp / "r.xlsx").stat().st_size < 1 << 20
    expect_error(tmp / "r.xlsx", "压缩炸弹")


@pytest.mark.slow
def test_real_gigabyte_bomb(tmp: Path) -> None:
    _bomb(tmp / "b.xlsx", 1136)
    expect_error(tmp / "b.xlsx", "压缩炸弹")


def test_declared_size_bomb_fast(tmp: Path) -> None:
    """A zip whose directory declares 1.1 GB (sizes patched; the check reads only the directory)."""
    path = tmp / "d.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * 1000)
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = (1_150_000_000).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    expect_error(path, "压缩炸弹")


@pytest.mark.parametrize(
    "text",
    [
        '青山镇实有人口台账\n填报单位：青山镇人民政府\n姓名,身份证号,备注\n张三,1,\n李四,2,"两行\n备注"\n王五,3,x\n',
        "标题\r\n\r\n姓名,身份证号\r\n张三,1\r\n李四,2\r\n",
        '"多行\n标题"\n姓名,身份证号,村\n甲,1,东村\n乙,2,西村\n',
    ],
)
def test_title_lines_take_the_fast_path_with_the_same_rows_and_line_numbers(text: str) -> None:
    from hub.ingest.textfile import _hybrid_parse, _slow_parse, parse_text

    hybrid = _hybrid_parse(text, ",")
    assert hybrid is not None  # a preamble above a rectangular body is not a reason to go slow
    assert hybrid.to_pylist() == _slow_parse(text, ",").to_pylist()
    rows = parse_text(text, ",")["_row"].to_pylist()
    lines = text.replace("\r\n", "\n").split("\n")
    names = parse_text(text, ",")["c1"].to_pylist()
    for row, name in zip(rows, names, strict=True):
        if name in ("张三", "李四", "王五", "甲", "乙"):
            assert lines[row - 1].startswith(name)  # the line a text editor shows
