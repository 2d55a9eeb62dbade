"""Properties of canonical JSON and the record digest: stable, order-free, and exactly as the contract defines.

The decisions pinned here: keys sorted by code point; text kept exactly as given (no Unicode normalization:
standardizers decide a value's form, the digest only fingerprints it, so NFC and NFD spellings differ);
whole numbers of any type are integers, other numbers repr(float); Decimal as float; NaN and infinities
null; dates ISO; timestamps refused; numpy scalars as the Python value they hold.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.canonical import canonical_json, record_digest

SETTINGS = settings(max_examples=300, deadline=None)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=10)
records = st.dictionaries(st.text(max_size=12), values, max_size=12)
# A record frozen with its digest: any change of encoding, key order or number form on any platform shows.
GOLDEN = (
    {
        "qymc": "常州市化工有限公司",
        "fzrq": "2019-03-05",
        "ccnl": 120,
        "xkfw": "经营：甲醇（储存）",
        "deleted": None,
    },
    "dcdeda3991e71aaeb490ce4acff68d68fe94e78cd9041893a56dbd46d7dcfc35",
)


@SETTINGS
@given(record=records, data=st.data())
def test_insertion_order_does_not_matter(record, data):
    shuffled = dict(data.draw(st.permutations(list(record.items()))))
    assert canonical_json(shuffled) == canonical_json(record)
    assert record_digest(shuffled) == record_digest(record)


@SETTINGS
@given(record=records)
def test_output_is_compact_utf8_json_with_keys_in_code_point_order(record):
    text = canonical_json(record).decode("utf-8")
    parsed = json.loads(text)
    assert list(parsed) == sorted(record, key=lambda k: [ord(c) for c in k])
    assert json.dumps(parsed, ensure_ascii=False, sort_keys=True, separators=(",", ":")) == text


@SETTINGS
@given(number=st.integers(min_value=-(2**53), max_value=2**53))
def test_whole_numbers_are_integers_whatever_their_type(number):
    forms = [
        number,
        float(number),
        decimal.Decimal(number),
        decimal.Decimal(f"{number}.000"),
        np.int64(number),
    ]
    assert {canonical_json({"n": f}) for f in forms} == {f'{{"n":{number}}}'.encode()}


@SETTINGS
@given(number=st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()))
def test_other_numbers_are_their_shortest_repr(number):
    assert canonical_json([number]) == f"[{number!r}]".encode()
    assert canonical_json([np.float64(number)]) == canonical_json([number])


def test_not_a_number_and_infinities_are_null():
    assert (
        canonical_json([float("nan"), float("inf"), -float("inf"), np.float64("nan")])
        == b"[null,null,null,null]"
    )


@SETTINGS
@given(day=st.dates())
def test_dates_are_iso_and_timestamps_refused(day):
    assert canonical_json(day) == f'"{day.isoformat()}"'.encode()
    moment = dt.datetime.combine(day, dt.time(12))
    try:
        canonical_json({"t": moment})
    except TypeError:
        pass
    else:
        raise AssertionError("a timestamp was accepted as a data value")


@SETTINGS
@given(text=st.text(min_size=1))
def test_text_is_kept_exactly_no_normalization(text):
    assert json.loads(canonical_json({"k": text}))["k"] == text
    nfd = unicodedata.normalize("NFD", text)
    if nfd != text:
        assert record_digest({"k": nfd}) != record_digest({"k": text})


def test_the_golden_record_keeps_its_digest():
    record, digest = GOLDEN
    assert record_digest(record) == digest


def test_digests_are_the_same_in_other_processes_with_other_hash_seeds():
    rng_records = [
        {"id": n, "name": "常州" * (n % 5), "value": n / 7, "day": dt.date(2020, 1, 1 + n % 28).isoformat(),
         "codes": [str(n), None, n * 1.0]}
        for n in range(200)
    ]  # fmt: skip
    here = [record_digest(r) for r in rng_records]
    program = (
        "import json, sys; from schemas.canonical import record_digest; "
        "print(json.dumps([record_digest(r) for r in json.load(sys.stdin)]))"
    )
    for seed in ("1", "2"):
        env = os.environ | {"PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", program], input=json.dumps(rng_records), env=env,
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        assert json.loads(done.stdout) == here
