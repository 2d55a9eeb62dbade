"""Realistic clean values: company and person names, phone numbers, chemicals, record ids.

Clean means already in the form a standardizer leaves alone: no surrounding or double spaces, half-width
Latin letters, digits and brackets (NFKC-stable), phones as ``0519-88881234`` or ``13912345678``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from types import MappingProxyType

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯史陶贺顾毛龚邵万钱严戴莫孔汤恽庄盛储"
)
_MALE_CHARS = "伟强军勇杰涛斌明超刚磊平辉建国华俊峰波鹏飞宇浩林文志忠东亮晨阳凯健海龙永春新荣德伟兵"
_FEMALE_CHARS = "芳娟敏静丽艳娜霞燕玲红梅琴云莉英慧婷雪洁瑶佳颖倩萍媛月凤兰秀珍丹琳蓉娇宁琪"
_CORE_FIRST = (
    "华恒东新金瑞宏永天盛嘉远鑫隆泰富汇德润创开博康信安兴中正和佳"
    + "明光亚龙凯豪美达昌源丰顺通诚宇腾飞科众力联星海江银宝利"
)
_CORE_SECOND = "达信通源泰丰盛华祥瑞宇昌隆鑫茂发荣升辉宏成利恒安兴海诚创科威德润康邦洲力远"

#: Supervised industries (JGHY) with words their company names use and GB/T 4754 codes (HYDM).
INDUSTRIES = MappingProxyType(
    {
        "01": (
            ("化工", "化学", "精细化工", "新材料", "石化", "化学品", "气体", "燃气"),
            ("C2614", "C2619", "C2621", "C2641", "F5162"),
        ),
        "02": (("烟花爆竹", "烟花", "鞭炮"), ("F5239", "C2672")),
        "03": (("矿业", "石业", "建材矿业"), ("B1011", "B1019")),
        "04": (("钢铁", "冶金", "特钢", "铸造"), ("C3110", "C3120", "C3130")),
        "05": (("铝业", "铜业", "有色金属"), ("C3216", "C3251")),
        "06": (("建材", "水泥", "新型建材", "玻璃"), ("C3011", "C3021")),
        "07": (
            ("机械", "精密机械", "机电", "电机", "装备", "五金", "电器", "模具", "液压", "汽车配件"),
            ("C3411", "C3441", "C3484", "C3670"),
        ),
        "08": (("食品", "包装", "塑业", "木业", "家具", "纸业"), ("C1391", "C2231", "C2922", "C2110")),
        "09": (("纺织", "印染", "服饰", "织造"), ("C1711", "C1713", "C1810")),
        "10": (("烟草",), ("C1620",)),
        "11": (("商贸", "贸易", "物流", "超市"), ("F5211", "G5941")),
        "99": (("科技", "实业", "电子"), ("I6510", "C3982")),
    }
)
#: How many of every 1000 enterprises are in each supervised industry.
INDUSTRY_WEIGHTS = MappingProxyType(
    {
        "01": 95,
        "02": 45,
        "03": 5,
        "04": 10,
        "05": 8,
        "06": 40,
        "07": 330,
        "08": 160,
        "09": 110,
        "10": 1,
        "11": 136,
        "99": 60,
    }
)
HAZCHEM = ("01",)
FIREWORKS = ("02",)

# Name endings with the legal form (QYLX) they mean, and how common each is.
_FORMS = (
    ("有限公司", "有限责任公司"),
    ("股份有限公司", "股份有限公司"),
    ("有限责任公司", "有限责任公司"),
    ("厂", "个人独资企业"),
    ("经营部", "个体工商户"),
)
_FORM_WEIGHTS = (70, 8, 10, 5, 7)
CITY_PREFIXES = ("常州市", "常州")
_PREFIXES = (*CITY_PREFIXES, "江苏", "")
_PREFIX_WEIGHTS = (45, 25, 10, 20)


@dataclass(frozen=True)
class Chemical:
    """A hazardous chemical with its (valid) CAS registry number."""

    name: str
    cas: str


CHEMICALS = tuple(
    Chemical(name, cas)
    for name, cas in (
        ("甲醇", "67-56-1"),
        ("乙醇", "64-17-5"),
        ("硫酸", "7664-93-9"),
        ("盐酸", "7647-01-0"),
        ("氢氧化钠", "1310-73-2"),
        ("氨", "7664-41-7"),
        ("甲苯", "108-88-3"),
        ("二甲苯", "1330-20-7"),
        ("丙酮", "67-64-1"),
        ("苯", "71-43-2"),
        ("氯", "7782-50-5"),
        ("硝酸", "7697-37-2"),
        ("乙酸乙酯", "141-78-6"),
        ("甲烷", "74-82-8"),
        ("过氧化氢", "7722-84-1"),
        ("氢", "1333-74-0"),
        ("次氯酸钠", "7681-52-9"),
        ("乙炔", "74-86-2"),
        ("环氧乙烷", "75-21-8"),
        ("苯乙烯", "100-42-5"),
        ("甲醛", "50-00-0"),
        ("丙烯", "115-07-1"),
        ("液化石油气", "68476-85-7"),
        ("乙酸", "64-19-7"),
    )
)


def new_id(rng: random.Random) -> str:
    """Return a GUID-like 32-character key, as the legacy makes them."""
    return f"{rng.getrandbits(128):032X}"


def person_name(rng: random.Random, male: bool | None = None) -> str:
    """Return a Chinese personal name of two or three characters."""
    if male is None:
        male = rng.random() < 0.6
    chars = _MALE_CHARS if male else _FEMALE_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
    return rng.choice(_SURNAMES) + given


def draw_industry(rng: random.Random) -> str:
    """Return a JGHY code, weighted by how common the industry is."""
    return rng.choices(tuple(INDUSTRY_WEIGHTS), weights=tuple(INDUSTRY_WEIGHTS.values()))[0]


@dataclass(frozen=True)
class CompanyName:
    """A company name in parts, so variants (with or without 常州市) can be told apart from typos."""

    prefix: str
    core: str
    form: str
    legal_form: str

    @property
    def full(self) -> str:
        """Return the name as registered."""
        return self.prefix + self.core + self.form

    @property
    def without_city(self) -> str:
        """Return the name without its 常州市/常州 prefix, as other bureau levels often typed it."""
        return self.core + self.form


def company_name(rng: random.Random, industry: str, place: str = "") -> CompanyName:
    """Return a company name of an industry (常州市华达化工有限公司); ``place`` makes a taken core unique."""
    words = INDUSTRIES[industry][0]
    core = place + rng.choice(_CORE_FIRST) + rng.choice(_CORE_SECOND) + rng.choice(words)
    form, legal_form = rng.choices(_FORMS, weights=_FORM_WEIGHTS)[0]
    if industry in FIREWORKS and rng.random() < 0.6:
        form, legal_form = "经营部", "个体工商户"
    roll = rng.random()
    # Some names carry brackets or Latin letters: the values full-width typing changes.
    if roll < 0.05:
        core += "(集团)"
    elif roll < 0.08:
        core = f"{core}(常州)"
    elif roll < 0.10:
        core = "".join(rng.choice("ABCDEFGHJKLMNPRSTWXYZ") for _ in range(rng.randint(2, 4))) + core
    prefix = rng.choices(_PREFIXES, weights=_PREFIX_WEIGHTS)[0]
    return CompanyName(prefix, core, form, legal_form)


def mobile(rng: random.Random) -> str:
    """Return a mobile number (13912345678)."""
    return rng.choice(("13", "15", "18", "17", "19")) + str(rng.randint(100_000_000, 999_999_999))


def landline(rng: random.Random) -> str:
    """Return a Changzhou landline with its area code (0519-88881234)."""
    return f"0519-{rng.randint(6, 8)}{rng.randint(1_000_000, 9_999_999)}"


def phone(rng: random.Random) -> str:
    """Return a contact number, mostly a mobile."""
    return mobile(rng) if rng.random() < 0.75 else landline(rng)


def chemicals(rng: random.Random, low: int = 1, high: int = 5) -> list[Chemical]:
    """Return a few different hazardous chemicals."""
    return rng.sample(CHEMICALS, rng.randint(low, high))


def headcount(rng: random.Random, low: int, high: int) -> int:
    """Return a head count between ``low`` and ``high``, small ones more likely."""
    return int(low * (high / low) ** (rng.random() ** 1.5))
