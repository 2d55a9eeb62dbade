"""Looking for secrets and unmasked personal data in what a run leaves outside the curated records."""

from __future__ import annotations

import re
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlalchemy as sa
from stdnum.cn import ric

# Distinctive enough that finding one anywhere can only be a leak.
DB_PASSWORD = "dbPw-7Hq2zXv9-curated"  # noqa: S105 - a test credential, to prove it never leaks
APP_SECRET = "appSecret-4Kd9Qm2-gw"  # noqa: S105 - a test credential, to prove it never leaks
SMTP_PASSWORD = "smtpPw-8Lq3Vb-alert"  # noqa: S105 - a test credential, to prove it never leaks
SECRETS = (DB_PASSWORD, APP_SECRET, SMTP_PASSWORD)

_ID_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
# Staging Parquet holds the raw rows on their way to the curated database, as that database does.
RAW_DATA_SUFFIXES = (".parquet",)


def secret_forms(secret: str) -> set[str]:
    """The secret as typed and as it appears inside a URL."""
    return {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}


def personal_values(legacy_url: str) -> set[str]:
    """Every resident ID number and mobile phone number held anywhere in the legacy database."""
    engine = sa.create_engine(legacy_url)
    found: set[str] = set()
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for table in metadata.tables.values():
                texts = [c for c in table.columns if isinstance(c.type, sa.String)]
                for row in conn.execute(sa.select(*texts)) if texts else ():
                    for value in row:
                        if value:
                            found |= {m for m in _ID_CANDIDATE.findall(str(value)) if ric.is_valid(m)}
                            found |= set(_MOBILE.findall(str(value)))
    finally:
        engine.dispose()
    return found


def file_texts(folder: Path) -> Iterator[tuple[str, str]]:
    """(name, text) of every file under `folder`, workbooks opened, raw-data staging files left out."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix in RAW_DATA_SUFFIXES:
            continue
        if zipfile.is_zipfile(path):  # xlsx: the sheets' XML
            with zipfile.ZipFile(path) as book:
                for member in book.namelist():
                    yield f"{path}!{member}", book.read(member).decode("utf-8", "replace")
        else:
            yield str(path), path.read_bytes().decode("utf-8", "replace")


def table_texts(url: str, skip: Iterable[str] = ()) -> Iterator[tuple[str, str]]:
    """(table, text) of every table of the database at `url` but those named in `skip` or prefixed `cur_`."""
    engine = sa.create_engine(url)
    try:
        metadata = sa.MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            for name, table in sorted(metadata.tables.items()):
                if name.startswith("cur_") or name in set(skip):
                    continue
                yield name, "\n".join(repr(tuple(row)) for row in conn.execute(sa.select(table)))
    finally:
        engine.dispose()


def leaks(texts: Iterable[tuple[str, str]], personal: set[str]) -> list[str]:
    """Where a secret or a personal value appears in `texts`: 'place: what' lines (the value masked)."""
    out = []
    for place, text in texts:
        for secret in SECRETS:
            if any(form in text for form in secret_forms(secret)):
                out.append(f"{place}: secret {secret[:6]}…")
        for value in personal:
            if value in text:
                out.append(f"{place}: personal value {value[:3]}…{value[-2:]}")
    return out
