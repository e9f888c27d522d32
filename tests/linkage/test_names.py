from __future__ import annotations

from hub.dedupe.linkage.names import name_key, name_key_table


def test_homophones_share_primary_key() -> None:
    assert name_key("张伟")[1] == name_key("张玮")[1] == "zhang wei"


def test_traditional_is_simplified() -> None:
    assert name_key("張偉")[0] == "张伟"


def test_heteronym_surname_meets_other_reading() -> None:
    shan = set(name_key("单雄信")[2])
    assert "shan xiong xin" in shan and "dan xiong xin" in shan
    assert shan & set(name_key("善雄信")[2])


def test_table_one_row_per_distinct_name() -> None:
    t = name_key_table(["张伟", "张伟", None, "", "李娜"])
    assert t.column("name").to_pylist() == ["张伟", "李娜"]
