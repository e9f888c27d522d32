"""Column recognition on layouts written by hand after real forms (not by ``hub/synth``), through the
``hub columns --json`` a clerk or steward runs, and ``hub ingest`` for the rows.

Sources of the headers (also in ``tests/data/real_headers/catalogue.csv``):
- 个体工商户登记（备案）申请书 (national form of 国家市场监督管理总局, 广东版): 经营者及家庭成员信息,
  附表1 个体工商户经营者（港澳居民）登记表, 附表3 联络员信息, 参加经营的家庭成员.
- 耕地地力保护补贴 发放清册 (农业农村 subsidy roster): 收款人全称, 收款人身份证号, 收款人家庭地址.
- 邻水县困难残疾人低保对象生活补贴申请审批表: 是否享受低保 beside 是否是低保对象.
- 常住人口登记表 (公安): 监护关系, 居民身份证签发日期.
- 特困人员家庭查询 (民政 社会救助系统 export): 基本信息 / 户主姓名 … written as an unmerged CSV header.
- 优抚人员 / 伤残人员 / 三属人员基本信息 (民政 优抚 system export, 浪潮 CAMS): 烈士姓名, 烈士批准时间,
  批准日期, 证书编号, 工作单位_电话, 住址行政区划.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from hub.standards.ids import id_check_char
from hub.standards.uscc import uscc_check_char
from tests.conftest import SAMPLE, Cli

IDS = [
    b + id_check_char(b)
    for b in ("33109919611017709", "33109919480229609", "33109919750312411", "33109919880808671")
]
NAMES = ["刘国强", "陈秀英", "王建华", "赵丽"]
PHONES = ["18248106224", "15787203240", "13905761234", "13605762345"]


@pytest.fixture
def loaded(cli: Cli) -> Cli:
    result = cli("divisions", "load", SAMPLE / "divisions.csv")
    assert result.exit_code == 0, result.output
    return cli


def _fields(cli: Cli, path: Path) -> dict[str, str | None]:
    placed, code = cli.json("columns", path, "--township", "青山镇")
    assert code == 0, placed
    return {c["header"].split("/")[-1]: c["field"] for s in placed["sheets"] for c in s["columns"]}


def _all_four_accepted(loaded: Cli, path: Path) -> None:
    """The ledger ingested for 青山镇 as a clerk would: its four rows accepted, none rejected or held."""
    reports, code = loaded.json("ingest", path, "--township", "青山镇", "--no-annotate", "--no-link")
    (report,) = reports
    assert code == 0 and report["status"] == "ingested", report
    assert report["accepted"] == 4 and report["rejected"] == report["held"] == 0


def test_a_business_form_keeps_the_operators_name_and_leaves_third_persons_out(
    loaded: Cli, tmp_path: Path
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    groups = {
        "A1": "基本信息（必填项）",
        "D1": "经营者及家庭成员信息（设立登记必填项，变更经营者、备案家庭成员填写）",
        "J1": "附表3联络员信息",
    }
    for cell, text in groups.items():
        ws[cell] = text
    ws.merge_cells("A1:C1")
    ws.merge_cells("D1:I1")
    ws.merge_cells("J1:K1")
    headers = [
        "名    称（选填）",
        "统一社会信用代码",
        "经营场所",
        "经营者姓名",
        "经营者性别",
        "经营者民族",
        "经营者身份证件号码",
        "参加经营的家庭成员姓名",
        "移动电话",
        "姓    名",
        "电子邮箱",
    ]
    for i, h in enumerate(headers, start=1):
        ws.cell(2, i, h)
    usccs = [b + uscc_check_char(b) for b in ("92331099MA2AAAAA1", "92331099MA2BBBBB2")]
    rows = [
        [
            "青山镇国强小吃店",
            usccs[0],
            "示例县青山镇解放路12号",
            NAMES[0],
            "男",
            "汉族",
            IDS[0],
            NAMES[1],
            PHONES[0],
            "孙伟",
            "a@b.cn",
        ],
        [
            "青山镇秀英百货",
            usccs[1],
            "示例县青山镇人民路3号",
            NAMES[2],
            "男",
            "汉族",
            IDS[2],
            NAMES[3],
            PHONES[2],
            "周敏",
            "c@d.cn",
        ],
    ]
    for r, values in enumerate(rows, start=3):
        for c, v in enumerate(values, start=1):
            ws.cell(r, c, v)
    path = tmp_path / "青山镇_个体工商户登记_2026年11月.xlsx"
    wb.save(path)

    fields = _fields(loaded, path)
    assert fields["名    称（选填）"] == "business_name"
    assert fields["统一社会信用代码"] == "uscc"
    assert fields["经营者姓名"] == "operator_name"
    assert fields["移动电话"] == "phone"
    # facts of the operator the business record has no place for, and everything of a third person
    for header in ("经营者性别", "经营者民族", "经营者身份证件号码", "参加经营的家庭成员姓名", "姓    名"):
        assert fields[header] is None, header


def test_a_second_column_of_a_field_is_its_twin_not_a_weaker_field(loaded: Cli, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    headers = [
        "姓名\n(享受人)",
        "身份\n证号码",
        "是否享\n受低保",
        "是否是\n低保对象",
        "监护关系",
        "居民身份\n证签发日期",
    ]
    for i, h in enumerate(headers, start=1):
        ws.cell(1, i, h)
    answers = [("是", None), ("否", "否"), (None, "是"), ("否", "否")]
    for r, (name, pid, (a, b)) in enumerate(zip(NAMES, IDS, answers, strict=True), start=2):
        for c, v in enumerate([name, pid, a, b, "父子", "2015-03-01"], start=1):
            ws.cell(r, c, v)
    path = tmp_path / "青山镇_残疾人生活补贴审批表.xlsx"
    wb.save(path)

    placed, code = loaded.json("columns", path, "--township", "青山镇")
    assert code == 0
    cols = {c["col"]: c for s in placed["sheets"] for c in s["columns"]}
    assert cols["C"]["field"] == cols["D"]["field"] == "covered"  # not 人员状态, whose codes are 是/否 too
    assert "两列合并" in cols["D"]["evidence"]
    assert cols["E"]["field"] is None  # 监护关系 is no 与户主关系
    assert cols["F"]["field"] is None  # a document's date is no birth date

    _all_four_accepted(loaded, path)


def test_csv_header_in_two_unmerged_rows_with_one_level_columns_beside_groups(
    loaded: Cli, tmp_path: Path
) -> None:
    lines = [
        "城关街道耕地地力保护补贴 发放清册,,,,,",
        "填报单位：城关街道办事处（盖章）,,,,,",
        "基本情况,,,其他信息,,收款人家庭地址",
        "收款人全称,收款人身份证号,收款人手机号,最终确定发放该人补贴总金额（元）,银行账号,",
    ]
    addresses = ["示例县城关街道解放路社区上街222号", "示例县城关街道人民路社区8号"]
    for name, pid, phone, addr in zip(NAMES, IDS, PHONES, addresses, strict=False):
        lines.append(f"{name},{pid},{phone},4090.00,6223567009589734954,{addr}")
    path = tmp_path / "城关街道_耕地地力保护补贴发放清册.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    fields = _fields(loaded, path)
    assert fields["收款人全称"] == "name"
    assert fields["收款人身份证号"] == "id_number"
    assert fields["收款人手机号"] == "phone"
    assert fields["收款人家庭地址"] == "address"  # the header above the empty cell of the second row
    assert fields["银行账号"] is None


def test_csv_subheaders_that_mostly_name_no_field_are_still_the_header(loaded: Cli, tmp_path: Path) -> None:
    lines = [
        "序号,基本信息,,,,,,其他信息,,联系电话,户籍住址,所属社区,最初享受月份",
        ",户主姓名,户主身份证号,家庭人口,特困人员数,供养方式,户籍类型,基本生活总费用（元）,照料护理总费用（元）,,,,",
    ]
    for i, (name, pid, phone) in enumerate(zip(NAMES, IDS, PHONES, strict=True), start=1):
        lines.append(
            f"{i},{name},{pid},{i},1,分散供养,农业,6000.00,1200.00,{phone},示例县青山镇上塘村{i}号,上塘村,2019-0{i}"
        )
    path = tmp_path / "青山镇_特困人员家庭查询.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    fields = _fields(loaded, path)
    assert fields["户主姓名"] == "head_name"
    assert fields["户主身份证号"] == "head_id_number"
    assert fields["家庭人口"] == "household_size"
    assert fields["联系电话"] == "phone" and fields["所属社区"] == "village"
    assert fields["供养方式"] is None and fields["基本生活总费用（元）"] is None


def test_a_veterans_export_keeps_the_martyr_the_employer_and_its_own_numbers_out(
    loaded: Cli, tmp_path: Path
) -> None:
    headers = [
        "所属行政区划",
        "姓名",
        "身份证号",
        "性别",
        "住址行政区划",
        "住址",
        "联系方式_手机",
        "工作单位_电话",
        "批准日期",
        "证书编号",
        "烈士姓名",
        "烈士批准时间",
        "与牺牲病故军人关系*",
        "户籍类别*",
        "是否享受五保待遇",
    ]
    lines = [",".join(headers)]
    for i, (name, pid, phone) in enumerate(zip(NAMES, IDS, PHONES, strict=True), start=1):
        lines.append(
            f"示例县青山镇,{name},{pid},{'男' if i % 2 else '女'},示例县青山镇,示例县青山镇上塘村{i}号,{phone},"
            f"0579-8{i}123456,2012-0{i}-15,3710{i}234,孙{'伟强'[i % 2]},1951-0{i}-01,{'父亲' if i % 2 else '母亲'},"
            f"{'农村' if i % 2 else '城镇'},否"
        )
    path = tmp_path / "青山镇_三属人员基本信息.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    fields = _fields(loaded, path)
    assert fields["姓名"] == "name" and fields["身份证号"] == "id_number" and fields["性别"] == "sex"
    assert fields["住址"] == "address" and fields["联系方式_手机"] == "phone"
    # the division the record is filed under, the employer's phone, the approval of a programme the
    # model does not have, a certificate's own number, and everything of the martyr: no field
    for header in (
        "所属行政区划",
        "住址行政区划",
        "工作单位_电话",
        "批准日期",
        "证书编号",
        "烈士姓名",
        "烈士批准时间",
        "与牺牲病故军人关系*",  # a relation to the martyr, not to the household's head
        "户籍类别*",  # 农村/城镇 of a household registration, no 低保 category
        "是否享受五保待遇",  # 五保 (特困供养) is no 低保 coverage
    ):
        assert fields[header] is None, header

    _all_four_accepted(loaded, path)


def test_a_household_roster_with_one_id_beside_the_heads_name_reads_the_id_as_the_heads(
    loaded: Cli, tmp_path: Path
) -> None:
    """冬春救助 导入模板 (民政 救灾 system): 户主姓名, 身份证号码 and no other person on the row."""
    lines = [
        "户主姓名,身份证号码,家庭人口（人）,家庭类型,行政村（社区）名称,核准救助金额（元）,村级填报人姓名"
    ]
    for i, (name, pid) in enumerate(zip(NAMES, IDS, strict=True), start=1):
        lines.append(f"{name},{pid},{i + 1},低保户,上塘村,{300 * i}.00,孙伟")
    path = tmp_path / "青山镇_冬春救助.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))

    fields = _fields(loaded, path)
    assert fields["户主姓名"] == "head_name"
    assert fields["身份证号码"] == "head_id_number"
    assert fields["家庭人口（人）"] == "household_size"
    assert fields["村级填报人姓名"] is None  # the village clerk who filled the form

    _all_four_accepted(loaded, path)
