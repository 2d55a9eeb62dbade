"""T_XK_SQ, T_XK_ZS and T_XK_KZ: applications, the certificates they led to, and their EAV attributes.

A plan made before the rows ties them together: most certificates come from an application finished on
the day they were issued; certificates issued before the system went live (April 2009) were migrated and
have none. The plan holds one small record per certificate and application, not their rows.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from sandbox.legacy import places
from sandbox.legacy.enterprise_rows import EnterpriseBook, Holder, no_quirk
from sandbox.legacy.permit_types import CERTIFICATE_TYPES, STORAGE_ADDRESS, STORAGE_ADDRESS_DRIFTS, PermitType
from sandbox.legacy.quirks import QUIRKS
from sandbox.legacy.quotas import NOTHING, QuirkPicker
from sandbox.legacy.table_run import DATE_SHAPES, VALIDITY_QUIRKS, Row, TableRun
from sandbox.legacy.timeline import LAST_DAY, REFERENCE_DATE, SYSTEM_LIVE, DateSpread, later, validity_end
from sandbox.legacy.values import chemicals, company_name, headcount, new_id, person_name, phone

#: When certificates were issued (the oldest were migrated), and when other applications were made.
ISSUED = DateSpread(datetime.date(2004, 1, 1), growth=1.08)
MIGRATED = DateSpread(datetime.date(2004, 1, 1), SYSTEM_LIVE - datetime.timedelta(days=1))
SUBMITTED = DateSpread(SYSTEM_LIVE, growth=1.08)

_CERTIFICATE_WEIGHTS = [permit.certificates for permit in CERTIFICATE_TYPES]
_MAX_ATTRIBUTES = 7
_REFORM = datetime.date(2019, 3, 1)

# Certificate status: clean words, the other ways the legacy wrote them, and the catalogue's codes
# (catalog/codelists/certificate_status.yaml).
STATUS_CODES = {"有效": "01", "注销": "04", "过期": "05", "吊销": "07"}
STATUS_VARIANTS = {
    "有效": ("正常", "1", "在用", "有效期内"),
    "注销": ("4",),
    "过期": ("失效", "已过期", "5"),
    "吊销": ("7",),
}
_ALL = frozenset(QUIRKS)
_STATUS_FITS = {True: _ALL, False: _ALL - {"status.contradicts_dates"}}

# Application states (BLZT) of applications that led to no certificate, with their results (BJJG).
_OTHER_STATES = ("4", "5", "6", "7", "0", "1", "2", "3")
_OTHER_STATE_WEIGHTS = (45, 15, 10, 10, 5, 5, 5, 5)
_RESULTS = {"4": ("准予变更", "准予延续"), "5": ("退回",), "6": ("不予许可",), "7": ("撤回",)}


@dataclass(slots=True)
class Certificate:
    """A certificate to be written to T_XK_ZS, with what its application and attributes need."""

    zsid: str
    sqid: str | None
    permit: PermitType
    holder: Holder
    district: places.District
    issued: datetime.date
    years: int | None
    attributes: int = 0


@dataclass(slots=True)
class Application:
    """An application to be written to T_XK_SQ; ``certificate`` is the one it led to, if any."""

    sqid: str
    permit: PermitType
    submitted: datetime.date
    state: str
    certificate: Certificate | None = None


@dataclass
class PermitPlan:
    """Certificates and applications, planned together so that their links hold."""

    certificates: list[Certificate]
    applications: list[Application]


def plan_permits(
    rng: random.Random, book: EnterpriseBook, counts: Mapping[str, int], orphans: QuirkPicker | None
) -> PermitPlan:
    """Plan the certificates, their applications and attribute counts.

    Args:
        rng: the plan's random stream.
        book: the enterprises certificates belong to.
        counts: rows of T_XK_ZS, T_XK_SQ and T_XK_KZ.
        orphans: the picker of T_XK_ZS.QYID (orphan certificates pass their QYID to their application).

    """
    pick = orphans.pick if orphans is not None else no_quirk
    links_left = counts["T_XK_SQ"]
    certificates = []
    for _ in range(counts["T_XK_ZS"]):
        permit = rng.choices(CERTIFICATE_TYPES, weights=_CERTIFICATE_WEIGHTS)[0]
        issued = ISSUED.draw(rng)
        if issued >= SYSTEM_LIVE and not links_left:
            issued = MIGRATED.draw(rng)
        linked = issued >= SYSTEM_LIVE
        links_left -= linked
        holder = book.holder(rng, pick, permit.industries)
        district = holder.enterprise.district if holder.enterprise else places.draw_district(rng)
        years = rng.choice((1, 2)) if permit.code == "0202" else permit.validity_years
        certificates.append(
            Certificate(new_id(rng), new_id(rng) if linked else None, permit, holder, district, issued, years)
        )
    _plan_attributes(rng, certificates, counts["T_XK_KZ"])
    applications = [
        Application(cert.sqid, cert.permit, _submitted_before(rng, cert.issued), "4", cert)
        for cert in certificates
        if cert.sqid is not None
    ]
    applications += [_other_application(rng) for _ in range(counts["T_XK_SQ"] - len(applications))]
    rng.shuffle(applications)
    return PermitPlan(certificates, applications)


def _submitted_before(rng: random.Random, issued: datetime.date) -> datetime.date:
    return max(issued - datetime.timedelta(days=rng.randint(10, 60)), SYSTEM_LIVE)


def _other_application(rng: random.Random) -> Application:
    permit = rng.choices(CERTIFICATE_TYPES, weights=_CERTIFICATE_WEIGHTS)[0]
    state = rng.choices(_OTHER_STATES, weights=_OTHER_STATE_WEIGHTS)[0]
    # Open applications are recent; finished ones spread over the system's life.
    submitted = LAST_DAY - datetime.timedelta(days=rng.randint(0, 90)) if state < "4" else SUBMITTED.draw(rng)
    return Application(new_id(rng), permit, submitted, state)


def _plan_attributes(rng: random.Random, certificates: list[Certificate], total: int) -> None:
    """Share ``total`` attribute rows among the certificates: 1 to 7 each, every total hit exactly."""
    if not certificates:
        return
    base, extra = divmod(total, len(certificates))
    counts = [base] * len(certificates)
    for index in rng.sample(range(len(counts)), extra):
        counts[index] += 1
    for _ in range(len(counts) // 2):
        more, fewer = rng.randrange(len(counts)), rng.randrange(len(counts))
        if counts[more] < _MAX_ATTRIBUTES and counts[fewer] > 2:
            counts[more] += 1
            counts[fewer] -= 1
    for certificate, count in zip(certificates, counts, strict=True):
        certificate.attributes = count


# --- T_XK_SQ ---------------------------------------------------------------------------------------


def application_rows(run: TableRun, plan: PermitPlan, book: EnterpriseBook) -> Iterator[Row]:
    """Yield T_XK_SQ rows in the plan's order."""
    clerks = [person_name(run.rng) for _ in range(60)]
    serials: Counter[tuple[str, int]] = Counter()
    for application in plan.applications:
        yield _application_row(run, application, book, clerks, serials)


