"""The clerk's text summary and the steward's static HTML index."""

from __future__ import annotations

from hub.validate.report import MAX_LISTED, render_text_summary, render_validation_html


def _problem(row: int, code: str = "id-checksum", column: str | None = "身份证号") -> dict[str, object]:
    return {
        "sheet": "花名册",
        "row": row,
        "column": column,
        "value": "x",
        "code": code,
        "message": f"问题{row}",
    }


def test_counts_first_then_grouped_problems_then_annotated_path() -> None:
    errors = [_problem(r) for r in range(5, 30)] + [_problem(40, "required-missing", "姓名")]
    warnings = [_problem(50, "duplicate-row", None)]
    text = render_text_summary(
        [
            {
                "file": "东风村.xlsx",
                "township": "城关镇",
                "kind": "population",
                "rows": 100,
                "accepted": 74,
                "rejected": 26,
                "errors": errors,
                "warnings": warnings,
                "annotated": "/data/东风村.标注.xlsx",
            }
        ]
    )
    lines = text.splitlines()
    assert lines[0].startswith(
        "本次共上传 1 个文件，100 行数据：接收 74 行，退回 26 行；错误 26 处，提醒 1 处。"
    )
    assert "台账：实有人口台账" in text
    assert "[错误] id-checksum：25 处" in text and "[错误] required-missing：1 处" in text
    assert "[提醒] duplicate-row：1 处" in text
    listed = [ln for ln in lines if ln.startswith("      ")]
    assert len(listed) == MAX_LISTED
    assert listed[0] == "      花名册 第5行 “身份证号”列：问题5"
    assert f"另有 {27 - MAX_LISTED} 处问题未列出" in text
    assert text.index("问题分类") < text.index("问题明细") < text.index("/data/东风村.标注.xlsx")


def test_row_level_problem_and_clean_file() -> None:
    text = render_text_summary(
        [
            {
                "file": "a.csv",
                "township": None,
                "kind": "dibao",
                "rows": 2,
                "accepted": 2,
                "rejected": 0,
                "errors": [],
                "warnings": [_problem(3, "duplicate-row", None)],
                "annotated": None,
            },
            {
                "file": "b.xlsx",
                "township": "城关镇",
                "kind": "business",
                "rows": 1,
                "accepted": 1,
                "rejected": 0,
                "errors": [],
                "warnings": [],
                "annotated": None,
            },
        ]
    )
    assert "      花名册 第3行：问题3" in text
    assert "低保对象花名册" in text and "市场主体登记台账" in text
    assert "未发现问题。" in text and "未生成标注文件。" in text
    assert "本次共上传 2 个文件，3 行数据：接收 3 行，退回 0 行；错误 0 处，提醒 1 处。" in text


def test_html_index_escapes_and_marks_failures() -> None:
    page = render_validation_html(
        "population",
        False,
        {"evaluated_expectations": 2},
        [
            {
                "field": "id_number",
                "label": "公民身份号码",
                "rule": "id-checksum",
                "severity": "error",
                "expectation": "expect_x",
                "success": False,
                "element_count": 3,
                "unexpected_count": 1,
                "rows": [7],
            },
            {
                "field": "name",
                "label": "<b>姓名</b>",
                "rule": "required-missing",
                "severity": "error",
                "expectation": "expect_y",
                "success": True,
                "element_count": 3,
                "unexpected_count": 0,
                "rows": [],
            },
        ],
        ["gx/validations/x.html"],
    )
    assert "<tr class='fail'><td>公民身份号码（id_number）</td><td>id-checksum</td>" in page
    assert "&lt;b&gt;姓名&lt;/b&gt;" in page and "<b>姓名</b>" not in page
    assert "href='gx/validations/x.html'" in page and "存在未通过的规则" in page
