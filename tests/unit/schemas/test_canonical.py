import datetime as dt
import decimal

import pytest

from schemas.canonical import canonical_json, record_digest, sm3_hex, sorted_lines_digest


def test_sm3_vectors_from_the_standard():
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_the_cryptography_build_carries_sm4_as_the_standard_defines_it():
    """GB/T 32907's vector: an OpenSSL built without the 国密 ciphers would fail here, not in production."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()  # noqa: S305 - the standard's ECB vector
    assert (encryptor.update(key) + encryptor.finalize()).hex() == "681edf34d206965e86b3e94f536e4246"


def test_canonical_json_follows_the_contract():
    data = {
        "b": 120.0,
        "a": "常州",
        "c": None,
        "d": dt.date(2019, 3, 5),
        "e": 1.5,
        "f": decimal.Decimal("7.00"),
    }
    assert canonical_json(data) == '{"a":"常州","b":120,"c":null,"d":"2019-03-05","e":1.5,"f":7}'.encode()


def test_keys_sorted_by_code_point_not_locale():
    assert canonical_json({"é": 1, "z": 2, "A": 3}) == '{"A":3,"z":2,"é":1}'.encode()


def test_delete_digest_is_sm3_of_null():
    assert record_digest(None) == sm3_hex(b"null")


def test_timestamps_are_refused_as_data():
    with pytest.raises(TypeError):
        canonical_json({"t": dt.datetime(2026, 1, 1)})


def test_sorted_lines_use_utf8_byte_order_and_no_trailing_newline():
    pairs = [("b", "2"), ("a", "1"), ("é", "3")]
    assert sorted_lines_digest(pairs) == sm3_hex(b"a:1\nb:2\n\xc3\xa9:3")
    assert sorted_lines_digest([]) == sm3_hex(b"")
