"""Hostile and broken uploads through `hub ingest`, as a clerk (or an attacker) would send them.

Every payload ends with exit code 0 or 1 (never 70, never a traceback) and the Chinese message a clerk
can act on. The small payloads run in `make test`; the big ones (generated into tmp_path) are
``slow`` and measure the peak memory of a child process against the limits (docs/limits.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.conftest import ROOT, SAMPLE, Cli
from tests.ingest import hostile_payloads as hp

# payload → (status, what the clerk reads: a fragment of the message, or a warning code)
EXPECTED: dict[str, tuple[str, str]] = {
    "stray_far": ("ingested", "stray-cell-ignored"),
    "stray_mid": ("ingested", "stray-cell-ignored"),
    "stray_below": ("ingested", "stray-cell-ignored"),
    "wide_sheet": ("refused", "列数超过上限"),
    "huge_cell": ("refused", "单元格太长"),
    "formulas_xlsx": ("ingested", ""),
    "formulas_csv": ("ingested", ""),
    "live_formula": ("ingested", ""),
    "deep_merges": ("ingested", ""),
    "billion_laughs": ("refused", "DTD/实体声明"),
    "external_entity": ("refused", "DTD/实体声明"),
    "deep_nesting": ("ingested", ""),
    "huge_sst_count": ("refused", "共享字符串表声明了"),
    "zip_ratio_bomb": ("refused", "压缩炸弹"),
    "unbalanced_quote": ("ingested", "csv-quote-unbalanced"),
    "xlsx_named_csv": ("ingested", ""),
    "csv_named_xlsx": ("ingested", ""),
    "csv_named_xls_gbk": ("ingested", ""),
    "zero_bytes": ("refused", "文件是空的"),
    "truncated_xlsx": ("refused", "损坏或不完整"),
    "png_named_xlsx": ("refused", "图片"),
    "unknown_binary": ("refused", "可导入的格式"),
    "word_document": ("refused", "Word 文档"),
    "empty_sheet_xlsx": ("refused", "空工作表"),
}


# its module fixtures are built once: every test of the file on one xdist worker (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("ingest_hostile")


@pytest.fixture(scope="module")  # module: it sets HUB_HOME and the working directory while it lives
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cli, Path]]:
    base = tmp_path_factory.mktemp("hostile")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HUB_HOME", str(base / "hub-data"))
        mp.chdir(base)
        cli = Cli()
        result = cli("divisions", "load", SAMPLE / "divisions.csv")
        assert result.exit_code == 0, result.output
        yield cli, base


def ingest(cli: Cli, path: Path, *extra: str) -> tuple[dict[str, Any], int]:
    result = cli("ingest", path, "--township", hp.TOWNSHIP, "--json", "--no-link", *extra)
    assert result.exit_code in (0, 1), result.output  # 70 is "the hub could not": never for bad input
    assert "Traceback" not in result.output
    (report,) = json.loads(result.stdout)
    return report, result.exit_code


# in `make test`: every refusal (cheap) and the ingested payloads that matter most; the rest of the
# ingested ones (each ~2 s of validation) run in the slow test through separate processes
SLOW_ONLY = {
    "deep_nesting",
    "csv_named_xls_gbk",
    "live_formula",
    "formulas_csv",
    "stray_below",
    "deep_merges",
}
QUICK = sorted(set(EXPECTED) - SLOW_ONLY)


@pytest.fixture(scope="module")
def reports(home: tuple[Cli, Path]) -> dict[str, tuple[dict[str, Any], Path]]:
    """Every fast payload through one `hub ingest` call (one report per file, in order)."""
    cli, base = home
    paths = {}
    for name in QUICK:
        build = hp.FAST[name]
        folder = base / name
        folder.mkdir()
        paths[name] = build(folder)
    result = cli("ingest", *paths.values(), "--township", hp.TOWNSHIP, "--json", "--no-link", "--no-annotate")
    assert result.exit_code == 1, result.output  # some are refused
    assert "Traceback" not in result.output
    got = json.loads(result.stdout)
    assert [Path(r["file"]).name for r in got] == [p.name for p in paths.values()]
    return {name: (report, paths[name]) for name, report in zip(paths, got, strict=True)}


def test_every_payload_is_named() -> None:
    assert set(EXPECTED) == set(hp.FAST)


@pytest.mark.parametrize("payload", QUICK)
def test_hostile_upload_is_read_or_refused_with_a_message(
    reports: dict[str, tuple[dict[str, Any], Path]], payload: str
) -> None:
    report, path = reports[payload]
    status, expected = EXPECTED[payload]
    assert report["status"] == status, report
    if status == "refused":
        assert expected in report["message"], report["message"]
        assert path.name in report["message"]  # which file
    else:
        assert report["rows"] > 0
        codes = {w["code"] for w in report["warnings"]}
        assert not expected or expected in codes, codes


def test_stray_far_cell_is_named_and_the_ledger_goes_in(
    home: tuple[Cli, Path], reports: dict[str, tuple[dict[str, Any], Path]]
) -> None:
    report, _ = reports["stray_far"]
    assert (report["status"], report["rows"], report["accepted"]) == ("ingested", 20, 20)
    (warning,) = [w for w in report["warnings"] if w["code"] == "stray-cell-ignored"]
    assert "XFD1048576" in warning["message"] and warning["row"] == 1048576
    # the text summary a clerk reads names it too (another file: the same content is "unchanged")
    cli, base = home
    rows = [*hp.rows_xml(hp.ledger_rows(12)), f'<row r="5000">{hp.cell("XFD5000", "x")}</row>']
    path = hp.write_xlsx(base / "stray_text.xlsx", rows)
    text = cli("ingest", path, "--township", hp.TOWNSHIP, "--no-link", "--no-annotate")
    assert text.exit_code == 0 and "XFD5000" in text.output and "已忽略" in text.output


def test_unbalanced_quote_is_a_finding_at_its_line_and_the_rows_below_are_read(
    home: tuple[Cli, Path], reports: dict[str, tuple[dict[str, Any], Path]]
) -> None:
    report, path = reports["unbalanced_quote"]
    assert report["rows"] == 20  # not 4: nothing swallowed
    (warning,) = [w for w in report["warnings"] if w["code"] == "csv-quote-unbalanced"]
    assert warning["row"] == 6 and "第6行" in warning["message"] and "引号" in warning["message"]
    # the annotated copy marks that row for the clerk (a second file, one row fewer)
    cli, base = home
    lines = path.read_text(encoding="utf-8").splitlines()[:-1]
    again = hp.write_csv(base / "quote_again.csv", lines)
    report, _ = ingest(cli, again, "--annotate")
    assert report["rows"] == 19
    wb = openpyxl.load_workbook(report["annotated"])
    summary = wb["问题汇总"]
    assert any("第6行的英文双引号不成对" in str(c.value) for row in summary.iter_rows() for c in row)


def test_formula_payloads_are_read_as_text() -> None:
    """Text that looks like a formula is kept as the text the clerk typed (the output side escapes it:
    hub/safecell.py); a real formula cell without a cached value reads as empty, never evaluated."""
    from hub.ingest import read_sheets

    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"hub-formulas-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    for payload in (hp.formulas_xlsx, hp.formulas_csv):
        (sheet,) = read_sheets(payload(tmp))
        remarks = sheet.table["c9"].to_pylist()[1:]
        assert remarks == hp.FORMULAS
    (sheet,) = read_sheets(hp.live_formula(tmp))
    assert sheet.table["c9"].to_pylist()[-1] is None


def test_row_limit_from_the_environment(home: tuple[Cli, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cli, base = home
    folder = base / "rows"
    folder.mkdir(exist_ok=True)
    monkeypatch.setenv("HUB_MAX_ROWS", "100")
    for path in (
        hp.rows_over_limit(folder, 150),
        hp.write_csv(folder / "r.csv", (",".join(r) for r in hp.ledger_rows(150))),
    ):
        report, code = ingest(cli, path)
        assert (report["status"], code) == ("refused", 1)
        assert "行数超过上限" in report["message"] and "请把文件拆成每份不超过 100 行" in report["message"]


def test_forged_xls_dimensions_are_refused_before_calamine_reserves_them(tmp_path: Path) -> None:
    """A real .xls whose DIMENSIONS records claim 4 billion rows: calamine would reserve that."""
    from hub.errors import IngestError
    from hub.ingest import read_sheets

    source = next((ROOT / "tests" / "data" / "foreign_workbooks").rglob("*.xls"), None)
    if source is None:
        pytest.skip("no .xls among the foreign workbooks")
    forged = hp.forged_xls_dimensions(source, tmp_path)
    with pytest.raises(IngestError) as info:
        read_sheets(forged)
    assert "超过上限" in str(info.value) or "损坏" in str(info.value)


# -- big payloads: peak memory of a child process -----------------------------------------------------
CHILD = """
import resource, sys, json
from pathlib import Path
from hub.errors import HubError
from hub.ingest import read_sheets
try:
    sheets = read_sheets(Path(sys.argv[1]))
    out = {"rows": sum(s.table.num_rows for s in sheets), "error": None}
