"""T_PX_KHHG and T_TZZY_CZZ: people's certificates, with the ID-number quirks.

Clean ID numbers pass even python-stdnum's strict check (the address code existed in the birth year);
``id.retired_address`` numbers carry a code retired since (320482 金坛市, 320405 戚墅堰区) that existed
when they were issued: they are right and must be accepted as they are.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from dataclasses import dataclass

from sandbox.legacy import codes, distortions, places
from sandbox.legacy.enterprise_rows import EnterpriseBook
from sandbox.legacy.quirks import QUIRKS
from sandbox.legacy.table_run import DATE_SHAPES, VALIDITY_QUIRKS, Row, TableRun
from sandbox.legacy.timeline import LAST_DAY, DateSpread, add_years, validity_end
from sandbox.legacy.values import new_id, person_name

EXAMINED = DateSpread(datetime.date(2008, 1, 1), growth=1.08)
LICENSED = DateSpread(datetime.date(2003, 1, 1), growth=1.06)

# Address codes of clean ID numbers, with the first birth year they are valid for.
_CHANGZHOU_ADDRESSES = (
    ("320402", 1983),
    ("320404", 1983),
    ("320411", 1983),
    ("320481", 1990),
    ("320412", 2002),
)
# Codes of migrants' home counties that have not changed since before anyone here was born.
_MIGRANT_ADDRESSES = ("340121", "340421", "340621", "360121", "430121", "430321", "510121")
# Retired codes with the years they existed.
_RETIRED_ADDRESSES = (("320482", 1993, 2015), ("320405", 1983, 2015))
_FIRST_GENERATION_LAST_BIRTH = 1983  # 15-digit numbers were replaced from 1999; their holders were adults

_ALL = frozenset(QUIRKS)
_ID_FITS = {
    (first_generation, retired): _ALL
    - (frozenset() if first_generation else {"id.first_generation"})
    - (frozenset() if retired else {"id.retired_address"})
    for first_generation in (True, False)
    for retired in (True, False)
}

_INDUSTRY_CATEGORIES = {
    "01": "危险化学品",
    "02": "烟花爆竹",
    "03": "非煤矿山",
    "04": "金属冶炼",
    "05": "金属冶炼",
}
_OPERATIONS = {
    "电工作业": ("低压电工作业", "高压电工作业", "防爆电气作业"),
    "焊接与热切割作业": ("熔化焊接与热切割作业", "压力焊作业", "钎焊作业"),
    "高处作业": ("登高架设作业", "高处安装、维护、拆除作业"),
    "制冷与空调作业": ("制冷与空调设备运行操作作业", "制冷与空调设备安装修理作业"),
    "危险化学品安全作业": (
        "氯化工艺作业",
        "硝化工艺作业",
        "聚合工艺作业",
        "加氢工艺作业",
        "化工自动化控制仪表作业",
    ),
    "烟花爆竹安全作业": ("烟火药制造作业", "黑火药制造作业", "烟花爆竹产品涉药作业"),
    "冶金(有色)生产安全作业": ("煤气作业",),
}
_OPERATION_WEIGHTS = (40, 30, 12, 6, 8, 1, 3)


@dataclass(frozen=True)
class Person:
    """A certificate holder: name, sex (男/女), their true ID number, and what SFZH stores."""

    name: str
    sex: str
    id_number: str
    stored_id: str


def _birth(rng: random.Random, first_year: int, last_year: int) -> datetime.date:
    year = rng.randint(first_year, last_year)
    return datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(0, 364))


def _clean_address(rng: random.Random, birth: datetime.date) -> str:
    local = [code for code, since in _CHANGZHOU_ADDRESSES if since <= birth.year]
    return rng.choice(local) if local and rng.random() < 0.65 else rng.choice(_MIGRANT_ADDRESSES)


def _retired_address(rng: random.Random, first_year: int, last_year: int) -> tuple[str, datetime.date]:
    fitting = [(code, since) for code, since, _ in _RETIRED_ADDRESSES if since <= last_year]
    code, since = rng.choice(fitting)
    return code, _birth(rng, max(first_year, since), last_year)


def make_person(run: TableRun, key: str, when: datetime.date, youngest: int, oldest: int) -> Person:
    """Make the holder of a certificate dated ``when``, aged ``youngest``..``oldest``, with an ID quirk."""
    rng = run.rng
    first_year, last_year = when.year - oldest, when.year - youngest
    quirk = run.pick("SFZH", _ID_FITS[first_year <= _FIRST_GENERATION_LAST_BIRTH, last_year >= 1983])
    if quirk == "id.retired_address":
        address, birth = _retired_address(rng, first_year, last_year)
    else:
        if quirk == "id.first_generation":
            last_year = min(last_year, _FIRST_GENERATION_LAST_BIRTH)
        birth = _birth(rng, first_year, last_year)
        address = _clean_address(rng, birth)
    male = rng.random() < 0.7
    serial = 2 * rng.randrange(500) + male
    id_number = codes.make_id(address, birth, serial)
    while quirk == "id.lowercase_x" and not id_number.endswith("X"):
        serial = (serial + 2) % 1000
        id_number = codes.make_id(address, birth, serial)
    stored = _store_id(run, key, quirk, id_number)
    return Person(person_name(rng, male), "男" if male else "女", id_number, stored)


def _store_id(run: TableRun, key: str, quirk: str | None, id_number: str) -> str:
    """Return what SFZH stores for a person's ID number, recording its quirk."""
    if quirk is None:
        return id_number
    if quirk == "id.first_generation":
        stored = codes.first_generation(id_number)
        run.record(key, "SFZH", quirk, stored, id_number, "standardized")
    elif quirk == "id.lowercase_x":
        stored = distortions.lowercase_x(id_number)
        run.record(key, "SFZH", quirk, stored, id_number, "standardized")
    elif quirk == "id.bad_check":
        stored = codes.wrong_id_check(id_number, run.rng)
        run.record(key, "SFZH", quirk, stored, None, "quarantined", quirk)
    else:
        stored = id_number
        name = places.RETIRED_CODES[id_number[:6]].name
        note = f"address code {id_number[:6]} ({name}) existed when the number was issued: valid"
        run.record(key, "SFZH", quirk, stored, id_number, "accepted", note=note)
    return stored


