"""Changzhou as the legacy knows it: districts, towns, roads, retired codes, zones and bureaus.

Division facts follow the Ministry of Civil Affairs code lists (compiled in the project's standards notes):
a retired code maps to its successor when it has exactly one; 320483 and 320403 split, so only an address
can tell which district a record belongs to.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from types import MappingProxyType

CITY_CODE = "320400"
CITY_NAME = "常州市"

# Changzhou's bounding box, as the README gives it for checking coordinates.
LON_RANGE = (119.1, 120.2)
LAT_RANGE = (31.1, 32.1)


@dataclass(frozen=True)
class District:
    """A current county-level division of Changzhou.

    Attributes:
        code: GB/T 2260 code.
        name: full name (武进区).
        short: name without its suffix (武进).
        towns: its towns and sub-districts (街道); the first ``coded_towns`` have codes in T_DM_XZQH.
        centre: longitude and latitude its enterprises scatter around.
        weight: its share of enterprises.

    """

    code: str
    name: str
    short: str
    towns: tuple[str, ...]
    centre: tuple[float, float]
    weight: float
    coded_towns: int = 3

    def town_code(self, index: int) -> str:
        """Return the 9-digit code the legacy gives the town at ``index`` (街道 0xx, 镇 1xx)."""
        town = self.towns[index]
        return f"{self.code}{(0 if town.endswith('街道') else 100) + index + 1:03d}"


DISTRICTS: tuple[District, ...] = (
    District(
        "320402",
        "天宁区",
        "天宁",
        ("天宁街道", "雕庄街道", "青龙街道", "茶山街道", "红梅街道", "兰陵街道", "郑陆镇"),
        (119.99, 31.78),
        0.11,
    ),
    District(
        "320404",
        "钟楼区",
        "钟楼",
        ("南大街街道", "荷花池街道", "五星街道", "永红街道", "北港街道", "西林街道", "新闸街道", "邹区镇"),
        (119.90, 31.79),
        0.10,
    ),
    District(
        "320411",
        "新北区",
        "新北",
        (
            "河海街道",
            "三井街道",
            "龙虎塘街道",
            "新桥街道",
            "薛家镇",
            "罗溪镇",
            "西夏墅镇",
            "孟河镇",
            "春江街道",
            "奔牛镇",
        ),
        (119.93, 31.90),
        0.20,
        coded_towns=4,
    ),
    District(
        "320412",
        "武进区",
        "武进",
        (
            "湖塘镇",
            "牛塘镇",
            "洛阳镇",
            "遥观镇",
            "横林镇",
            "横山桥镇",
            "雪堰镇",
            "前黄镇",
            "礼嘉镇",
            "嘉泽镇",
            "湟里镇",
            "南夏墅街道",
            "西湖街道",
            "丁堰街道",
            "戚墅堰街道",
            "潞城街道",
        ),
        (119.95, 31.69),
        0.32,
        coded_towns=5,
    ),
    District(
        "320413",
        "金坛区",
        "金坛",
        ("金城镇", "儒林镇", "直溪镇", "朱林镇", "薛埠镇", "指前镇", "西城街道", "东城街道"),
        (119.57, 31.73),
        0.12,
    ),
    District(
        "320481",
        "溧阳市",
        "溧阳",
        (
            "溧城街道",
            "昆仑街道",
            "埭头镇",
            "上黄镇",
            "戴埠镇",
            "天目湖镇",
            "别桥镇",
            "上兴镇",
            "竹箦镇",
            "南渡镇",
            "社渚镇",
        ),
        (119.46, 31.42),
        0.15,
        coded_towns=4,
    ),
)
DISTRICT_BY_CODE = MappingProxyType({district.code: district for district in DISTRICTS})


@dataclass(frozen=True)
class RetiredCode:
    """A county-level code Changzhou no longer uses, with the current districts it went to."""

    code: str
    name: str
    successors: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        """Tell whether the code split, so that only an address can decide its district."""
        return len(self.successors) > 1


# Successors resolved through chains (320421 武进县 → 320483 武进市 → 武进区 and 新北区).
RETIRED_CODES = MappingProxyType(
    {
        retired.code: retired
        for retired in (
            RetiredCode("320403", "广化区", ("320402", "320404")),
            RetiredCode("320405", "戚墅堰区", ("320412",)),
            RetiredCode("320421", "武进县", ("320412", "320411")),
            RetiredCode("320422", "金坛县", ("320413",)),
            RetiredCode("320423", "溧阳县", ("320481",)),
            RetiredCode("320482", "金坛市", ("320413",)),
            RetiredCode("320483", "武进市", ("320412", "320411")),
        )
    }
)
# The retired codes a record of each district can carry, the common ones first (listed twice).
RETIRED_BY_DISTRICT = MappingProxyType(
    {
        "320402": ("320403",),
        "320404": ("320403",),
        "320411": ("320483", "320483", "320421"),
        "320412": ("320405", "320405", "320483", "320483", "320421"),
        "320413": ("320482", "320482", "320422"),
        "320481": ("320423",),
    }
)
OLD_NAMES = MappingProxyType({"戚墅堰区": "320412", "金坛市": "320413", "郊区": "320411"})
ZONES = MappingProxyType({"经开区": "320412", "常州经开区": "320412", "高新区": "320411"})
# Entries of T_DM_XZQH that are no GB/T 2260 divisions.
ZONE_ENTRIES = (
    ("JKQ", "经开区"),
    ("GXQ", "高新区"),
    ("WJGXQ", "武进国家高新区"),
    ("TMHLY", "天目湖旅游度假区"),
)

ROADS = (
    "人民路",
    "延陵路",
    "龙城大道",
    "长江路",
    "通江大道",
    "武宜路",
    "常武路",
    "青洋路",
    "劳动路",
    "中吴大道",
    "晋陵路",
    "和平路",
    "太湖路",
    "华山路",
    "黄河路",
    "汉江路",
    "滆湖路",
    "长虹路",
    "东方大道",
    "花园街",
    "玉龙路",
    "龙锦路",
    "新堂路",
    "永宁路",
    "关河路",
    "兰陵路",
    "锦绣路",
    "丽华路",
    "星港路",
    "常澄路",
    "河海路",
    "衡山路",
    "塘南路",
    "府前路",
    "古方路",
    "延政路",
    "聚湖路",
    "江宜路",
    "金武路",
    "天目湖大道",
)

_INDUSTRIAL_SUFFIXES = ("", "", "", "", "工业园区", "工业集中区")


def draw_district(rng: random.Random) -> District:
    """Return a district, weighted by how many enterprises it has."""
    return rng.choices(DISTRICTS, weights=[district.weight for district in DISTRICTS])[0]


def street_address(rng: random.Random) -> str:
    """Return the road-and-number part of an address (龙锦路588号)."""
    number = rng.randint(1, 999) if rng.random() < 0.9 else rng.randint(1000, 2999)
    return f"{rng.choice(ROADS)}{number}号"


def address(rng: random.Random, district: District, town: str) -> str:
    """Return a full address naming city, district and town, the way the forms ask for it."""
    province = "江苏省" if rng.random() < 0.2 else ""
    return (
        f"{province}{CITY_NAME}{district.name}{town}{rng.choice(_INDUSTRIAL_SUFFIXES)}{street_address(rng)}"
    )


def address_without_district(rng: random.Random) -> str:
    """Return an address that names neither district nor town, so it cannot decide a district."""
    return f"{CITY_NAME}{street_address(rng)}"


def coordinates(rng: random.Random, district: District, spread: float = 0.05) -> tuple[str, str]:
    """Return a longitude and latitude inside the district's area, as the legacy stores them (text)."""
    lon = min(
        max(district.centre[0] + rng.uniform(-spread, spread), LON_RANGE[0] + 0.01), LON_RANGE[1] - 0.01
    )
    lat = min(
        max(district.centre[1] + rng.uniform(-spread, spread), LAT_RANGE[0] + 0.01), LAT_RANGE[1] - 0.01
    )
    return f"{lon:.6f}", f"{lat:.6f}"


