"""The 18 permit and filing types (T_DM_SXLX) with what the generator needs to make their records.

Names, levels and legal validity are the legacy README's; certificate shares, number formats and
extension attributes are realistic choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

#: The extension attribute whose name drifts (kz.name_drift), and how it drifts.
STORAGE_ADDRESS = "储存设施地址"
STORAGE_ADDRESS_DRIFTS = ("储存地址", "仓储地址")


@dataclass(frozen=True)
class PermitType:
    """One of the 18 types.

    Attributes:
        code: SXBM.
        name: SXMC.
        level: SPCJ, the approving level ('市', '区' or '省').
        validity_years: YXQNS, the legal validity; None when the type does not expire.
        industries: JGHY codes of the enterprises that hold it; empty for any.
        certificates: of every 1000 certificates (T_XK_ZS), how many are of this type; 0 outside T_XK_ZS.
        number_word: the word in its certificate number (苏(常)危化经字(武进)00123).
        operation: JYFS, how the holder operates, when the type says so.
        attributes: its T_XK_KZ attribute names, the ones every certificate has first.

    """

    code: str
    name: str
    level: str
    validity_years: int | None
    industries: tuple[str, ...] = ()
    certificates: int = 0
    number_word: str = ""
    operation: str | None = None
    attributes: tuple[str, ...] = ()

    @property
    def is_filing(self) -> bool:
        """Tell whether the type is a filing (备案), whose outcome is 准予备案 rather than 准予许可."""
        return "备案" in self.name


_TRADE = ("主要负责人", "安全管理人员", "经营场所地址", "经营品种", "联系电话", "从业人员数", "仓库数量")
_PROJECT = ("项目名称", "建设地址", "项目负责人", "投资额", "设计单位", "评价单位", "建设性质")

PERMIT_TYPES: tuple[PermitType, ...] = (
    PermitType(
        "0101",
        "危险化学品经营许可证核发（带储存设施、剧毒、易制爆等）",
        "市",
        3,
        ("01",),
        115,
        "危化经字",
        "带储存",
        (STORAGE_ADDRESS, "主要负责人", "储存能力", "储存品种", "安全管理人员", "经营场所地址", "联系电话"),
    ),
    PermitType(
        "0102",
        "危险化学品经营许可证核发（不带储存设施）",
        "区",
        3,
        ("01", "11"),
        170,
        "危化经字",
        "不带储存",
        _TRADE,
    ),
    PermitType(
        "0103",
        "危险化学品安全使用许可证核发",
        "市",
        3,
        ("01",),
        45,
        "危化使字",
        None,
        ("主要负责人", "使用品种", "年使用量", "使用场所地址", STORAGE_ADDRESS, "安全管理人员", "联系电话"),
    ),
    PermitType(
        "0104",
        "危险化学品安全生产许可证（初审）",
        "省",
        3,
        ("01",),
        45,
        "危化生字",
        None,
        (STORAGE_ADDRESS, "主要负责人", "生产品种", "生产能力", "生产地址", "安全管理人员", "联系电话"),
    ),
    PermitType(
        "0201",
        "烟花爆竹经营（批发）许可证核发",
        "市",
        3,
        ("02",),
        9,
        "烟花批字",
        "批发",
        (STORAGE_ADDRESS, "主要负责人", "储存能力", "安全管理人员", "经营场所地址", "仓库数量", "联系电话"),
    ),
    PermitType("0202", "烟花爆竹经营（零售）许可证核发", "区", 2, ("02",), 255, "烟花零字", "零售", _TRADE),
    PermitType(
        "0301",
        "非煤矿山企业安全生产许可证（初审）",
        "省",
        3,
        ("03",),
        12,
        "FM安许证字",
        None,
        ("主要负责人", "矿山名称", "开采方式", "生产规模", "矿区范围", "安全管理人员", "联系电话"),
    ),
    PermitType(
        "0401", "危险化学品建设项目安全条件审查", "市", 2, ("01",), 43, "危化项目条件审字", None, _PROJECT
    ),
    PermitType(
        "0402",
        "危险化学品建设项目安全设施设计审查",
        "市",
        None,
        ("01",),
        43,
        "危化项目设计审字",
        None,
        _PROJECT,
    ),
    PermitType(
        "0403",
        "金属冶炼建设项目安全设施设计审查",
        "市",
        None,
        ("04", "05"),
        9,
        "冶金项目设计审字",
        None,
        _PROJECT,
    ),
    PermitType(
        "0404", "非煤矿山建设项目安全设施设计审查", "市", None, ("03",), 9, "FM项目设计审字", None, _PROJECT
    ),
    PermitType(
        "0405",
        "建设项目安全设施竣工验收备案",
        "区",
        None,
        ("01", "04", "05", "06", "07"),
        86,
        "项目验收备字",
        None,
        _PROJECT,
    ),
    PermitType(
        "0501",
        "第二类非药品类易制毒化学品生产、经营备案",
        "市",
        3,
        ("01",),
        57,
        "二类易制毒备字",
        "经营",
        (STORAGE_ADDRESS, "主要负责人", "备案品种", "年经营量", "经营场所地址", "安全管理人员", "联系电话"),
    ),
    PermitType(
        "0502",
        "第三类非药品类易制毒化学品生产、经营备案",
        "区",
        3,
        ("01", "11"),
        102,
        "三类易制毒备字",
        "经营",
        (STORAGE_ADDRESS, "主要负责人", "备案品种", "年经营量", "经营场所地址", "安全管理人员", "联系电话"),
    ),
    PermitType("0601", "生产经营单位生产安全事故应急预案备案", "区", 3),
    PermitType("0602", "危险化学品重大危险源备案", "区", 3, ("01",)),
    PermitType("0701", "主要负责人和安全生产管理人员安全生产知识和管理能力考核合格证明", "市", 3),
    PermitType("0702", "特种作业操作证", "省", 6),
)
PERMIT_TYPE_BY_CODE = MappingProxyType({permit.code: permit for permit in PERMIT_TYPES})
#: The types whose records are T_XK_SQ + T_XK_ZS + T_XK_KZ (0101–0502).
CERTIFICATE_TYPES = tuple(permit for permit in PERMIT_TYPES if permit.certificates)


def type_rows() -> list[dict[str, object]]:
    """Return T_DM_SXLX as the legacy holds it."""
    return [
        {"SXBM": permit.code, "SXMC": permit.name, "SPCJ": permit.level, "YXQNS": permit.validity_years}
        for permit in PERMIT_TYPES
    ]


def storage_address_share(attributes_per_certificate: float) -> float:
    """Return the expected share of T_XK_KZ rows that are 储存设施地址 (always the first attribute if any)."""
    holders = sum(
        permit.certificates for permit in CERTIFICATE_TYPES if STORAGE_ADDRESS in permit.attributes[:1]
    )
    total = sum(permit.certificates for permit in CERTIFICATE_TYPES)
    return holders / total / attributes_per_certificate
