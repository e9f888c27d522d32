"""A seeded synthetic county: people, households, 低保, disability and businesses, as ground truth.

Every ID carries a valid GB 11643 check character and agrees with the person's sex and birth date;
every USCC carries a valid GB 32100 check character. Nothing here is messy: the ledger writers
(:mod:`hub.synth.ledgers`) render this truth as messy spreadsheets.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from hub.synth import names

DEMO_DATE = date(2026, 11, 30)
LAST_BIRTH = date(2024, 12, 31)  # no one is born after this, so no ID is "in the future"


@dataclass(frozen=True)
class Village:
    code: str  # 12 digits
    name: str  # 青山村 / 城南社区
    kind: str  # 社区 / 村


@dataclass(frozen=True)
class Township:
    code: str  # 9 digits
    name: str
    villages: tuple[Village, ...]


@dataclass
class Person:
    id_number: str
    name: str
    sex: str  # "1" 男 / "2" 女
    birth_date: date
    ethnicity: str  # GB/T 3304 code
    marital: str  # GB/T 2261.2 code
    village_code: str
    address: str
    phone: str | None
    household_no: str
    relation: str  # free text as a clerk writes it: 本人 / 妻子 / 长女 / 父亲 ...
    status: str = "1"  # "1" 正常 / "2" 死亡
    death_date: date | None = None

    @property
    def township_code(self) -> str:
        return self.village_code[:9]


@dataclass
class Household:
    household_no: str
    village_code: str
    address: str
    members: list[str]  # IDs, head first


@dataclass
class Dibao:
    household_no: str
    head_id: str
    category: str  # "1" 城市 / "2" 农村
    members: list[str]
    covered: list[str]
    amount: float  # 元 per month, household total
    start: date


@dataclass
class Disability:
    id_number: str
    category: str  # "1".."7"
    level: str  # "1".."4"

    @property
    def cert(self) -> str:
        return f"{self.id_number}{self.category}{self.level}"


@dataclass
class Business:
    uscc: str
    name: str
    operator_id: str
    village_code: str
    address: str
    phone: str | None


@dataclass
class County:
    code: str
    name: str
    townships: list[Township]
    persons: dict[str, Person] = field(default_factory=dict)
    households: list[Household] = field(default_factory=list)
    dibao: list[Dibao] = field(default_factory=list)
    disabilities: dict[str, Disability] = field(default_factory=dict)
    businesses: list[Business] = field(default_factory=list)
    # 人户分离: a person also registered in another township's roster (ID → that village's code).
    dual: dict[str, str] = field(default_factory=dict)

    def village(self, code: str) -> Village:
        return next(v for t in self.townships for v in t.villages if v.code == code)

    def township(self, code: str) -> Township:
        return next(t for t in self.townships if t.code == code)

    def divisions(self) -> list[tuple[str, str]]:
        rows = [(self.code, self.name)]
        for t in self.townships:
            rows.append((t.code, t.name))
            rows.extend((v.code, v.name) for v in t.villages)
        return rows


def sample_townships(county_code: str = "331099") -> list[Township]:
    """The two townships of the sample county: 青山镇 (镇) and 城关街道 (街道)."""
    qs = f"{county_code}101"
    cg = f"{county_code}001"
    return [
        Township(
            qs,
            "青山镇",
            (
                Village(qs + "001", "青山社区", "社区"),
                Village(qs + "201", "上塘村", "村"),
                Village(qs + "202", "下溪村", "村"),
                Village(qs + "203", "石门村", "村"),
                Village(qs + "204", "竹坞村", "村"),
            ),
        ),
        Township(
            cg,
            "城关街道",
            (
                Village(cg + "001", "城南社区", "社区"),
                Village(cg + "002", "城北社区", "社区"),
                Village(cg + "003", "解放路社区", "社区"),
                Village(cg + "201", "东郊村", "村"),
                Village(cg + "202", "新桥村", "村"),
                Village(cg + "203", "白塔村", "村"),
            ),
        ),
    ]


def generic_townships(county_code: str, count: int, villages_each: int = 6) -> list[Township]:
    out = []
    for i in range(count):
        code = f"{county_code}{100 + i + 1:03d}" if i % 3 else f"{county_code}{i + 1:03d}"
        vs = tuple(
            Village(
                f"{code}{(j + 1) if j < 2 else 200 + j:03d}",
                f"第{i + 1}镇{j + 1}{'社区' if j < 2 else '村'}",
                "社区" if j < 2 else "村",
            )
            for j in range(villages_each)
        )
        out.append(Township(code, f"第{i + 1}镇", vs))
    return out


def _birth(rng: random.Random, age_lo: int, age_hi: int) -> date:
    start = date(DEMO_DATE.year - age_hi - 1, DEMO_DATE.month, 1)
    end = min(date(DEMO_DATE.year - age_lo, DEMO_DATE.month, 1), LAST_BIRTH)
    return start + timedelta(days=rng.randrange(max(1, (end - start).days)))


def _mobile(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17", "19")) + f"{rng.randrange(10)}{rng.randrange(10**8):08d}"


class _Builder:
    def __init__(self, rng: random.Random, county: County) -> None:
        self.rng = rng
        self.county = county
        self.people: list[Person] = []  # IDs assigned at the end

    def person(self, surname: str, male: bool, born: date, relation: str, hh: Household) -> Person:
        rng = self.rng
        eth = "01" if rng.random() < 0.9 else rng.choice(("22", "22", "03", "06"))
        age = (DEMO_DATE - born).days // 365
        if age < 22:
            marital = "10"
        else:
            marital = rng.choices(
                ("20", "21", "22", "30", "40", "10"), (50, 10, 4, 12 if age > 60 else 2, 4, 3)
            )[0]
        phone = _mobile(rng) if age > 17 and (age < 90 or rng.random() < 0.3) else None
        p = Person(
            "",
            surname + names.given_name(rng, male, born.year),
            "1" if male else "2",
            born,
            eth,
            marital,
            hh.village_code,
            hh.address,
            phone,
            hh.household_no,
            relation,
        )
        self.people.append(p)
        hh.members.append(str(len(self.people) - 1))  # index placeholder, replaced by the ID later
        return p

    def household(self, village: Village, seq: int) -> None:
        rng = self.rng
        road = rng.choice(("人民路", "解放路", "中山路", "文化路", "溪边", "上街", "下街", "新村路"))
        town = next(t.name for t in self.county.townships if village in t.villages)
        addr = f"{self.county.name}{town}{village.name}{road}{rng.randrange(1, 300)}号"
        hh = Household(f"{village.code[-6:]}{seq:04d}", village.code, addr, [])
        self.county.households.append(hh)
        sur = names.surname(rng)
        shape = rng.choices(("elderly_single", "elderly_couple", "family", "three_gen"), (25, 25, 25, 25))[0]
        head_male = rng.random() < 0.75
        if shape.startswith("elderly"):
            head_born = _birth(rng, 65, 105 if shape == "elderly_single" else 95)
        else:
            head_born = _birth(rng, 32, 62)
        head_sur = sur if head_male else names.surname(rng)
        self.person(head_sur, head_male, head_born, rng.choice(("本人", "本人", "户主")), hh)
        if shape != "elderly_single":
            sp_born = head_born + timedelta(days=rng.randrange(-1500, 1500))
            sp_born = min(sp_born, LAST_BIRTH)
            rel = ("妻子", "妻", "配偶") if head_male else ("丈夫", "夫", "配偶")
            self.person(names.surname(rng) if head_male else sur, not head_male, sp_born, rng.choice(rel), hh)
        if shape in ("family", "three_gen"):
            for k in range(rng.choice((1, 1, 2, 2, 3))):
                male = rng.random() < 0.52
                born = _birth(rng, 2, max(3, (DEMO_DATE - head_born).days // 365 - 22))
                order = "长次三"[k]
                kid_rel = rng.choice((f"{order}{'子' if male else '女'}", "儿子" if male else "女儿"))
                self.person(sur, male, born, kid_rel, hh)
            if shape == "three_gen":
                father = head_born - timedelta(days=rng.randrange(20 * 365, 32 * 365))
                self.person(head_sur, True, father, "父亲", hh)
                mother = head_born - timedelta(days=rng.randrange(19 * 365, 30 * 365))
                self.person(names.surname(rng), False, mother, "母亲", hh)


SPECIAL_BIRTHS = (
    date(1946, 10, 12),
    date(1946, 11, 8),
    date(1936, 10, 3),
    date(1936, 11, 21),
    date(1944, 2, 29),
    date(1936, 2, 29),
    date(1948, 2, 29),
    date(1940, 11, 16),
)


def make_county(
    seed: int,
    n_persons: int,
    townships: int | Sequence[Township] = 2,
    *,
    county_code: str = "331099",
    county_name: str = "示例县",
) -> County:
    """A county of about ``n_persons`` people spread over ``townships`` (a count or explicit list)."""
    from hub.synth.population_extra import add_businesses, add_dibao, add_disabilities, finish_ids

    rng = random.Random(seed)
    ts = list(townships) if not isinstance(townships, int) else generic_townships(county_code, townships)
    county = County(county_code, county_name, ts)
    b = _Builder(rng, county)
    per_township = max(1, n_persons // len(ts))
    for t in ts:
        start = len(b.people)
        seq = 0
        while len(b.people) - start < per_township:
            seq += 1
            b.household(t.villages[seq % len(t.villages)], seq)
        # Force the report edge cases onto the elderly of every township.
        elderly = [p for p in b.people[start:] if p.birth_date.year < 1950]
        for p, born in zip(elderly, SPECIAL_BIRTHS, strict=False):
            p.birth_date = born
    finish_ids(b.people, county, rng)
    add_disabilities(county, rng)
    add_dibao(county, rng)
    add_businesses(county, rng)
    return county
