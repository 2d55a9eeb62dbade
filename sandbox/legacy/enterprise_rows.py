"""T_QY_JBXX: enterprises, some entered twice by different bureau levels, with their code and division quirks.

The enterprises made here are kept (``EnterpriseBook``) so that every other table links to enterprises
that exist, are live and are of the right industry, unless an orphan quirk says otherwise.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Callable, Container, Iterator, Sequence
from dataclasses import dataclass, field

from sandbox.legacy import codes, distortions, places
from sandbox.legacy.quirks import QUIRKS
from sandbox.legacy.quotas import NOTHING, QuirkPicker
from sandbox.legacy.table_run import Row, TableRun
from sandbox.legacy.timeline import DateSpread, at_office_hours, later
from sandbox.legacy.values import (
    CITY_PREFIXES,
    INDUSTRIES,
    CompanyName,
    company_name,
    draw_industry,
    headcount,
    landline,
    mobile,
    new_id,
    person_name,
    phone,
)

#: When enterprises were entered: from before go-live (migrated) to "today", more every year.
CREATED = DateSpread(datetime.date(2007, 1, 1), growth=1.06)
# Registration numbers and old organisation codes gave way to the USCC in October 2015.
_USCC_REFORM = datetime.date(2015, 10, 1)
_FIRST_ESTABLISHED = datetime.date(1985, 1, 1)

_ALL = frozenset(QUIRKS)
_USCC_FITS = {True: _ALL, False: _ALL - {"uscc.registration_number"}}
# Replacements a twin row carrying the right USCC resolves; the twin must then stay live.
RESOLVED_BY_TWIN = frozenset({"uscc.registration_number", "uscc.organisation_code"})
_LEVEL_WEIGHTS = {"city": 15, "district": 55, "town": 30}


@dataclass(slots=True)
class Enterprise:
    """One enterprise, as every bureau level that entered it knows it."""

    qyid: str
    name: CompanyName
    industry: str
    district: places.District
    town: str
    established: datetime.date
    created: datetime.datetime
    org_code: str
    reg_number: str | None
    address: str
    business_address: str | None
    lon: str
    lat: str
    legal_rep: str
    legal_phone: str
    safety_officer: str | None
    safety_phone: str | None
    employees: int
    hydm: str
    uscc: str = ""
    uscc_quirk: str | None = None
    twin_qyid: str | None = None
    live_qyid: str | None = None
    address_names_district: bool = True
    first_level: str = ""


@dataclass
class EnterpriseBook:
    """The enterprises of T_QY_JBXX, for linking the other tables to them."""

    enterprises: list[Enterprise] = field(default_factory=list)
    deleted: list[tuple[str, Enterprise]] = field(default_factory=list)
    _live: list[Enterprise] = field(default_factory=list)
    _pools: dict[tuple[str, ...], list[Enterprise]] = field(default_factory=dict)

    def add_row(self, enterprise: Enterprise, qyid: str, deleted: bool) -> None:
        """Remember a stored row of an enterprise: its QYID is linkable when the row is live."""
        if deleted:
            self.deleted.append((qyid, enterprise))
        elif enterprise.live_qyid is None:
            enterprise.live_qyid = qyid
            self._live.append(enterprise)
            self._pools.clear()

    def choose(self, rng: random.Random, industries: Sequence[str] = ()) -> Enterprise:
        """Return a live enterprise of one of ``industries`` (any industry when empty or none has one)."""
        key = tuple(industries)
        pool = self._pools.get(key)
        if pool is None:
            pool = [enterprise for enterprise in self._live if not key or enterprise.industry in key]
            self._pools[key] = pool or self._live or self.enterprises
        return rng.choice(self._pools[key])

    def holder(self, rng: random.Random, pick: Pick, industries: Sequence[str] = ()) -> Holder:
        """Return the enterprise a record belongs to, or the orphan QYID the record's orphan quirk gives it.

        Args:
            rng: random stream of the record's table.
            pick: the record's QYID quirk picker (``TableRun.pick`` bound to QYID, or a QuirkPicker's pick).
            industries: JGHY codes that hold records of this kind; empty for any.

        """
        quirk = pick(_ORPHAN_FITS[bool(self.deleted)])
        if quirk == "orphan.missing_enterprise":
            return Holder(new_id(rng), None, quirk)
        if quirk == "orphan.deleted_enterprise":
            qyid, enterprise = rng.choice(self.deleted)
            return Holder(qyid, enterprise, quirk)
        enterprise = self.choose(rng, industries)
        return Holder(enterprise.live_qyid or enterprise.qyid, enterprise, None)


@dataclass(frozen=True)
class Holder:
    """Whose a record is: the QYID it stores, the enterprise behind it (None if missing), its orphan quirk."""

    qyid: str
    enterprise: Enterprise | None
    orphan: str | None

    def record(self, run: TableRun, key: str) -> None:
        """Record the holder's orphan quirk, if any, for a row of ``run``'s table."""
        if self.orphan is not None:
            run.record(key, None, self.orphan, self.qyid, None, "quarantined", _ORPHAN_ISSUES[self.orphan])


Pick = Callable[[Container[str] | None], str | None]
_ORPHAN_FITS = {True: None, False: _ALL - {"orphan.deleted_enterprise"}}
_ORPHAN_ISSUES = {
    "orphan.missing_enterprise": "enterprise.missing",
    "orphan.deleted_enterprise": "enterprise.deleted",
}


def no_quirk(allowed: Container[str] | None = None) -> None:
    """Pick nothing: the ``pick`` of a target that gets no quirk."""
    return None


def enterprise_rows(
    run: TableRun, book: EnterpriseBook, enterprises: int, duplicates: QuirkPicker | None
) -> Iterator[Row]:
    """Yield T_QY_JBXX rows: ``enterprises`` first rows, each followed by its twin when it has one."""
    names: set[str] = set()
    for _ in range(enterprises):
        enterprise = _new_enterprise(run.rng, names)
        book.enterprises.append(enterprise)
        enterprise.uscc_quirk = run.pick("TYSHXYDM", _USCC_FITS[enterprise.reg_number is not None])
        if duplicates is not None and _has_twin(run.rng, duplicates, enterprise):
            enterprise.twin_qyid = new_id(run.rng)
        yield _first_row(run, book, enterprise)
        if enterprise.twin_qyid is not None:
            yield _twin_row(run, book, enterprise)


def _has_twin(rng: random.Random, duplicates: QuirkPicker, enterprise: Enterprise) -> bool:
    if duplicates.pick() is not None:
        return True
    # Codes typed as the old registration number or organisation code go with entries by two levels: let
    # about half of them have a twin, so that both resolvable and unresolvable ones occur.
    return (
        enterprise.uscc_quirk in RESOLVED_BY_TWIN
        and rng.random() < 0.5
        and duplicates.take("enterprise.duplicate")
    )


def _unique_name(
    rng: random.Random, industry: str, district: places.District, names: set[str]
) -> CompanyName:
    name = company_name(rng, industry)
    for _ in range(5):
        if name.full not in names:
            break
        name = company_name(rng, industry, place=rng.choice(district.towns)[:2])
    names.add(name.full)
    return name


def _new_enterprise(rng: random.Random, names: set[str]) -> Enterprise:
    industry = draw_industry(rng)
    district = places.draw_district(rng)
    town = rng.choice(district.towns)
    created = CREATED.draw(rng)
    established = max(created - datetime.timedelta(days=rng.randint(0, 15 * 365)), _FIRST_ESTABLISHED)
    old = established < _USCC_REFORM
    address = places.address(rng, district, town)
    roll = rng.random()
    lon, lat = places.coordinates(rng, district)
    has_officer = rng.random() < 0.8
    return Enterprise(
        qyid=new_id(rng),
        name=_unique_name(rng, industry, district, names),
        industry=industry,
        district=district,
        town=town,
        established=established,
        created=at_office_hours(rng, created),
        org_code=codes.old_org_code(rng) if old else codes.new_org_code(rng),
        reg_number=codes.registration_number(rng.choice((district.code, places.CITY_CODE)), rng)
        if old
        else None,
        address=address,
        business_address=address
        if roll < 0.5
        else places.address(rng, district, town)
        if roll < 0.8
        else None,
        lon=lon,
        lat=lat,
        legal_rep=person_name(rng),
        legal_phone=phone(rng),
        safety_officer=person_name(rng) if has_officer else None,
        safety_phone=phone(rng) if has_officer else None,
        employees=headcount(rng, 3, 3000),
        hydm=rng.choice(INDUSTRIES[industry][1]),
    )


def _entering_unit(
    rng: random.Random, district: places.District, other_than: str | None = None
) -> tuple[str, str]:
    """Return the bureau level entering a row and its LRDW code (320400, 3204xx or a 9-digit town code)."""
    levels = [level for level in _LEVEL_WEIGHTS if level != other_than]
    level = rng.choices(levels, weights=[_LEVEL_WEIGHTS[level] for level in levels])[0]
    if level == "city":
        return level, places.CITY_CODE
    if level == "district":
        return level, district.code
    return level, district.town_code(rng.randrange(district.coded_towns))


def _clean_row(
    run: TableRun, enterprise: Enterprise, qyid: str, name: str, unit: str, created: datetime.datetime
) -> Row:
    rng = run.rng
    industry = enterprise.industry
    return {
        "QYID": qyid,
        "QYMC": name,
        "TYSHXYDM": enterprise.uscc,
        "ZCH": enterprise.reg_number if enterprise.reg_number and rng.random() < 0.5 else None,
        "XZQH": enterprise.district.code,
        "JDMC": enterprise.town if enterprise.address_names_district and rng.random() < 0.85 else None,
        "HYDM": enterprise.hydm,
        "JGHY": industry,
        "QYLX": enterprise.name.legal_form,
        "GSGM": "规上" if enterprise.employees >= 100 else "规下",
        "FDDBR": enterprise.legal_rep,
        "FDDBRDH": enterprise.legal_phone,
        "AQFZR": enterprise.safety_officer,
        "AQFZRDH": enterprise.safety_phone,
        "ZCDZ": enterprise.address,
        "JYDZ": enterprise.business_address,
        "JD": enterprise.lon,
        "WD": enterprise.lat,
        "CYRS": str(enterprise.employees),
        "SFWHQY": "1" if industry == "01" else "0",
        "SFSBFC": "1" if industry in ("06", "07", "08") and rng.random() < 0.15 else "0",
        "SFSAZL": "1" if industry in ("08", "11") and rng.random() < 0.1 else "0",
        "SFJSYL": "1" if industry in ("04", "05") else "0",
        "SFYXKJ": "1" if rng.random() < 0.3 else "0",
        "JYZT": rng.choices(("1", "2", "3", "4"), weights=(90, 5, 3, 2))[0],
        "LRDW": unit,
        "CJSJ": f"{created:%Y-%m-%d %H:%M:%S}",
        "GXSJ": None,
        "SCBZ": None,
    }


def _first_row(run: TableRun, book: EnterpriseBook, enterprise: Enterprise) -> Row:
    rng = run.rng
    key = enterprise.qyid
    division = _pick_division(run, enterprise, first=True)
    enterprise.first_level, unit = _entering_unit(rng, enterprise.district)
    enterprise.uscc = _enterprise_uscc(rng, enterprise)
    row = _clean_row(run, enterprise, key, enterprise.name.full, unit, enterprise.created)
    row["TYSHXYDM"] = _stored_uscc(run, key, enterprise)
    _apply_division(run, row, key, enterprise, division)
    _spoil_common(run, row, key, enterprise.created)
    book.add_row(enterprise, key, run.soft_delete(row, key))
    return row


def _twin_row(run: TableRun, book: EnterpriseBook, enterprise: Enterprise) -> Row:
    rng = run.rng
    key = enterprise.twin_qyid or ""
    division = _pick_division(run, enterprise, first=False)
    _, unit = _entering_unit(rng, enterprise.district, other_than=enterprise.first_level)
    created = at_office_hours(rng, later(rng, enterprise.created.date(), 30, 2000))
    name, padded = _name_variant(rng, enterprise.name)
    row = _clean_row(run, enterprise, key, name, unit, created)
    # The twin carries the enterprise's code as it is: that is what resolves the first row's replacements.
    run.pick("TYSHXYDM", NOTHING)
    if enterprise.uscc_quirk == "uscc.pilot":
        run.record(
            key, "TYSHXYDM", "uscc.pilot", enterprise.uscc, enterprise.uscc, "accepted", "uscc.pilot_check"
        )
    resolves = enterprise.uscc_quirk in RESOLVED_BY_TWIN
    if enterprise.uscc_quirk == "uscc.registration_number":
        row["ZCH"] = enterprise.reg_number
    _apply_division(run, row, key, enterprise, division)
    _spoil_common(
        run, row, key, created, name_fits=NOTHING if padded else None, zch_fits=NOTHING if resolves else None
    )
    if padded:
        run.record(
            key, "QYMC", "text.padding", name, name.strip(), "standardized", note="name variant of a twin row"
        )
    book.add_row(enterprise, key, run.soft_delete(row, key, allowed=NOTHING if resolves else None))
    _record_duplicate(run, key, enterprise)
    return row


def _name_variant(rng: random.Random, name: CompanyName) -> tuple[str, bool]:
    """Return the name another bureau level typed, and whether it is only padded with a space."""
    roll = rng.random()
    if roll < 0.3:
        return name.full + " ", True
    if roll < 0.75 and name.prefix in CITY_PREFIXES:
        return name.without_city, False
    if roll < 0.75 and not name.prefix:
        return places.CITY_NAME + name.full, False
    return name.full, False


def _record_duplicate(run: TableRun, key: str, enterprise: Enterprise) -> None:
    linked = enterprise.uscc_quirk not in _UNLINKABLE
    note = (
        f"same enterprise as {enterprise.qyid} (same USCC), entered by another bureau level"
        if linked
        else f"same enterprise as {enterprise.qyid}, whose USCC is unusable: nothing links the two rows"
    )
    run.record(
        key, None, "enterprise.duplicate", None, enterprise.qyid, "accepted", decidable=linked, note=note
    )


def _spoil_common(
    run: TableRun,
    row: Row,
    key: str,
    created: datetime.datetime,
    *,
    name_fits: frozenset[str] | None = None,
    zch_fits: frozenset[str] | None = None,
) -> None:
    run.spoil(row, key, "QYMC", allowed=name_fits)
    run.spoil(row, key, "ZCH", allowed=zch_fits)
    for column in ("JDMC", "QYLX", "FDDBR", "AQFZR", "ZCDZ", "JYDZ", "CYRS", "CJSJ"):
        run.spoil(row, key, column)
    for column in ("FDDBRDH", "AQFZRDH"):
        row[column] = _phone(run, key, column, row[column])
    run.locate(row, key, row["JD"], row["WD"])
    run.timestamp(row, key, created)


def _phone(run: TableRun, key: str, column: str, clean: str | None) -> str | None:
    if clean is None:
        run.pick(column, NOTHING)
        return None
    quirk = run.pick(column)
    if quirk is None:
        return clean
    rng = run.rng
    note = None
    if quirk == "null.standin":
        raw = rng.choice(distortions.NULL_STANDINS)
        run.record(key, column, quirk, raw, None, "nulled")
        return raw
    if quirk == "phone.area_parens":
        clean = landline(rng)
        raw = distortions.parenthesize_area_code(clean)
    elif quirk == "phone.plus86":
        clean = mobile(rng)
        raw = distortions.with_country_code(rng, clean)
    else:
        numbers = [clean, *(phone(rng) for _ in range(rng.randint(1, 2)))]
        raw = distortions.join_phones(rng, numbers)
        # The field standardizes to every number, ';'-joined; an item keeping one number takes the first.
        clean = ";".join(numbers)
        note = f"{len(numbers)} numbers; the first is the contact number"
    run.record(key, column, quirk, raw, clean, "standardized", note=note)
    return raw


# --- divisions -------------------------------------------------------------------------------------

_OLD_NAMES_OF = {
    code: tuple(name for name, to in places.OLD_NAMES.items() if to == code)
    for code in places.DISTRICT_BY_CODE
}
_ZONES_OF = {
    code: tuple(name for name, to in places.ZONES.items() if to == code) for code in places.DISTRICT_BY_CODE
}
_DIVISION_FITS = {
    code: _ALL
    - (frozenset() if _OLD_NAMES_OF[code] else {"division.old_name"})
    - (frozenset() if _ZONES_OF[code] else {"division.zone"})
    for code in places.DISTRICT_BY_CODE
}


def _pick_division(run: TableRun, enterprise: Enterprise, *, first: bool) -> tuple[str | None, str | None]:
    """Pick a row's division quirk; a split retired code on a first row may strip the address's district."""
    rng = run.rng
    quirk = run.pick("XZQH", _DIVISION_FITS[enterprise.district.code])
    if quirk != "division.retired_code":
        return quirk, None
    retired = rng.choice(places.RETIRED_BY_DISTRICT[enterprise.district.code])
    if first and places.RETIRED_CODES[retired].ambiguous and rng.random() < 0.5:
        # Half of the split codes come with addresses that name no district: those cannot be decided.
        enterprise.address = places.address_without_district(rng)
        enterprise.business_address = None
        enterprise.address_names_district = False
    return quirk, retired


def _division_text(rng: random.Random, quirk: str, district: places.District) -> str:
    if quirk == "division.name":
        return district.name
    if quirk == "division.short_name":
        return district.short
    if quirk == "division.prefixed_name":
        return rng.choice((places.CITY_NAME, "江苏省" + places.CITY_NAME)) + district.name
    if quirk == "division.old_name":
        return rng.choice(_OLD_NAMES_OF[district.code])
    return rng.choice(_ZONES_OF[district.code])


def _apply_division(
    run: TableRun, row: Row, key: str, enterprise: Enterprise, division: tuple[str | None, str | None]
) -> None:
    quirk, retired = division
    if quirk is None:
        return
    district = enterprise.district
    if retired is None:
        row["XZQH"] = raw = _division_text(run.rng, quirk, district)
        run.record(key, "XZQH", quirk, raw, district.code, "standardized")
        return
    row["XZQH"] = retired
    info = places.RETIRED_CODES[retired]
    if info.ambiguous and not enterprise.address_names_district:
        note = f"{retired} {info.name} went to {' and '.join(info.successors)}; ZCDZ/JYDZ name no district"
        run.record(key, "XZQH", quirk, retired, None, "quarantined", "division.ambiguous", note=note)
    else:
        why = f"{retired} split; ZCDZ names {district.name}" if info.ambiguous else None
        run.record(key, "XZQH", quirk, retired, district.code, "standardized", note=why)


# --- codes -----------------------------------------------------------------------------------------

_UNLINKABLE = frozenset({"uscc.truncated", "uscc.typo", "uscc.empty"})


def _enterprise_uscc(rng: random.Random, enterprise: Enterprise) -> str:
    """Return the enterprise's real code, built to fit its quirk (all digits to be truncated, say)."""
    office = enterprise.district.code if rng.random() < 0.7 else places.CITY_CODE
    quirk = enterprise.uscc_quirk
    if quirk == "uscc.pilot":
        code = codes.pilot_uscc(rng, office)
        enterprise.org_code = code[8:17]
        return code
    if quirk == "uscc.truncated":
        enterprise.org_code, code = _all_digit_uscc(rng, office)
        return code
    code = codes.make_uscc(office, enterprise.org_code)
    while quirk == "uscc.lowercase" and not codes.has_letter(code):
        enterprise.org_code = codes.new_org_code(rng)
        code = codes.make_uscc(office, enterprise.org_code)
    return code