def _application_row(
    run: TableRun,
    application: Application,
    book: EnterpriseBook,
    clerks: list[str],
    serials: Counter[tuple[str, int]],
) -> Row:
    rng = run.rng
    key = application.sqid
    certificate = application.certificate
    accepted: datetime.date | None
    finished: datetime.date | None
    result: str | None
    if certificate is not None:
        run.pick("QYID", NOTHING)  # a certificate's application shares its holder
        holder, district = certificate.holder, certificate.district
        accepted = min(application.submitted + datetime.timedelta(days=rng.randint(0, 7)), certificate.issued)
        finished = certificate.issued
        result = "准予备案" if application.permit.is_filing else "准予许可"
    else:
        holder = book.holder(rng, lambda allowed: run.pick("QYID", allowed), application.permit.industries)
        district = holder.enterprise.district if holder.enterprise else places.draw_district(rng)
        accepted, finished, result = _progress(rng, application)
    serial_key = (district.code, (accepted or application.submitted).year)
    serials[serial_key] += 1
    level_division = places.CITY_CODE if application.permit.level != "区" else district.code
    row: Row = {
        "SQID": key,
        "SXBM": application.permit.code,
        "QYID": holder.qyid,
        "SQRQ": application.submitted.isoformat(),
        "SLBH": f"{district.code}XK{serial_key[1]}{serials[serial_key]:05d}" if accepted else None,
        "SLRQ": accepted.isoformat() if accepted else None,
        "BLZT": application.state,
        "BJRQ": finished.isoformat() if finished else None,
        "BJJG": result,
        "CBR": rng.choice(clerks) if accepted else None,
        "SPJG": places.bureau_name(level_division, finished or application.submitted),
    }
    for column in ("SQRQ", "SLRQ", "BJRQ", "SLBH", "CBR"):
        run.spoil(row, key, column)
    holder.record(run, key)
    run.timestamp(row, key, finished or application.submitted)
    run.soft_delete(row, key)
    return row


