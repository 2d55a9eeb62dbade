"""National identifiers built to their standards: USCC, organisation code, registration number, ID number.

Clean values must be valid by construction, and each quirk must break exactly the check it claims to
break, so the arithmetic lives here in one place (python-stdnum where it has the right function).
"""

from __future__ import annotations

import datetime
import random

from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_11_10

#: Characters GB 32100 allows in a USCC (no I, O, S, V, Z); organisation codes inside a USCC use them too.
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_LETTERS = "ABCDEFGHJKLMNPQRTUWXY"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Authority 9 (market regulation), entity type 1 (enterprise).
_USCC_PREFIX = "91"


def org_char_value(char: str) -> int:
    """Return a character's value in GB 11714: digits as themselves, A=10 … Z=35."""
    return int(char) if char.isdigit() else ord(char) - ord("A") + 10


def org_code_check(body: str) -> str:
    """Return the GB 11714 check character of an 8-character organisation-code body."""
    check = (
        11 - sum(org_char_value(char) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    )
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_org_code(code: str) -> bool:
    """Tell whether an organisation code (``XXXXXXXX-X`` or without hyphen) has a correct check character."""
    body = code.replace("-", "", 1) if len(code) == 10 and code[8] == "-" else code
    if len(body) != 9 or not body.isascii() or not body[:8].isalnum() or body != body.upper():
        return False
    return org_code_check(body[:8]) == body[8]


def uscc_check(body: str) -> str:
    """Return the GB 32100 check character of a 17-character USCC body."""
    return uscc.calc_check_digit(body)


def make_uscc(office: str, org_code: str) -> str:
    """Build an enterprise's USCC from its registering office (GB/T 2260) and organisation code."""
    body = _USCC_PREFIX + office + org_code
    return body + uscc_check(body)


def old_org_code(rng: random.Random) -> str:
    """Return an all-digit organisation code as issued before 2015."""
    body = str(rng.randint(10_000_000, 99_999_999))
    return body + org_code_check(body)


def new_org_code(rng: random.Random) -> str:
    """Return an organisation code of the kind issued with USCCs since 2015 (MA + 6 characters)."""
    body = "MA" + "".join(rng.choice(USCC_CHARS) for _ in range(6))
    return body + org_code_check(body)


def pilot_uscc(rng: random.Random, office: str) -> str:
    """Return an early pilot USCC: its organisation code is valid, its check character is not GB 32100's.

    Built like the real ``91350211M00013FA1N``: organisation code ``M000`` + 4 characters + its check.
    """
    body8 = "M000" + "".join(rng.choice(USCC_CHARS) for _ in range(4))
    body = _USCC_PREFIX + office + body8 + org_code_check(body8)
    right = uscc_check(body)
    return body + rng.choice([char for char in USCC_CHARS if char != right])


def has_letter(code: str) -> bool:
    """Tell whether a code holds a letter (lower case would change it)."""
    return any(char in _USCC_LETTERS or char == "X" for char in code)


def mistype_org_part(rng: random.Random, code: str) -> str:
    """Change one character of a USCC's organisation-code body (positions 9–16) so both checks fail.

    A replacement whose value differs modulo 11 always breaks the inner GB 11714 check (its weights are
    prime to 11); the outer check is tested, not assumed.
    """
    while True:
        position = rng.randrange(8, 16)
        old = org_char_value(code[position]) % 11
        char = rng.choice([c for c in USCC_CHARS if org_char_value(c) % 11 != old])
        typo = code[:position] + char + code[position + 1 :]
        if uscc_check(typo[:17]) != typo[17]:
            return typo


def registration_number(office: str, rng: random.Random) -> str:
    """Return a 15-digit GS 15-2006 registration number of an office (ISO 7064 MOD 11,10 check digit)."""
    body = office + "0" + str(rng.randint(1_000_000, 9_999_999))
    return body + mod_11_10.calc_check_digit(body)


def id_check(body: str) -> str:
    """Return the GB 11643 check character of a 17-digit ID body."""
    # stdnum's function expects the whole number and ignores its last character.
    return ric.calc_check_digit(body + "0")


def make_id(address: str, birth: datetime.date, serial: int) -> str:
    """Build an 18-digit resident ID number; an odd serial is a man's."""
    body = f"{address}{birth:%Y%m%d}{serial:03d}"
    return body + id_check(body)


def first_generation(id18: str) -> str:
    """Return the 15-digit first-generation form of an 18-digit ID number of someone born in the 1900s."""
    return id18[:6] + id18[8:17]


def wrong_id_check(id18: str, rng: random.Random) -> str:
    """Return the ID number with a check character that is wrong."""
    return id18[:17] + rng.choice([char for char in "0123456789X" if char != id18[17]])
