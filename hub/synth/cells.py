"""Cell renderers: the clean value, its harmless messy spellings, and its one-defect mutations.

``fmt`` is ``"xlsx"`` or ``"csv"``: a cell may be a number or a date only in a workbook.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from hub.synth.checkdigits import ID_CHECK, USCC_ALPHABET, id18_to_id15, id_check_char

Cell = str | int | float | date | datetime | None
FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
SEX_LABEL = {"1": "男", "2": "女"}
LEVEL_SPELLINGS = {
    "1": ("一级", "1级", "Ⅰ级", "1", "壹级"),
    "2": ("二级", "2级", "Ⅱ级", "2", "贰级"),
    "3": ("三级", "3级", "Ⅲ级", "3", "叁级"),
    "4": ("四级", "4级", "Ⅳ级", "4", "肆级"),
}
CATEGORY_LABEL = {"1": "视力", "2": "听力", "3": "言语", "4": "肢体", "5": "智力", "6": "精神", "7": "多重"}
MARITAL_LABEL = {
    "10": "未婚",
    "20": "已婚",
    "21": "初婚",
    "22": "再婚",
    "23": "复婚",
    "30": "丧偶",
    "40": "离婚",
}
ETHNICITY_LABEL = {"01": "汉族", "03": "回族", "06": "苗族", "22": "畲族"}
UNKNOWN_CODES = {
    "ethnicity": ("穿青人", "汉人"),
    "marital_status": ("分居", "同居"),
    "disability_category": ("内脏", "残疾"),
    "disability_level": ("五级", "特级"),
    "relation": ("干儿子", "保姆", "同事"),
}


def _pad(rng: random.Random, text: str) -> str:
    """Surrounding whitespace a clerk's paste leaves: U+3000, NBSP, zero-width space, a blank."""
    return rng.choice((f" {text}", f"{text} ", f"{text}\u3000", f"\u00a0{text}", f"{text}\u200b"))


def id_clean(pid: str, rng: random.Random, noisy: bool) -> str:
    if not noisy:
        return pid
    choices = ["'" + pid, pid.translate(FULLWIDTH), f"{pid[:6]} {pid[6:14]} {pid[14:]}", _pad(rng, pid)]
    if pid.endswith("X"):
        choices += [pid[:-1] + "x"] * 3
    return rng.choice(choices)


def id_defect(code: str, pid: str, rng: random.Random, fmt: str) -> Cell:
    if code == "id-checksum":
        return pid[:17] + rng.choice([c for c in ID_CHECK if c != pid[17]])
    if code == "id-date-invalid":
        body = f"{pid[:10]}{rng.choice(('0230', '0231', '1301', '0431', '0002'))}{pid[14:17]}"
        return body + id_check_char(body)
    if code == "id-format":
        cut = rng.randrange(7, 16)
        return pid[:cut] + pid[cut + 1 :]  # 17 characters
    if code == "id-legacy-converted":
        return id18_to_id15(pid)
    if code == "id-precision-lost":
        as_excel = float(int(pid[:15]) * 1000)  # Excel keeps 15 significant digits
        return as_excel if fmt == "xlsx" else f"{as_excel:.5E}"
    raise ValueError(code)


def name_clean(name: str, rng: random.Random, noisy: bool) -> str:
    return _pad(rng, name) if noisy else name


def name_defect(code: str, name: str, dead: bool) -> Cell:
    if code == "required-missing":
        return None
    if code == "name-note-removed":
        return f"{name}（已故）" if dead else f"{name}(外出务工)"
    raise ValueError(code)


def sex_cell(sex: str, rng: random.Random, noisy: bool, wrong: bool = False) -> Cell:
    if wrong:
        sex = "2" if sex == "1" else "1"
    if not noisy:
        return SEX_LABEL[sex]
    return rng.choice((SEX_LABEL[sex] + "性", sex, _pad(rng, SEX_LABEL[sex])))


def date_cell(d: date, rng: random.Random, noisy: bool, fmt: str) -> Cell:
    if not noisy:
        return datetime(d.year, d.month, d.day) if fmt == "xlsx" else d.isoformat()
    return rng.choice(
        (
            f"{d.year}/{d.month}/{d.day}",
            f"{d.year}.{d.month}.{d.day}",
            f"{d:%Y%m%d}",
            f"{d.year}年{d.month}月{d.day}日",
            f"{d.year} 年 {d.month} 月 {d.day} 日",
            d.isoformat(),
        )
    )


def date_defect(code: str, d: date, rng: random.Random) -> str:
    if code == "date-invalid":
        return rng.choice(
            (f"{d.year}-02-30", f"{d.year}年13月{d.day}日", f"{d.year}.6.31", f"{d.year}-00-{d.day:02d}")
        )
    if code == "birthdate-id-mismatch":
        other = d - timedelta(days=rng.randrange(40, 700))
        return other.isoformat()
    raise ValueError(code)


def phone_cell(phone: str | None, rng: random.Random, noisy: bool) -> Cell:
    if phone is None:
        return rng.choice(("无", "/", "暂无", "—", None)) if noisy else None
    if not noisy:
        return phone
    return rng.choice(
        (
            f"{phone[:3]} {phone[3:7]} {phone[7:]}",
            f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"+86 {phone}",
            f"86-{phone}",
            _pad(rng, phone),
        )
    )


def phone_defect(phone: str | None, rng: random.Random) -> str:
    base = phone or "13905781234"
    return rng.choice((base[:-1], base + str(rng.randrange(10)), base[:3] + base[4:]))


def code_cell(labels: dict[str, str], value: str, rng: random.Random, noisy: bool) -> Cell:
    label = labels[value]
    return rng.choice((value, label, _pad(rng, label))) if noisy else label


def level_cell(level: str, rng: random.Random, noisy: bool) -> str:
    return rng.choice(LEVEL_SPELLINGS[level]) if noisy else LEVEL_SPELLINGS[level][0]


def category_cell(cat: str, rng: random.Random, noisy: bool) -> str:
    label = CATEGORY_LABEL[cat]
    return rng.choice((label, label + "残疾", cat)) if noisy else label + "残疾"


def village_cell(name: str, code: str, kind: str, rng: random.Random, noisy: bool) -> str:
    if not noisy:
        return name
    stem = name[: -len(kind)]
    suffixes = ("村委会", "村民委员会", "") if kind == "村" else ("社区居委会", "居委会", "")
    return rng.choice((stem + rng.choice(suffixes), code, _pad(rng, name)))


def uscc_clean(uscc: str, rng: random.Random, noisy: bool) -> str:
    return rng.choice(("'" + uscc, _pad(rng, uscc))) if noisy else uscc


def uscc_defect(code: str, uscc: str, rng: random.Random) -> str:
    if code == "uscc-checksum":
        return uscc[:17] + rng.choice([c for c in USCC_ALPHABET if c != uscc[17]])
    if code == "uscc-format":
        cut = rng.randrange(2, 17)
        return uscc[:cut] + uscc[cut + 1 :]
    raise ValueError(code)


def money_cell(amount: float, rng: random.Random, noisy: bool, fmt: str) -> Cell:
    if not noisy:
        return amount if fmt == "xlsx" else f"{amount:.2f}"
    return rng.choice((f"{amount:.2f}", f"{amount:g}元", f"{amount:,.2f}"))


def money_defect(amount: float, rng: random.Random) -> str:
    digits = "零一二三四五六七八九"
    whole = int(amount)
    return rng.choice(
        ("".join(digits[int(c)] for c in str(whole)) + "元", f"{whole}..5", f"约{whole // 100}百")
    )