def _progress(
    rng: random.Random, application: Application
) -> tuple[datetime.date | None, datetime.date | None, str | None]:
    """Return acceptance day, finishing day and result of an application that led to no certificate."""
    if application.state == "0":
        return None, None, None
    accepted = later(rng, application.submitted, 0, 7)
    if application.state < "4":
        return accepted, None, None
    return accepted, later(rng, accepted, 5, 60), rng.choice(_RESULTS[application.state])


# --- T_XK_ZS ---------------------------------------------------------------------------------------


def certificate_rows(run: TableRun, plan: PermitPlan) -> Iterator[Row]:
    """Yield T_XK_ZS rows in the plan's order."""
    serials: Counter[str] = Counter()
    for certificate in plan.certificates:
        serials[certificate.permit.code] += 1
        yield _certificate_row(run, certificate, serials[certificate.permit.code])


def _certificate_row(run: TableRun, certificate: Certificate, serial: int) -> Row:
    rng = run.rng
    key = certificate.zsid
    permit = certificate.permit
    issued = certificate.issued
    valid_to = validity_end(issued, certificate.years) if certificate.years else None
    row: Row = {
        "ZSID": key,
        "SQID": certificate.sqid,
        "SXBM": permit.code,
        "QYID": certificate.holder.qyid,
        "ZSBH": _certificate_number(permit, certificate.district, issued, serial),
        "FZRQ": issued.isoformat(),
        "YXQQ": issued.isoformat(),
        "YXQZ": valid_to.isoformat() if valid_to else None,
        "FZJG": places.bureau_name(
            places.CITY_CODE if permit.level != "区" else certificate.district.code, issued
        ),
        "XKFW": _scope(rng, permit),
        "JYFS": permit.operation,
        "ZSZT": None,
    }
    if certificate.years:
        end_quirk, end = run.spoil_validity(
            row, key, issued, certificate.years, "YXQQ", legal_years=permit.validity_years
        )
    else:
        end_quirk, end = run.pick("YXQZ", NOTHING), None
    run.spoil(row, key, "FZRQ")
    run.spoil(row, key, "YXQQ", allowed=DATE_SHAPES if end_quirk in VALIDITY_QUIRKS else None)
    _status(run, row, key, end_quirk, end)
    run.spoil(row, key, "XKFW")
    run.spoil(row, key, "JYFS")
    certificate.holder.record(run, key)
    run.timestamp(row, key, issued)
    run.soft_delete(row, key)
    return row


def _status(run: TableRun, row: Row, key: str, end_quirk: str | None, end: datetime.date | None) -> None:
    """Set ZSZT from the end of validity, then give it its status quirk."""
    roll = run.rng.random()
    if roll < 0.04:
        status = "注销"
    elif roll < 0.05:
        status = "吊销"
    else:
        status = "有效" if end is None or end >= REFERENCE_DATE else "过期"
    # A contradiction needs an end date a standardizer can read and trust.
    readable = end_quirk is None or end_quirk in DATE_SHAPES
    quirk = run.pick("ZSZT", _STATUS_FITS[status == "过期" and readable])
    if quirk == "status.free_text":
        row["ZSZT"] = run.rng.choice(STATUS_VARIANTS[status])
        run.record(key, "ZSZT", quirk, row["ZSZT"], STATUS_CODES[status], "standardized")
    elif quirk == "status.contradicts_dates":
        row["ZSZT"] = "有效"
        note = "validity ended before the reference date 2026-11-28"
        run.record(key, "ZSZT", quirk, "有效", STATUS_CODES["过期"], "standardized", quirk, note=note)
    else:
        row["ZSZT"] = status


def _certificate_number(
    permit: PermitType, district: places.District, issued: datetime.date, serial: int
) -> str:
    """Return ZSBH: 苏(常)危化经字(武进)00123, or 常应急危化项目条件审字[2019]012号 for project reviews."""
    if permit.code.startswith("04"):
        bureau = "常安监" if issued < _REFORM else "常应急"
        return f"{bureau}{permit.number_word}[{issued.year}]{serial % 1000:03d}号"
    return f"苏(常){permit.number_word}({district.short}){serial:05d}"


