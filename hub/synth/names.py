"""Realistic Chinese personal names, business names and the homophone typos of pinyin input."""

from __future__ import annotations

import random

# Weighted roughly by frequency: the big five first, then common ones, then 单 / 欧阳 / 司马 / 诸葛.
SURNAMES_COMMON = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
SURNAMES_RARE = ("单", "欧阳", "司马", "诸葛", "上官", "蓝", "雷", "钟")

MALE_OLD = (
    "建国",
    "国庆",
    "福生",
    "德明",
    "志强",
    "水根",
    "金水",
    "永福",
    "长生",
    "阿土",
    "有财",
    "德胜",
    "根林",
    "炳荣",
    "树林",
    "振华",
    "春生",
    "和平",
    "国强",
    "文",
    "明",
    "忠",
    "华",
    "伟",
)
FEMALE_OLD = (
    "桂英",
    "秀英",
    "淑珍",
    "玉兰",
    "秀兰",
    "翠花",
    "凤英",
    "月娥",
    "金娣",
    "彩凤",
    "素珍",
    "美华",
    "桂芳",
    "小妹",
    "兰英",
    "菊花",
    "芳",
    "英",
    "珍",
    "丽",
)
MALE_YOUNG = (
    "伟",
    "强",
    "磊",
    "军",
    "勇",
    "杰",
    "涛",
    "斌",
    "浩然",
    "子轩",
    "宇航",
    "俊杰",
    "建华",
    "志明",
    "文博",
    "家豪",
    "晨",
    "鹏",
    "海波",
    "明辉",
    "国华",
    "一鸣",
    "梓豪",
    "皓轩",
)
FEMALE_YOUNG = (
    "丽",
    "敏",
    "静",
    "婷",
    "芳",
    "娟",
    "燕",
    "雪",
    "欣怡",
    "梓涵",
    "诗琪",
    "雨萱",
    "丽华",
    "晓燕",
    "海燕",
    "佳怡",
    "思雨",
    "美玲",
    "慧敏",
    "雅婷",
    "晓丽",
    "英",
    "明霞",
    "春梅",
)

# Homophones a pinyin IME confuses: 张伟 / 张玮.
HOMOPHONES = {
    "伟": "玮",
    "华": "桦",
    "明": "铭",
    "丽": "莉",
    "英": "瑛",
    "军": "君",
    "建": "健",
    "敏": "民",
    "静": "靜",
    "芳": "方",
    "强": "蔷",
    "燕": "艳",
    "杰": "洁",
    "珍": "贞",
    "兰": "蓝",
}

SHOP_KINDS = (
    "小吃店",
    "副食店",
    "五金店",
    "理发店",
    "便利店",
    "水果店",
    "早餐店",
    "农资店",
    "服装店",
    "修车铺",
    "面馆",
    "茶叶店",
    "建材店",
    "豆腐坊",
    "杂货店",
    "粮油店",
)
COMPANY_KINDS = ("农业发展有限公司", "建材有限公司", "物流有限公司", "食品有限公司", "电子商务有限公司")
COOP_KINDS = ("茶叶专业合作社", "水果种植专业合作社", "蔬菜专业合作社", "养殖专业合作社")


def surname(rng: random.Random) -> str:
    if rng.random() < 0.04:
        return rng.choice(SURNAMES_RARE)
    # Triangular pick: early (frequent) surnames more likely.
    return SURNAMES_COMMON[int(rng.triangular(0, len(SURNAMES_COMMON), 0))]


def given_name(rng: random.Random, male: bool, birth_year: int) -> str:
    if birth_year < 1965:
        pool = MALE_OLD if male else FEMALE_OLD
    else:
        pool = MALE_YOUNG if male else FEMALE_YOUNG
    return rng.choice(pool)


def homophone_variant(name: str) -> str | None:
    """The name with its last homophone-prone character swapped, or None when it has none."""
    for i in range(len(name) - 1, 0, -1):
        if name[i] in HOMOPHONES:
            return name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
    return None


def shop_name(rng: random.Random, place: str, owner_surname: str) -> str:
    style = rng.random()
    kind = rng.choice(SHOP_KINDS)
    if style < 0.5:
        return f"{place}{owner_surname}记{kind}"
    if style < 0.8:
        return f"{place}{owner_surname}氏{kind}"
    return f"{place}{rng.choice(('顺发', '兴旺', '好运来', '惠民', '老街', '阿婆', '红星'))}{kind}"
