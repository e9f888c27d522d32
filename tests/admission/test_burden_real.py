"""The burden ledger on ledgers the generator did not write: two township files written here by hand
in the layouts of real system exports (tests/data/real_headers/catalogue.csv: ``mz_gaoling_jintie``,
the 高龄津贴 system's 津贴对象.xlsx with its header on row 2; ``ga_syrk_plcjb``, 公安's 实有人口批量采集表
import template), run through `hub run`, then `hub burden` and the steward's 减负台账 page."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from hub.paths import REPO_ROOT
from hub.standards.ids import id_check_char
from tests.conftest import SAMPLE, Cli
from tests.serve.conftest import csrf_of

CATALOGUE = REPO_ROOT / "tests" / "data" / "real_headers" / "catalogue.csv"
QINGSHAN = "331099101"


def _pid(base: str) -> str:
    return base + id_check_char(base)


GAOLING = [  # 老人姓名, 身份证号码, 老人联系方式, 户籍地址, 发放金额, 银行卡号, 人员类型
    [
        "钱桂英",
        _pid("33109919400312002"),
        "13905761111",
        "青山镇上塘村3号",
        200,
        "6228480000000000011",
        "高龄",
    ],
    ["孙德福", _pid("33109919431107001"), None, "青山镇上塘村8号", 200, "6228480000000000029", "高龄"],
    ["李秀兰", _pid("33109919380925002"), "13905762222", "青山镇下溪村1号", 300, None, "高龄"],
]
SYRK = [  # 姓名*, 身份证号码*, 电话号码*, 居住时间*, 居住事由*, 居住处所*, 与户主关系*, 拟居住期限*, 备注
    [
        "周建军",
        _pid("33109919850214001"),
        "15800001111",
        "2020-03",
        "务工",
        "青山镇上塘村12号",
        "户主",
        "长期",
        None,
    ],
    [
        "吴丽",
        _pid("33109919870630002"),
        "15800002222",
        "2020-03",
        "务工",
        "青山镇上塘村12号",
        "配偶",
        "长期",
        None,
    ],
    [
        "钱桂英",
        _pid("33109919400312002"),
        "13905761111",
        "1960-01",
        "家庭",
        "青山镇上塘村3号",
        "户主",
        "长期",
        "高龄",
    ],
]


def _headers(source: str) -> list[tuple[str, str]]:
    with CATALOGUE.open(encoding="utf-8") as fh:
        return [(r["header"], r["field"]) for r in csv.DictReader(fh) if r["source_id"] == source]


def _write(path: Path, title: str, heads: list[str], rows: list[list[object]]) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([title])
    ws.append(heads)
    for r in rows:
        ws.append(r)
    wb.save(path)


def _typed(heads: list[tuple[str, str]], rows: list[list[object]]) -> int:
    """The cells a clerk typed in the columns that hold a field (the catalogue's, not the hub's, say)."""
    return sum(
        1 for r in rows for (_, f), v in zip(heads, r, strict=True) if f != "-" and v not in (None, "")
    )


@pytest.mark.slow  # a whole `hub run` (every report exported): ~15 s quiet, ~55 s on a loaded machine
def test_the_burden_ledger_counts_hand_written_real_layouts(hub_home: Path, tmp_path: Path) -> None:
    gaoling = [h for h in _headers("mz_gaoling_jintie") if h[0] not in ("原始类型",)]
    syrk = _headers("ga_syrk_plcjb")
    assert [h for h, _ in gaoling] == [
        "老人姓名",
        "身份证号码",
        "老人联系方式",
        "户籍地址",
        "发放金额",
        "银行卡号",
        "人员类型",
    ]
    assert len(syrk) == 9
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE / "divisions.csv", inbox / "divisions.csv")
    _write(inbox / "青山镇_津贴对象.xlsx", "青山镇高龄津贴对象", [h for h, _ in gaoling], GAOLING)
    _write(inbox / "青山镇_实有人口批量采集表.xlsx", "实有人口批量采集表", [h for h, _ in syrk], SYRK)
    cli = Cli()
    ran, code = cli.json("run", inbox, "--out", tmp_path / "out", "--date", "2026-11-30")
    assert code == 0, ran
    assert all(f["status"] == "ingested" and f["township"] == QINGSHAN for f in ran["file_reports"]), ran
    written = [r for r in ran["reports"] if r.get("written") and r.get("township") == QINGSHAN]
    assert written

    ledger, code = cli.json("burden")
    assert code == 0
    row = next(r for r in ledger["rows"] if r["township_code"] == QINGSHAN)
    assert row["files"] == 2
    assert row["cells_typed"] == _typed(gaoling, GAOLING) + _typed(syrk, SYRK)
    assert row["cells_delivered"] == sum(r["cells"] for r in written) > 0
    assert row["cells_from_model"] == sum(r["cells_from_model"] for r in written)
    assert 0 < row["reuse_rate"] <= 1 and row["reports_served"] >= 1
    assert "青山镇" in cli("burden").stdout

    from hub.facade import Hub
    from hub.serve.accounts import add_user
    from hub.serve.app import create_app

    hub = Hub(hub_home)
    add_user(hub.db, "steward", "steward", password="correct-horse-1")
    hub.close()
    app = create_app(hub_home)
    try:
        web = TestClient(app)
        token = csrf_of(web.get("/login").text)
        web.post("/login", data={"csrf_token": token, "username": "steward", "password": "correct-horse-1"})
        html = web.get("/steward/burden").text
        assert "青山镇" in html and str(row["cells_typed"]) in html and str(row["cells_delivered"]) in html
    finally:
        app.state.hub_state.jobs.shutdown()
        app.state.hub_state.hub.close()