def _scope(rng: random.Random, permit: PermitType) -> str:
    """Return XKFW, what the certificate covers."""
    family = permit.code[:2]
    if family in ("01", "05"):
        return "、".join(chemical.name for chemical in chemicals(rng, 2, 8))
    if permit.code == "0201":
        return "烟花爆竹批发(A级、B级、C级、D级)"
    if permit.code == "0202":
        return "个人燃放类烟花爆竹零售"
    if permit.code == "0301":
        return rng.choice(("石灰岩", "建筑用石料", "膨润土", "石英砂")) + rng.choice(("露天开采", "地下开采"))
    return _project_name(rng)


def _project_name(rng: random.Random) -> str:
    product = rng.choice(("精细化学品", "电子化学品", "铸件", "特种钢", "新型建材", "涂料", "树脂"))
    return f"年产{rng.randint(1, 50)}万吨{product}项目"


# --- T_XK_KZ ---------------------------------------------------------------------------------------


def attribute_rows(run: TableRun, plan: PermitPlan) -> Iterator[Row]:
    """Yield T_XK_KZ rows: each certificate's first ``attributes`` attributes, names drifting sometimes."""
    rng = run.rng
    for certificate in plan.certificates:
        for name in certificate.permit.attributes[: certificate.attributes]:
            key = new_id(rng)
            stored = name
            if name == STORAGE_ADDRESS:
                quirk = run.pick("SXMC")
                if quirk is not None:
                    stored = rng.choice(STORAGE_ADDRESS_DRIFTS)
                    run.record(key, "SXMC", quirk, stored, STORAGE_ADDRESS, "standardized")
            else:
                run.pick("SXMC", NOTHING)
            yield {
                "KZID": key,
                "ZSID": certificate.zsid,
                "SXMC": stored,
                "SXZ": _attribute_value(rng, name, certificate),
            }


def _address_of(rng: random.Random, certificate: Certificate) -> str:
    enterprise = certificate.holder.enterprise
    town = enterprise.town if enterprise else rng.choice(certificate.district.towns)
    return places.address(rng, certificate.district, town)


_ATTRIBUTE_VALUES: dict[str, Callable[[random.Random, Certificate], str]] = {
    "地址": _address_of,
    "负责人": lambda rng, c: person_name(rng),
    "人员": lambda rng, c: person_name(rng),
    "品种": lambda rng, c: "、".join(chemical.name for chemical in chemicals(rng)),
    "储存能力": lambda rng, c: f"{headcount(rng, 5, 5000)}吨",
    "仓库数量": lambda rng, c: str(rng.randint(1, 6)),
    "量": lambda rng, c: f"{headcount(rng, 1, 20000)}吨/年",
    "能力": lambda rng, c: f"{headcount(rng, 1, 50)}万吨/年",
    "数": lambda rng, c: str(headcount(rng, 1, 200)),
    "电话": lambda rng, c: phone(rng),
    "矿山名称": lambda rng, c: (
        f"{c.district.short}{rng.choice('东西南北')}山{rng.choice(('石灰石矿', '采石场'))}"
    ),
    "开采方式": lambda rng, c: rng.choice(("露天开采", "地下开采")),
    "生产规模": lambda rng, c: f"{headcount(rng, 5, 300)}万吨/年",
    "矿区范围": lambda rng, c: f"由{rng.randint(4, 12)}个拐点圈定",
    "项目名称": lambda rng, c: _project_name(rng),
    "投资额": lambda rng, c: f"{headcount(rng, 100, 200000)}万元",
    "单位": lambda rng, c: company_name(rng, "99").core + rng.choice(("设计院有限公司", "安全技术有限公司")),
    "建设性质": lambda rng, c: rng.choice(("新建", "改建", "扩建")),
}


def _attribute_value(rng: random.Random, name: str, certificate: Certificate) -> str:
    """Return SXZ for an attribute, chosen by the attribute name (exact, else by its ending)."""
    make = _ATTRIBUTE_VALUES.get(name)
    if make is None:
        make = next(value for ending, value in _ATTRIBUTE_VALUES.items() if name.endswith(ending))
    return make(rng, certificate)