except HubError as exc:
    out = {"rows": 0, "error": str(exc)}
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out, ensure_ascii=False))
"""


def read_in_child(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def cli_in_child(path: Path, home: Path, *extra: str) -> tuple[int, str, float]:
    """`hub ingest` as a separate process: exit code, output, the peak RSS (MB) of that child or of
    any process it started (the reader runs in a child of the fork server: tests/proctree.py)."""
    from tests.proctree import TreePeak

    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "hub"),
                "ingest",
                str(path),
                "--township",
                hp.TOWNSHIP,
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**os.environ, "HUB_HOME": str(home)},
        )
        with TreePeak(proc.pid) as peak:
            _, status, usage = os.wait4(proc.pid, 0)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    assert "Traceback" not in output, output[-2000:]
    return os.waitstatus_to_exitcode(status), output, max(usage.ru_maxrss / 1024, peak.one_mb)


@pytest.mark.slow
def test_200000_duplicate_rows_read_within_the_memory_target(tmp_path: Path) -> None:
    path = hp.duplicate_rows_xlsx(tmp_path, 200_000)
    out = read_in_child(path)
    assert out["error"] is None and out["rows"] == 200_001
    assert out["peak_mb"] <= 1536, out


@pytest.mark.slow
def test_row_bomb_over_excel_limit_is_refused_cheaply(tmp_path: Path) -> None:
    path = hp.write_xlsx(
        tmp_path / "rows.xlsx",
        (f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 1_100_001)),
    )
    out = read_in_child(path)
    assert out["error"] and "行数超过上限" in out["error"], out
    assert out["peak_mb"] <= 512, out


@pytest.mark.slow
def test_dense_wide_cell_bomb_is_refused_cheaply(tmp_path: Path) -> None:
    path = hp.dense_wide(tmp_path, 100, 16_384)
    out = read_in_child(path)
    assert out["error"] and "上限" in out["error"], out
    assert out["peak_mb"] <= 512, out


@pytest.mark.slow
@pytest.mark.parametrize("payload", ["stray_far", "stray_mid", "stray_below"])
def test_stray_cells_cost_no_dense_range(tmp_path: Path, payload: str) -> None:
    out = read_in_child(hp.FAST[payload](tmp_path))
    assert out["error"] is None and out["rows"] == 21, out
    assert out["peak_mb"] <= 512, out


@pytest.mark.slow
def test_gigabyte_zip_bomb_through_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = hp.zip_ratio_bomb(tmp_path, 1136)
    code, output, peak = cli_in_child(path, home)
    assert code == 1 and "压缩炸弹" in output
    assert peak <= 1024


@pytest.mark.slow
def test_hostile_suite_through_the_real_command(tmp_path: Path) -> None:
    """Every fast payload again, each through `hub ingest --json` as its own process: exit code 0 or 1,
    no traceback, the expected status and message, and the child's peak memory."""
    home = tmp_path / "home"
    subprocess.run(
        [str(Path(sys.executable).parent / "hub"), "divisions", "load", str(SAMPLE / "divisions.csv")],
        check=True,
        env={**os.environ, "HUB_HOME": str(home)},
        capture_output=True,
    )
    for name, build in hp.FAST.items():
        folder = tmp_path / name
        folder.mkdir()
        path = build(folder)
        code, output, peak = cli_in_child(path, home, "--no-link", "--json")
        assert code in (0, 1), (name, output[-2000:])
        assert peak <= 1536, (name, peak)
        (report,) = json.loads(output[: output.rindex("]") + 1])
        status, expected = EXPECTED[name]
        assert report["status"] == status, (name, report)
        if status == "refused":
            assert expected in report["message"], (name, report["message"])
        elif expected:
            assert expected in {w["code"] for w in report["warnings"]}, name
