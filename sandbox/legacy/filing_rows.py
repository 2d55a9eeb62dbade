"""T_BA_YJYA, T_ZDWXY, T_HY_JGXX and T_WH_CXSB: filings and declarations that belong to one enterprise."""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator

from sandbox.legacy import places
from sandbox.legacy.enterprise_rows import EnterpriseBook, Holder
from sandbox.legacy.table_run import Row, TableRun
from sandbox.legacy.timeline import LAST_DAY, DateSpread, add_years
from sandbox.legacy.values import (
    HAZCHEM,
    chemicals,
    company_name,
    draw_industry,
    headcount,
    new_id,
    person_name,
)

PLAN_FILED = DateSpread(datetime.date(2010, 1, 1), growth=1.1)
HAZARD_FILED = DateSpread(datetime.date(2011, 6, 1), growth=1.05)
INSPECTED = DateSpread(datetime.date(2016, 1, 1), growth=1.2)
DECLARED = DateSpread(datetime.date(2012, 1, 1), growth=1.05)

_PLAN_KINDS = ("综合", "综合、专项、现场处置", "专项", "现场处置", "综合、现场处置")
_PLAN_KIND_WEIGHTS = (40, 30, 8, 12, 10)
_HAZARD_SITES = (
    "甲醇储罐区",
    "液氨储罐区",
    "液氯钢瓶库",
    "原料罐区",
    "成品罐区",
    "1#罐区",
    "2#罐区",
    "甲类仓库",
    "丙烯储罐区",
    "天然气储配站",
    "液化石油气储罐区",
    "氢气储罐区",
    "1#甲类仓库",
    "3#罐组",
)
_HAZARD_LEVELS = ("一级", "二级", "三级", "四级")
_HAZARD_LEVEL_WEIGHTS = (5, 15, 35, 45)
# Industry supervision kinds with the JGHY codes of the enterprises they concern.
_SUPERVISION = {"FM": ("03",), "YJ": ("04", "05"), "SA": ("08", "11"), "FC": ("06", "07", "08")}
_SUPERVISION_WEIGHTS = (10, 20, 20, 50)
_DECLARANT_KINDS = ("生产", "使用", "经营", "一般化工", "生产、经营", "使用、经营")


def _holder(run: TableRun, book: EnterpriseBook, industries: tuple[str, ...] = ()) -> Holder:
    return book.holder(run.rng, lambda allowed: run.pick("QYID", allowed), industries)


def _district(rng: random.Random, holder: Holder) -> places.District:
    return holder.enterprise.district if holder.enterprise else places.draw_district(rng)


def _finish(run: TableRun, row: Row, key: str, holder: Holder, created: datetime.date) -> Row:
    holder.record(run, key)
    run.timestamp(row, key, created)
    run.soft_delete(row, key)
    return row


