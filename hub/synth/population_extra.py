"""Second stage of :func:`hub.synth.population.make_county`: IDs, deaths, 人户分离, disability,
低保 households and businesses."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import TYPE_CHECKING

from hub.synth import names
from hub.synth.checkdigits import USCC_ALPHABET, make_id, make_uscc
from hub.synth.population import DEMO_DATE, Business, County, Dibao, Disability, _mobile

if TYPE_CHECKING:
    from hub.synth.population import Person

SPOUSE_WORDS = ("妻子", "妻", "丈夫", "夫", "配偶")


def age_on(born: date, ref: date) -> int:
    return ref.year - born.year - ((ref.month, ref.day) < (born.month, born.day))


def finish_ids(people: list[Person], county: County, rng: random.Random) -> None:
    """Give every person a unique valid ID (region = county code) and fill the household lists."""
    used: set[str] = set()
    for p in people:
        while True:
            seq = rng.randrange(100) * 10 + rng.choice((1, 3, 5, 7, 9) if p.sex == "1" else (0, 2, 4, 6, 8))
            pid = make_id(county.code, p.birth_date, seq)
            if pid not in used:
                break
        used.add(pid)
        p.id_number = pid
        county.persons[pid] = p
    for hh in county.households:
        hh.members = [people[int(i)].id_number for i in hh.members]
        has_spouse = any(county.persons[m].relation in SPOUSE_WORDS for m in hh.members)
        for m in hh.members:
            q = county.persons[m]
            if has_spouse and (q.relation in SPOUSE_WORDS or m == hh.members[0]):
                q.marital = rng.choice(("20", "20", "21", "22"))
    # Some deaths among the very old (never a household head, so households stay well-formed).
    for hh in county.households:
        for m in hh.members[1:]:
            q = county.persons[m]
            if age_on(q.birth_date, DEMO_DATE) >= 85 and rng.random() < 0.25:
                q.status = "2"
                q.death_date = date(2025, 1, 1) + timedelta(days=rng.randrange(500))
                q.phone = None
    # 人户分离: one adult per pair of townships is also on the next township's roster.
    for i, t in enumerate(county.townships[:-1] if len(county.townships) > 1 else []):
        other = county.townships[i + 1]
        cand = [
            p
            for p in county.persons.values()
            if p.township_code == t.code and p.status == "1" and 30 <= age_on(p.birth_date, DEMO_DATE) < 60
        ]
        if cand:
            county.dual[rng.choice(cand).id_number] = other.villages[-1].code


def add_disabilities(county: County, rng: random.Random) -> None:
    for p in county.persons.values():
        age = age_on(p.birth_date, DEMO_DATE)
        if p.status == "1" and rng.random() < (0.10 if age >= 65 else 0.04):
            cat = rng.choices("1234567", (10, 12, 3, 40, 12, 13, 10))[0]
            lvl = rng.choices("1234", (12, 22, 30, 36))[0]
            county.disabilities[p.id_number] = Disability(p.id_number, cat, lvl)


def add_dibao(county: County, rng: random.Random) -> None:
    for t in county.townships:
        hhs = [h for h in county.households if h.village_code.startswith(t.code)]
        alive = [h for h in hhs if all(county.persons[m].status == "1" for m in h.members)]
        # Prefer households with a disabled member, then a random share of the rest.
        disabled = [h for h in alive if any(m in county.disabilities for m in h.members)]
        chosen = disabled[: max(2, len(disabled) // 3)]
        rest = [h for h in alive if h not in chosen]
        chosen += rng.sample(rest, min(len(rest), max(3, len(hhs) // 10)))
        for h in sorted(chosen, key=lambda h: h.household_no):
            urban = county.village(h.village_code).kind == "社区"
            covered = list(h.members) if len(h.members) < 3 or rng.random() < 0.6 else h.members[:-1]
            rate = (1010 if urban else 880) - rng.randrange(0, 400, 10)
            county.dibao.append(
                Dibao(
                    h.household_no,
                    h.members[0],
                    "1" if urban else "2",
                    list(h.members),
                    covered,
                    float(rate * len(covered)) + rng.choice((0, 0, 0.5)),
                    date(2015, 1, 1) + timedelta(days=rng.randrange(3600)),
                )
            )
        # Make sure at least two 一级/二级 disabled people live in 低保 households.
        in_dibao = [m for d in county.dibao for m in d.covered if county.persons[m].township_code == t.code]
        for m in in_dibao[:2]:
            cat = county.disabilities[m].category if m in county.disabilities else "4"
            county.disabilities[m] = Disability(m, cat, rng.choice("12"))


def _org9(rng: random.Random, prefix: str) -> str:
    if prefix == "N2":
        return "5" + "".join(str(rng.randrange(10)) for _ in range(8))
    lead = "MA" if prefix != "92" or rng.random() < 0.6 else rng.choice(("L", "J", "M"))
    return lead + "".join(rng.choice(USCC_ALPHABET) for _ in range(9 - len(lead)))


def add_businesses(county: County, rng: random.Random) -> None:
    used: set[str] = set()
    for t in county.townships:
        adults = [
            p
            for p in county.persons.values()
            if p.township_code == t.code and p.status == "1" and 25 <= age_on(p.birth_date, DEMO_DATE) < 70
        ]
        n = max(6, len(adults) // 6)
        for i, op in enumerate(rng.sample(adults, min(n, len(adults)))):
            prefix = "92" if i % 8 not in (3, 5, 7) else {3: "91", 5: "93", 7: "N2"}[i % 8]
            village = county.village(op.village_code)
            if prefix == "92":
                name = names.shop_name(rng, t.name, op.name[0] if not op.name.startswith("欧阳") else "欧阳")
            elif prefix == "91":
                name = f"{county.name}{t.name[:2]}{rng.choice(names.COMPANY_KINDS)}"
            elif prefix == "93":
                name = f"{county.name}{village.name}{rng.choice(names.COOP_KINDS)}"
            else:
                name = f"{county.name}{t.name}{village.name}股份经济合作社"
            while (uscc := make_uscc(prefix, county.code, _org9(rng, prefix))) in used:
                pass
            used.add(uscc)
            road = rng.choice(("人民路", "解放路", "老街", "新街", "工业园区"))
            county.businesses.append(
                Business(
                    uscc,
                    name,
                    op.id_number,
                    op.village_code,
                    f"{county.name}{t.name}{road}{rng.randrange(1, 200)}号",
                    _mobile(rng) if rng.random() < 0.9 else op.phone,
                )
            )
