"""The catalogue of legacy data quirks: each quirk's name, default rate, description and where it lands.

Every quirk of the legacy README's "What the data is really like" has one entry. A rate is the share of the
target's rows that get the quirk (for ``gxsj.null`` the share of rows created before 2012, for
``kz.name_drift`` the share of 储存设施地址 rows, for ``enterprise.duplicate`` the share of enterprises
entered twice). Quirks that fit only some values (``id.lowercase_x`` needs an ID ending in X) are given
values that fit them, or move to the next row that fits. A target is ``TABLE.COLUMN``; quirks sharing a
target exclude each other, so one value carries at most one quirk of its target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

# Where each family of quirks lands. Names and addresses take every text quirk; person names are too
# short and too plain (no Latin letters or digits) for width changes and line breaks.
NAME_COLUMNS = (
    "T_QY_JBXX.QYMC",
    "T_QY_JBXX.ZCDZ",
    "T_QY_JBXX.JYDZ",
    "T_BA_YJYA.YAMC",
    "T_ZDWXY.WXYMC",
    "T_PX_KHHG.QYMC",
    "T_TZZY_CZZ.QYMC",
)
PERSON_COLUMNS = (
    "T_QY_JBXX.FDDBR",
    "T_QY_JBXX.AQFZR",
    "T_XK_SQ.CBR",
    "T_PX_KHHG.XM",
    "T_TZZY_CZZ.XM",
    "T_WH_CXSB.CNR",
)
OPTIONAL_TEXT_COLUMNS = (
    "T_QY_JBXX.ZCH",
    "T_QY_JBXX.JDMC",
    "T_QY_JBXX.QYLX",
    "T_QY_JBXX.AQFZR",
    "T_QY_JBXX.AQFZRDH",
    "T_QY_JBXX.JYDZ",
    "T_XK_SQ.SLBH",
    "T_XK_SQ.CBR",
    "T_XK_ZS.XKFW",
    "T_XK_ZS.JYFS",
    "T_BA_YJYA.SLBM",
    "T_BA_YJYA.HZWJ",
    "T_PX_KHHG.HYLB",
    "T_TZZY_CZZ.CZXM",
    "T_WH_CXSB.QYLB",
    "T_WH_CXSB.ZYWHP",
)
# CJSJ is a creation time: its normal shape already carries the time of day, so it is no target of
# date.with_time.
DATE_COLUMNS = (
    "T_XK_SQ.SQRQ",
    "T_XK_SQ.SLRQ",
    "T_XK_SQ.BJRQ",
    "T_XK_ZS.FZRQ",
    "T_XK_ZS.YXQQ",
    "T_XK_ZS.YXQZ",
    "T_BA_YJYA.BARQ",
    "T_BA_YJYA.PSRQ",
    "T_ZDWXY.BARQ",
    "T_ZDWXY.PGRQ",
    "T_PX_KHHG.KHRQ",
    "T_PX_KHHG.YXQZ",
    "T_TZZY_CZZ.CLRQ",
    "T_TZZY_CZZ.YXQQ",
    "T_TZZY_CZZ.YXQZ",
    "T_TZZY_CZZ.FSRQ",
    "T_HY_JGXX.ZJJCRQ",
    "T_WH_CXSB.SBRQ",
)
DATE_AND_TIME_COLUMNS = ("T_QY_JBXX.CJSJ", *DATE_COLUMNS)
NUMBER_COLUMNS = (
    "T_QY_JBXX.CYRS",
    "T_HY_JGXX.SAL",
    "T_HY_JGXX.CCXTS",
    "T_HY_JGXX.ZYRS",
    "T_WH_CXSB.ZDWXYSL",
    "T_WH_CXSB.CYRS",
    "T_WH_CXSB.AQGLRYS",
    "T_WH_CXSB.TZZYRYS",
)
PHONE_COLUMNS = ("T_QY_JBXX.FDDBRDH", "T_QY_JBXX.AQFZRDH")
ID_COLUMNS = ("T_PX_KHHG.SFZH", "T_TZZY_CZZ.SFZH")
# Coordinate quirks change longitude and latitude together; the JD target stands for the pair.
COORD_TARGETS = ("T_QY_JBXX.JD", "T_ZDWXY.JD")
TIMESTAMPED_TABLES = (
    "T_QY_JBXX",
    "T_XK_SQ",
    "T_XK_ZS",
    "T_BA_YJYA",
    "T_ZDWXY",
    "T_PX_KHHG",
    "T_TZZY_CZZ",
    "T_HY_JGXX",
    "T_WH_CXSB",
)
GXSJ_COLUMNS = tuple(f"{table}.GXSJ" for table in TIMESTAMPED_TABLES)
SCBZ_COLUMNS = tuple(f"{table}.SCBZ" for table in TIMESTAMPED_TABLES)
# Orphans are decided on the QYID of each table whose records belong to an enterprise (T_PX_KHHG names
# its enterprise mostly by QYMC, so it has none).
ORPHAN_TARGETS = (
    "T_XK_SQ.QYID",
    "T_XK_ZS.QYID",
    "T_BA_YJYA.QYID",
    "T_ZDWXY.QYID",
    "T_HY_JGXX.QYID",
    "T_WH_CXSB.QYID",
)


@dataclass(frozen=True)
class Quirk:
    """One kind of legacy data problem and where the generator puts it.

    Attributes:
        name: dotted name, family first (``date.slash``); the truth file's ``quirk`` column.
        rate: default share of the target's rows that get it (see the module docstring).
        description: one line saying what the stored value looks like.
        targets: ``TABLE.COLUMN`` places it is applied to.
        row_level: whether it concerns the whole row (the truth file's ``column`` is then null).

    """

    name: str
    rate: float
    description: str
    targets: tuple[str, ...]
    row_level: bool = False


_TEXT = (
    Quirk("text.padding", 0.02, "Leading or trailing ASCII spaces.", NAME_COLUMNS + PERSON_COLUMNS),
    Quirk(
        "text.ideographic_space", 0.01, "Leading or trailing U+3000 spaces.", NAME_COLUMNS + PERSON_COLUMNS
    ),
    Quirk(
        "text.zero_width", 0.01, "A zero-width space or BOM inside the text.", NAME_COLUMNS + PERSON_COLUMNS
    ),
    Quirk(
        "text.fullwidth",
        0.01,
        "Latin letters, digits and brackets typed full width (ＡＢＣ１２３（）).",
        NAME_COLUMNS,
    ),
    Quirk("text.line_break", 0.01, "A line break (LF or CRLF) inside a name or address.", NAME_COLUMNS),
    Quirk(
        "null.standin",
        0.03,
        "An optional text typed as '', 无, /, -, --, 暂无, NULL, null or 0 instead of left empty.",
        OPTIONAL_TEXT_COLUMNS,
    ),
)
_DATES = (
    Quirk("date.slash", 0.03, "A date written 2019/3/5.", DATE_AND_TIME_COLUMNS),
    Quirk("date.compact", 0.01, "A date written 20190305.", DATE_AND_TIME_COLUMNS),
    Quirk("date.dotted", 0.01, "A date written 2019.03.05.", DATE_AND_TIME_COLUMNS),
    Quirk("date.chinese", 0.02, "A date written 2019年3月5日.", DATE_AND_TIME_COLUMNS),
    Quirk("date.with_time", 0.03, "A date written with a midnight time, 2019-03-05 00:00:00.", DATE_COLUMNS),
    Quirk(
        "date.excel_serial",
        0.01,
        "A date stored as an Excel serial day number (43529).",
        DATE_AND_TIME_COLUMNS,
    ),
    Quirk(
        "date.impossible",
        0.005,
        "A date that does not exist (2019-02-30, 2019-04-31).",
        DATE_AND_TIME_COLUMNS,
    ),
    Quirk("date.zero", 0.005, "MySQL's zero date 0000-00-00.", DATE_AND_TIME_COLUMNS),
    Quirk("date.placeholder", 0.005, "The placeholder date 1900-01-01.", DATE_AND_TIME_COLUMNS),
)
_USCC_TARGET = ("T_QY_JBXX.TYSHXYDM",)
_USCC = (
    Quirk("uscc.lowercase", 0.01, "A correct USCC in lower case.", _USCC_TARGET),
    Quirk("uscc.spaced", 0.01, "A correct USCC with spaces or hyphens between its parts.", _USCC_TARGET),
    Quirk("uscc.fullwidth", 0.01, "A correct USCC typed in full-width characters.", _USCC_TARGET),
    Quirk(
        "uscc.registration_number",
        0.02,
        "The enterprise's old 15-digit registration number (GS 15-2006) instead of its USCC.",
        _USCC_TARGET,
    ),
    Quirk(
        "uscc.organisation_code",
        0.01,
        "The enterprise's 9-character organisation code (GB 11714), with or without its hyphen.",
        _USCC_TARGET,
    ),
    Quirk(
        "uscc.truncated",
        0.01,
        "An all-digit USCC whose last three digits a spreadsheet turned into 000.",
        _USCC_TARGET,
    ),
    Quirk(
        "uscc.typo",
        0.01,
        "One character of the organisation-code part mistyped: both the inner and the outer check fail.",
        _USCC_TARGET,
    ),
    Quirk(
        "uscc.pilot",
        0.005,
        "A real early pilot code: valid inner organisation code, check character not per GB 32100.",
        _USCC_TARGET,
    ),
    Quirk("uscc.empty", 0.02, "No code at all ('' or NULL).", _USCC_TARGET),
)
_DIVISION_TARGET = ("T_QY_JBXX.XZQH",)
_DIVISIONS = (
    Quirk(
        "division.retired_code",
        0.02,
        "A retired GB/T 2260 code (320405, 320482, 320483, 320403, ...) instead of the current one.",
        _DIVISION_TARGET,
    ),
    Quirk("division.name", 0.05, "The district's name (武进区) instead of its code.", _DIVISION_TARGET),
    Quirk("division.short_name", 0.03, "The district's name without suffix (武进).", _DIVISION_TARGET),
    Quirk(
        "division.prefixed_name",
        0.03,
        "The district's name with the city prefix (常州市武进区).",
        _DIVISION_TARGET,
    ),
    Quirk("division.old_name", 0.01, "A former name (戚墅堰区, 金坛市, 郊区).", _DIVISION_TARGET),
    Quirk(
        "division.zone",
        0.01,
        "A development zone that is no division (经开区, 常州经开区, 高新区).",
        _DIVISION_TARGET,
    ),
)
_RECORDS = (
    Quirk(
        "enterprise.duplicate",
        0.087,
        "The enterprise entered again by another bureau level: another QYID, often a name variant.",
        ("T_QY_JBXX.QYID",),
        row_level=True,
    ),
    Quirk(
        "orphan.missing_enterprise",
        0.01,
        "QYID names no row of T_QY_JBXX.",
        ORPHAN_TARGETS,
        row_level=True,
    ),
    Quirk(
        "orphan.deleted_enterprise",
        0.01,
        "QYID names a soft-deleted row of T_QY_JBXX.",
        ORPHAN_TARGETS,
        row_level=True,
    ),
    Quirk("scbz.deleted", 0.02, "The row is soft-deleted (SCBZ = '1').", SCBZ_COLUMNS, row_level=True),
)
_VALIDITY = (
    Quirk(
        "validity.reversed",
        0.005,
        "Valid-to before valid-from (the two dates swapped).",
        ("T_XK_ZS.YXQZ", "T_TZZY_CZZ.YXQZ"),
    ),
    Quirk(
        "validity.too_long",
        0.01,
        "Validity longer than the type's legal maximum.",
        ("T_XK_ZS.YXQZ", "T_PX_KHHG.YXQZ", "T_TZZY_CZZ.YXQZ"),
    ),
    Quirk(
        "status.contradicts_dates",
        0.02,
        "Status 有效 on a certificate whose validity ended before the reference date 2026-11-28.",
        ("T_XK_ZS.ZSZT",),
    ),
    Quirk(
        "status.free_text",
        0.05,
        "Status written another way (正常, 1, 在用, 已过期, 失效, 4, 7) instead of 有效/过期/注销/吊销.",
        ("T_XK_ZS.ZSZT",),
    ),
)
_PEOPLE = (
    Quirk("id.first_generation", 0.01, "A 15-digit first-generation ID number.", ID_COLUMNS),
    Quirk("id.lowercase_x", 0.01, "An ID number whose check character X is typed x.", ID_COLUMNS),
    Quirk("id.bad_check", 0.005, "An 18-digit ID number with a wrong check character.", ID_COLUMNS),
    Quirk(
        "id.retired_address",
        0.01,
        "A valid ID number whose address code is retired now (320482 金坛市, 320405 戚墅堰区).",
        ID_COLUMNS,
    ),
    Quirk(
        "phone.area_parens", 0.03, "A landline with its area code in brackets, (0519)88881234.", PHONE_COLUMNS
    ),
    Quirk("phone.plus86", 0.01, "A mobile number with the country code, +86 13912345678.", PHONE_COLUMNS),
    Quirk("phone.multiple", 0.02, "Several numbers in one field, separated by /, 、 or ;.", PHONE_COLUMNS),
)
_NUMBERS = (
    Quirk(
        "number.text",
        0.03,
        "A count written with words or units (约120人, 120余人, 5000公斤).",
        NUMBER_COLUMNS,
    ),
    Quirk("coord.swapped", 0.01, "Longitude and latitude swapped.", COORD_TARGETS),
    Quirk("coord.zero", 0.02, "Longitude and latitude both 0.", COORD_TARGETS),
    Quirk(
        "coord.outside",
        0.01,
        "Coordinates far outside Changzhou (119.1-120.2 E, 31.1-32.1 N).",
        COORD_TARGETS,
    ),
)
_TIMESTAMPS = (
    Quirk("gxsj.null", 0.2, "GXSJ NULL on a row created before 2012.", GXSJ_COLUMNS),
    Quirk("gxsj.bulk", 0.03, "GXSJ shared by many rows after a bulk fix.", GXSJ_COLUMNS),
    Quirk(
        "gxsj.future",
        0.005,
        "GXSJ days after the reference date, from a server with a wrong clock.",
        GXSJ_COLUMNS,
    ),
)
_ATTRIBUTES = (
    Quirk(
        "kz.name_drift",
        0.25,
        "The attribute 储存设施地址 spelt 储存地址 or 仓储地址.",
        ("T_XK_KZ.SXMC",),
    ),
)

#: Every quirk by name, in catalogue order.
QUIRKS: Mapping[str, Quirk] = MappingProxyType(
    {
        quirk.name: quirk
        for quirk in _TEXT
        + _DATES
        + _USCC
        + _DIVISIONS
        + _RECORDS
        + _VALIDITY
        + _PEOPLE
        + _NUMBERS
        + _TIMESTAMPS
        + _ATTRIBUTES
    }
)


def resolve_rates(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """Return every quirk's rate: its default, or the override given for it.

    Args:
        overrides: rates by quirk name; a rate of 0 switches the quirk off.

    Raises:
        ValueError: for a name that is not in the catalogue or a rate outside 0..1.

    """
    rates = {name: quirk.rate for name, quirk in QUIRKS.items()}
    for name, rate in (overrides or {}).items():
        if name not in QUIRKS:
            raise ValueError(f"unknown quirk {name!r}; known quirks: {', '.join(QUIRKS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate of {name} must be between 0 and 1, not {rate}")
        rates[name] = float(rate)
    return rates