def plan_filing_rows(run: TableRun, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_BA_YJYA rows: emergency-plan filings (0601)."""
    for serial in range(1, run.rows + 1):
        yield _plan_filing_row(run, book, serial)


def _plan_filing_row(run: TableRun, book: EnterpriseBook, serial: int) -> Row:
    rng = run.rng
    key = new_id(rng)
    holder = _holder(run, book)
    district = _district(rng, holder)
    filed = PLAN_FILED.draw(rng)
    name = holder.enterprise.name.full if holder.enterprise else company_name(rng, draw_industry(rng)).full
    edition = f"({filed.year}版)" if rng.random() < 0.5 else ""
    row: Row = {
        "BAID": key,
        "QYID": holder.qyid,
        "YAMC": f"{name}生产安全事故应急预案{edition}",
        "YALX": rng.choices(_PLAN_KINDS, weights=_PLAN_KIND_WEIGHTS)[0],
        "BABH": f"{district.code}-{filed.year}-{serial:05d}",
        "BARQ": filed.isoformat(),
        "PSRQ": (filed - datetime.timedelta(days=rng.randint(7, 60))).isoformat(),
        "SLBM": places.bureau_name(district.code if rng.random() < 0.8 else places.CITY_CODE, filed),
        "HZWJ": f"/upload/yjya/{filed.year}/{new_id(rng).lower()}.pdf" if rng.random() < 0.9 else None,
    }
    for column in ("YAMC", "BARQ", "PSRQ", "SLBM", "HZWJ"):
        run.spoil(row, key, column)
    return _finish(run, row, key, holder, filed)


def hazard_rows(run: TableRun, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_ZDWXY rows: major-hazard installation filings (0602) of hazardous-chemical enterprises."""
    for serial in range(1, run.rows + 1):
        yield _hazard_row(run, book, serial)


def _hazard_row(run: TableRun, book: EnterpriseBook, serial: int) -> Row:
    rng = run.rng
    key = new_id(rng)
    holder = _holder(run, book, HAZCHEM)
    district = _district(rng, holder)
    filed = HAZARD_FILED.draw(rng)
    assessed = filed
    while add_years(assessed, 3) <= LAST_DAY and rng.random() < 0.8:
        assessed = add_years(assessed, 3)
    lon, lat = places.coordinates(rng, district)
    row: Row = {
        "WXYID": key,
        "QYID": holder.qyid,
        "WXYMC": rng.choice(_HAZARD_SITES),
        "WXYDJ": rng.choices(_HAZARD_LEVELS, weights=_HAZARD_LEVEL_WEIGHTS)[0],
        "RZ": f"{headcount(rng, 10, 500) + rng.random():.2f}",
        "BABH": f"BA{district.code}{filed.year}{serial:04d}",
        "BARQ": filed.isoformat(),
        "PGRQ": assessed.isoformat(),
    }
    for column in ("WXYMC", "BARQ", "PGRQ"):
        run.spoil(row, key, column)
    run.locate(row, key, lon, lat)
    return _finish(run, row, key, holder, filed)


def supervision_rows(run: TableRun, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_HY_JGXX rows: supervision profiles of mining, metallurgy, ammonia and dust enterprises."""
    for _ in range(run.rows):
        yield _supervision_row(run, book)


def _supervision_row(run: TableRun, book: EnterpriseBook) -> Row:
    rng = run.rng
    key = new_id(rng)
    kind = rng.choices(tuple(_SUPERVISION), weights=_SUPERVISION_WEIGHTS)[0]
    holder = _holder(run, book, _SUPERVISION[kind])
    inspected = INSPECTED.draw(rng)
    row: Row = {
        "JGID": key,
        "QYID": holder.qyid,
        "HYLX": kind,
        "KSLX": rng.choice(("露天", "地下", "尾矿库")) if kind == "FM" else None,
        "SCGY": _process(rng, kind),
        "MQSS": rng.choice(("1", "0")) if kind == "YJ" else None,
        "SAL": str(headcount(rng, 100, 50000)) if kind == "SA" else None,
        "CCXTS": str(rng.randint(1, 12)) if kind == "FC" else None,
        "ZYRS": str(headcount(rng, 3, 800)),
        "ZJJCRQ": inspected.isoformat(),
    }
    for column, unit in (("SAL", "kg"), ("CCXTS", "套"), ("ZYRS", "人"), ("ZJJCRQ", "")):
        run.spoil(row, key, column, unit=unit)
    return _finish(run, row, key, holder, inspected)


def _process(rng: random.Random, kind: str) -> str | None:
    if kind == "YJ":
        return rng.choice(("高炉炼铁", "转炉炼钢", "电炉炼钢", "轧钢", "铸造", "铝合金熔铸"))
    if kind == "FC":
        return rng.choice(("铝粉尘", "木粉尘", "面粉粉尘", "金属粉尘", "粮食粉尘", "塑料粉尘"))
    return None


def _separator(key: str) -> str:
    """The separator a clerk typed between chemicals: ';' or, on about a third of the rows, the full-width '；'.

    Decided by the row's key rather than the random stream, so every other value stays as it was.
    """
    return "；" if int(key, 16) % 3 == 0 else ";"


def declaration_rows(run: TableRun, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_WH_CXSB rows: annual integrity declarations of hazardous-chemical enterprises."""
    for _ in range(run.rows):
        yield _declaration_row(run, book)


def _declaration_row(run: TableRun, book: EnterpriseBook) -> Row:
    rng = run.rng
    key = new_id(rng)
    holder = _holder(run, book, HAZCHEM)
    year = DECLARED.draw(rng).year
    declared = min(datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randint(0, 150)), LAST_DAY)
    enterprise = holder.enterprise
    staff = enterprise.employees if enterprise else headcount(rng, 5, 500)
    row: Row = {
        "SBID": key,
        "QYID": holder.qyid,
        "SBND": str(year),
        "SBRQ": declared.isoformat(),
        "QYLB": rng.choice(_DECLARANT_KINDS),
        "ZYWHP": _separator(key).join(f"{chemical.name}({chemical.cas})" for chemical in chemicals(rng)),
        "ZDWXYSL": str(rng.choices((0, 1, 2, 3), weights=(70, 20, 7, 3))[0]),
        "CYRS": str(staff),
        "AQGLRYS": str(max(1, staff // 50)),
        "TZZYRYS": str(headcount(rng, 1, 60)),
        "CNR": enterprise.legal_rep if enterprise else person_name(rng),
    }
    for column, unit in (("SBRQ", ""), ("QYLB", ""), ("ZYWHP", ""), ("ZDWXYSL", "个"), ("CYRS", "人")):
        run.spoil(row, key, column, unit=unit)
    for column in ("AQGLRYS", "TZZYRYS", "CNR"):
        run.spoil(row, key, column)
    return _finish(run, row, key, holder, declared)
