"""How each quirk turns a clean value into what the legacy stores: pure functions of a random stream.

Each function keeps the clean value recoverable when its quirk is one a standardizer can fix (its truth
is ``standardized``) and destroys it when the quirk is one that must be quarantined.
"""

from __future__ import annotations

import datetime
import random
import re

NULL_STANDINS = ("", "无", "/", "-", "--", "暂无", "NULL", "null", "0")

_FULLWIDTH_OFFSET = 0xFEE0
_WIDENABLE = re.compile(r"[0-9A-Za-z()]")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)


def widen(text: str) -> str:
    """Return the text with its Latin letters, digits and round brackets typed full width."""
    return _WIDENABLE.sub(lambda match: chr(ord(match.group()) + _FULLWIDTH_OFFSET), text)


def can_widen(text: str) -> bool:
    """Tell whether typing the text full width would change it."""
    return _WIDENABLE.search(text) is not None


def pad(rng: random.Random, text: str) -> str:
    """Surround the text with ASCII spaces on one side or both."""
    return rng.choice((" " + text, text + " ", "  " + text, text + "  ", " " + text + " "))


def pad_ideographic(rng: random.Random, text: str) -> str:
    """Surround the text with U+3000 ideographic spaces on one side or both."""
    return rng.choice(("\u3000" + text, text + "\u3000", "\u3000" + text + "\u3000"))


def insert_zero_width(rng: random.Random, text: str) -> str:
    """Hide a zero-width space inside the text, or a BOM before it."""
    if rng.random() < 0.2:
        return "\ufeff" + text
    cut = rng.randint(1, max(len(text) - 1, 1))
    return text[:cut] + "\u200b" + text[cut:]


def break_line(rng: random.Random, text: str) -> str:
    """Break the text in two with LF or CRLF, as a wrapped form field stores it (never inside a number)."""
    cuts = [cut for cut in range(2, len(text) - 1) if not (text[cut - 1].isascii() and text[cut].isascii())]
    cut = rng.choice(cuts) if cuts else len(text) // 2
    return text[:cut] + rng.choice(("\n", "\r\n")) + text[cut:]


TEXT_DISTORTIONS = {
    "text.padding": pad,
    "text.ideographic_space": pad_ideographic,
    "text.zero_width": insert_zero_width,
    "text.line_break": break_line,
    "text.fullwidth": lambda rng, text: widen(text),
}


def impossible_date(rng: random.Random, day: datetime.date) -> str:
    """Return a date of the same year and month (or February) that does not exist."""
    if day.month in (4, 6, 9, 11):
        return f"{day.year}-{day.month:02d}-31"
    return f"{day.year}-02-{rng.choice((30, 31))}"


def reshape_date(quirk: str, rng: random.Random, day: datetime.date) -> str:
    """Write a date in the shape a date quirk names (date.slash → 2019/3/5)."""
    shapes = {
        "date.slash": lambda: f"{day.year}/{day.month}/{day.day}",
        "date.compact": lambda: f"{day:%Y%m%d}",
        "date.dotted": lambda: f"{day:%Y.%m.%d}",
        "date.chinese": lambda: f"{day.year}年{day.month}月{day.day}日",
        "date.with_time": lambda: f"{day:%Y-%m-%d} 00:00:00",
        "date.excel_serial": lambda: str((day - _EXCEL_EPOCH).days),
        "date.impossible": lambda: impossible_date(rng, day),
        "date.zero": lambda: "0000-00-00",
        "date.placeholder": lambda: "1900-01-01",
    }
    return shapes[quirk]()


def approximate_number(rng: random.Random, number: str, unit: str) -> str:
    """Write a count the way clerks did: with 约, 余 or a unit (约120人, 120余人, 5000公斤)."""
    shapes = [f"约{number}{unit}", f"{number}{unit}", f"约{number}"]
    if unit == "人":
        shapes.append(f"{number}余人")
    return rng.choice(shapes)


def parenthesize_area_code(landline: str) -> str:
    """Write a landline with its area code in brackets: 0519-88881234 → (0519)88881234."""
    area, number = landline.split("-")
    return f"({area}){number}"


def with_country_code(rng: random.Random, mobile: str) -> str:
    """Write a mobile number with China's country code."""
    return rng.choice(("+86 ", "+86-", "+86")) + mobile


def join_phones(rng: random.Random, numbers: list[str]) -> str:
    """Write several numbers into one field."""
    return rng.choice(("/", "、", ";", " / ")).join(numbers)


def space_uscc(rng: random.Random, code: str) -> str:
    """Write a USCC with separators between its parts (91 320412 MA1K3BTP2X)."""
    separator = rng.choice((" ", "-"))
    if rng.random() < 0.5:
        return separator.join((code[:2], code[2:8], code[8:]))
    return separator.join(code[index : index + 4] for index in range(0, 18, 4))


def organisation_code_text(rng: random.Random, org_code: str) -> str:
    """Write a 9-character organisation code as printed (XXXXXXXX-X) or without its hyphen."""
    return f"{org_code[:8]}-{org_code[8]}" if rng.random() < 0.6 else org_code


def truncate_uscc(code: str) -> str:
    """Return an all-digit USCC after a spreadsheet kept only its first 15 significant digits."""
    return code[:15] + "000"


def lowercase_x(id18: str) -> str:
    """Return an ID number ending in X with the x typed in lower case."""
    return id18[:17] + "x"