def competence_rows(run: TableRun, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_PX_KHHG rows: competence certificates of principals and safety managers (0701)."""
    for _ in range(run.rows):
        yield _competence_row(run, book)


def _competence_row(run: TableRun, book: EnterpriseBook) -> Row:
    rng = run.rng
    key = new_id(rng)
    examined = EXAMINED.draw(rng)
    person = make_person(run, key, examined, 22, 60)
    enterprise = book.choose(rng)
    row: Row = {
        "ZMID": key,
        "XM": person.name,
        "SFZH": person.stored_id,
        "XB": person.sex,
        # Most certificates name their enterprise only by QYMC.
        "QYID": enterprise.live_qyid if rng.random() < 0.4 else None,
        "QYMC": enterprise.name.full if rng.random() < 0.7 else enterprise.name.without_city,
        "RYLX": "主要负责人" if rng.random() < 0.35 else "安全生产管理人员",
        "HYLB": _INDUSTRY_CATEGORIES.get(enterprise.industry, "工贸"),
        "ZMBH": f"{examined.year}{enterprise.district.code}{rng.randrange(1_000_000):06d}",
        "KHRQ": examined.isoformat(),
        "YXQZ": validity_end(examined, 3).isoformat(),
    }
    end_quirk, _ = run.spoil_validity(row, key, examined, 3, "KHRQ")
    run.spoil(row, key, "KHRQ", allowed=DATE_SHAPES if end_quirk in VALIDITY_QUIRKS else None)
    for column in ("XM", "QYMC", "HYLB"):
        run.spoil(row, key, column)
    run.timestamp(row, key, examined)
    run.soft_delete(row, key)
    return row


def operator_rows(run: TableRun, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_TZZY_CZZ rows: special-operations certificates (0702), renewed every six years."""
    for _ in range(run.rows):
        yield _operator_row(run, book)


def _operator_row(run: TableRun, book: EnterpriseBook) -> Row:
    rng = run.rng
    key = new_id(rng)
    first = LICENSED.draw(rng)
    person = make_person(run, key, first, 18, 55)
    start = first
    while add_years(start, 6) <= LAST_DAY and rng.random() < 0.7:
        start = add_years(start, 6)
    review = add_years(start, 3)
    category = rng.choices(tuple(_OPERATIONS), weights=_OPERATION_WEIGHTS)[0]
    row: Row = {
        "CZZID": key,
        "XM": person.name,
        "SFZH": person.stored_id,
        "XB": person.sex,
        "ZYLB": category,
        "CZXM": rng.choice(_OPERATIONS[category]),
        # The number is the ID number as it was typed when the certificate was made.
        "ZH": "T" + (person.stored_id if len(person.stored_id) == 18 else person.id_number).upper(),
        "CLRQ": first.isoformat(),
        "YXQQ": start.isoformat(),
        "YXQZ": validity_end(start, 6).isoformat(),
        "FSRQ": review.isoformat() if review <= LAST_DAY and rng.random() < 0.85 else None,
        "QYMC": book.choose(rng).name.full,
    }
    end_quirk, _ = run.spoil_validity(row, key, start, 6, "YXQQ")
    run.spoil(row, key, "YXQQ", allowed=DATE_SHAPES if end_quirk in VALIDITY_QUIRKS else None)
    for column in ("CLRQ", "FSRQ", "XM", "CZXM", "QYMC"):
        run.spoil(row, key, column)
    run.timestamp(row, key, first)
    run.soft_delete(row, key)
    return row