# The bureau was 安全生产监督管理局 until the 2019 reform; 金坛 was a county-level city until 2015.
_REFORM = datetime.date(2019, 3, 1)
_JINTAN_DISTRICT = datetime.date(2015, 5, 1)


def bureau_name(division: str, when: datetime.date) -> str:
    """Return the name the issuing bureau of a division had on a date."""
    if division == CITY_CODE:
        area = CITY_NAME
    elif division == "320413" and when < _JINTAN_DISTRICT:
        area = "金坛市"
    else:
        area = DISTRICT_BY_CODE[division].name
    return f"{area}{'安全生产监督管理局' if when < _REFORM else '应急管理局'}"


def division_rows() -> list[dict[str, str]]:
    """Return T_DM_XZQH as the legacy holds it: current, retired, zone and some town entries."""
    rows = [{"DM": CITY_CODE, "MC": CITY_NAME, "SFYX": "1"}]
    rows += [{"DM": district.code, "MC": district.name, "SFYX": "1"} for district in DISTRICTS]
    rows += [{"DM": retired.code, "MC": retired.name, "SFYX": "0"} for retired in RETIRED_CODES.values()]
    rows += [{"DM": code, "MC": name, "SFYX": "1"} for code, name in ZONE_ENTRIES]
    for district in DISTRICTS:
        rows += [
            {"DM": district.town_code(index), "MC": district.towns[index], "SFYX": "1"}
            for index in range(district.coded_towns)
        ]
    return rows
