from datetime import date
from decimal import Decimal

from hub.validate import catalogue, normalised_batch, rule_failures, validate_sheet

TODAY = date(2026, 11, 25)

ID = "11010519491231002X"  # female, born 1949-12-31
ID_M = "360426199101010071"  # male, born 1991-01-01


def findings_of(v):
    return {(r["row_no"], r["code"]): r for r in v.findings.to_pylist()}


def test_population_every_person_code(db, schema, make_sheet):
    sheet = make_sheet(
        "population",
        {
            "id_number": (
                "身份证号码",
                [
                    ID,
                    "110105194912310021",
                    "4.10102E+17",
                    "41010219900307",
                    "110105194902300020",
                    "110105491231002",
                    "440524188001010014",
                    ID_M,
                    ID_M,
                    None,
                ],
            ),
            "name": (
                "姓 名",
                ["张三（已故）", "李四", "王五", "赵六", "钱七", "孙八", "周九", "吴十", "郑一", "冯二"],
            ),
            "sex": ("性别", ["女", "男", "男", "男", "男", "男", "男", "女", "男", "男"]),
            "birth_date": (
                "出生年月",
                ["1949年12月", None, None, None, None, None, None, "1990-01-01", "32143", "一九九零"],
            ),
            "ethnicity": ("民族", ["汉", "1", "汉族", "01", None, None, None, None, None, None]),
            "village": (
                "所属村(社区)",
                ["东风村委会", "南街", "410102001201", "西山村", None, None, None, None, None, None],
            ),
            "phone": ("联系电话", ["138 0013 8000", "12345", None, None, None, None, None, None, None, None]),
        },
    )
    v = validate_sheet(db, sheet, schema, TODAY)
    f = findings_of(v)
    assert v.rows.num_rows == 10 == v.accepted + v.rejected
    assert (
        f[(4, "name-note-removed")]["message"]
        == "姓 名“张三（已故）”含有备注文字，已记为“张三”。备注请填写在备注列。"
    )
    assert (
        f[(5, "id-checksum")]["column_name"] == "身份证号码"
        and f[(5, "id-checksum")]["value"] == "110105194912310021"
    )
    assert f[(5, "code-unknown")]["value"] == "1" and "汉族" in f[(5, "code-unknown")]["message"]
    assert (5, "village-unknown") not in f  # 南街 → 南街社区
    assert f[(5, "phone-invalid")]["severity"] == "warning"
    assert f[(6, "id-precision-lost")]["severity"] == "error"
    assert (7, "id-format") in f and (7, "village-unknown") in f  # 西山村 belongs to another township
    assert "19490230" in f[(8, "id-date-invalid")]["message"]
    assert "11010519491231002X" in f[(9, "id-legacy-converted")]["message"]
    assert (10, "age-implausible") in f
    assert f[(11, "sex-id-mismatch")]["message"].endswith("已按身份证号码记为男。请核对。")
    assert (
        f[(11, "birthdate-id-mismatch")]["message"]
        == "出生年月“1990-01-01”与身份证号码不一致，已按身份证号码记为1991-01-01。请核对。"
    )
    assert "“32143”" in f[(12, "birthdate-id-mismatch")]["message"]  # serial 32143 = 1987-12-31
    assert f[(13, "required-missing")]["column_name"] == "身份证号码" and (13, "date-invalid") in f
    rows = {r["row_no"]: r for r in v.rows.to_pylist()}
    assert rows[4]["name"] == "张三" and rows[4]["person_status"] == "2" and rows[4]["accepted"]
    assert (
        rows[4]["birth_precision"] == "day"
        and rows[4]["village_code"] == "410102001201"
        and rows[4]["phone"] == "13800138000"
    )
    assert (4, "birthdate-id-mismatch") not in f  # month precision agreeing on year-month
    assert rows[5]["accepted"] is False and rows[9]["accepted"] and rows[9]["id_number"] == ID
    assert rows[11]["sex"] == "1" and str(rows[11]["birth_date"]) == "1991-01-01"
    assert rows[6]["ethnicity"] == "01" and rows[6]["village_code"] == "410102001201"
    assert [c for c in v.rows.column_names] == [c for c, _ in db.columns("hub_rows") if c != "submission_id"]
    assert v.findings.column_names == [c for c, _ in db.columns("hub_findings") if c != "submission_id"]


def test_serial_birth_date_agrees(db, schema, make_sheet):
    sheet = make_sheet(
        "population",
        {"id_number": ("身份证号", [ID_M]), "name": ("姓名", ["甲"]), "birth_date": ("出生日期", ["33239"])},
    )
    v = validate_sheet(db, sheet, schema, TODAY)
    assert v.findings.num_rows == 0 and v.accepted == 1