def _all_digit_uscc(rng: random.Random, office: str) -> tuple[str, str]:
    """Return an organisation code and USCC of digits only whose truncated form fails the check."""
    while True:
        org_code = codes.old_org_code(rng)
        code = codes.make_uscc(office, org_code)
        truncated = distortions.truncate_uscc(code)
        if code.isdigit() and truncated != code and codes.uscc_check(truncated[:17]) != truncated[17]:
            return org_code, code


Stored = tuple[str | None, str | None, str, str | None, str | None]  # raw, expected, outcome, issue, note


def _fixed(raw: str, enterprise: Enterprise) -> Stored:
    return raw, enterprise.uscc, "standardized", None, None


def _replaced(raw: str | None, enterprise: Enterprise, issue: str, how: str) -> Stored:
    if enterprise.twin_qyid is not None:
        return (
            raw,
            enterprise.uscc,
            "standardized",
            None,
            f"resolved by twin row {enterprise.twin_qyid}: {how}",
        )
    return raw, None, "quarantined", issue, "no other row of this enterprise carries its USCC"


_USCC_STORAGE = {
    "uscc.lowercase": lambda rng, e: _fixed(e.uscc.lower(), e),
    "uscc.spaced": lambda rng, e: _fixed(distortions.space_uscc(rng, e.uscc), e),
    "uscc.fullwidth": lambda rng, e: _fixed(distortions.widen(e.uscc), e),
    "uscc.registration_number": lambda rng, e: _replaced(
        e.reg_number, e, "uscc.registration_number", "its ZCH holds this registration number"
    ),
    "uscc.organisation_code": lambda rng, e: _replaced(
        distortions.organisation_code_text(rng, e.org_code),
        e,
        "uscc.organisation_code",
        "its USCC holds this code",
    ),
    "uscc.truncated": lambda rng, e: (
        distortions.truncate_uscc(e.uscc),
        None,
        "quarantined",
        "uscc.truncated",
        None,
    ),
    "uscc.typo": lambda rng, e: (
        codes.mistype_org_part(rng, e.uscc),
        None,
        "quarantined",
        "uscc.bad_check",
        "the organisation-code part fails GB 11714 too: a typo, not a pilot code",
    ),
    "uscc.pilot": lambda rng, e: (
        e.uscc,
        e.uscc,
        "accepted",
        "uscc.pilot_check",
        "organisation code valid: a real early pilot code",
    ),
    "uscc.empty": lambda rng, e: (rng.choice(("", None)), None, "quarantined", "uscc.missing", None),
}


def _stored_uscc(run: TableRun, key: str, enterprise: Enterprise) -> str | None:
    """Return what the first row stores in TYSHXYDM, recording its quirk."""
    quirk = enterprise.uscc_quirk
    if quirk is None:
        return enterprise.uscc
    raw, expected, outcome, issue, note = _USCC_STORAGE[quirk](run.rng, enterprise)
    run.record(key, "TYSHXYDM", quirk, raw, expected, outcome, issue, note=note)
    return raw