def test_uscc_business_and_numbers(db, schema, make_sheet):
    sheet = make_sheet(
        "business",
        {
            "uscc": (
                "统一社会信用代码",
                ["92410102L12345674K", "91110108551385082A", "9111", None, "N2410102500123453R"],
            ),
            "business_name": ("个体工商户名称", ["甲店", "乙店", "丙店", "丁店", None]),
        },
    )
    v = validate_sheet(db, sheet, schema, TODAY)
    f = findings_of(v)
    assert {k for k in f} == {
        (5, "uscc-checksum"),
        (6, "uscc-format"),
        (7, "required-missing"),
        (8, "required-missing"),
    }
    assert f[(8, "required-missing")]["message"] == "个体工商户名称不能为空。请补填后重新上传。"
    assert v.accepted == 1 and v.rejected == 4


def test_dibao_head_rows_and_money(db, schema, make_sheet):
    sheet = make_sheet(
        "dibao",
        {
            "head_name": ("户主姓名", ["王大", "王大", "李二"]),
            "head_id_number": ("户主身份证号", [ID_M, ID_M, None]),
            "name": ("成员姓名", [None, "王小", None]),
            "id_number": ("成员身份证号", [None, ID, None]),
            "relation": ("与户主关系", [None, "长女", "户主"]),
            "dibao_amount": ("月保障金额（元）", ["1,200元", "600元/月", "3.2万"]),
            "household_size": ("家庭人口", ["3人", "3", "两人"]),
            "covered": ("是否享受", ["是", "√", "否"]),
            "village": ("村名", ["东风", "东风", "东风村"]),
        },
    )
    v = validate_sheet(db, sheet, schema, TODAY)
    rows = v.rows.to_pylist()
    assert rows[0]["id_number"] == ID_M and rows[0]["name"] == "王大" and rows[0]["relation"] == "02"
    assert (
        rows[1]["relation"] == "30" and rows[0]["household_key"] == rows[1]["household_key"] == f"id:{ID_M}"
    )
    assert rows[2]["household_key"] == "name:李二|410102001201"
    assert [r["dibao_amount"] for r in rows] == [Decimal("1200.00"), Decimal("600.00"), Decimal("32000.00")]
    assert [r["covered"] for r in rows] == [True, True, False] and rows[0]["household_size"] == 3
    f = findings_of(v)
    assert set(f) == {(6, "number-invalid"), (6, "required-missing")}
    assert f[(6, "number-invalid")]["column_name"] == "家庭人口"


def test_disability_cert_and_duplicates(db, schema, make_sheet):
    sheet = make_sheet(
        "disability",
        {
            "id_number": ("身份证号", [ID, ID, ID_M, ID]),
            "name": ("姓名", ["甲", "甲", "乙", "甲"]),
            "disability_category": ("残疾类别", ["肢体", "肢体", "视力残疾", "肢体残疾"]),
            "disability_level": ("残疾等级", ["二级", "2级", "Ⅰ级", "二"]),
            "disability_cert": ("残疾人证号", [ID + "42", ID + "42", ID + "12", ID + "42"]),
        },
    )
    v = validate_sheet(db, sheet, schema, TODAY)
    f = findings_of(v)
    assert f[(6, "cert-mismatch")]["message"].startswith(
        "残疾人证号“11010519491231002X12”与身份证号码或残疾类别、等级不一致（前18位与身份证号码不一致，第20位与残疾等级不一致）"
    )
    assert f[(5, "duplicate-row")]["message"] == "本行与第4行重复，已合并为一条。请删除重复行。"
    assert f[(7, "duplicate-row")]["message"].startswith("本行与第4行")
    assert v.accepted == 4


def test_rule_failures_batch_and_catalogue(db, schema, make_sheet):
    sheet = make_sheet(
        "population",
        {
            "id_number": ("身份证号", [" 11010519491231002x", "110105194912310021", "无"]),
            "name": ("姓名", ["甲", "乙", "丙"]),
        },
    )
    fails = rule_failures(db, sheet, schema, TODAY)
    assert fails["id-checksum"] == {5} and fails["required-missing"] == {6} and fails["id-format"] == set()
    batch = normalised_batch(db, sheet, schema, TODAY)
    assert batch.column_names == ["_row", "id_number", "name"]
    assert batch.column("id_number").to_pylist() == [ID, "110105194912310021", None]
    codes = {c["code"] for c in catalogue(schema)}
    assert {"id-checksum", "duplicate-row", "cert-mismatch"} <= codes
