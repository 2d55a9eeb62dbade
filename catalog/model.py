"""The catalogue's objects: resources, their data items and rules, and code lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Value types an item may have. `guide` is the data-type letter of the catalogue-compilation guide
# (C 字符型, D 日期型, I 整型, N 数值型, L 逻辑型); `sql` is the column family in target tables.
# `json` says how a gateway payload carries the value (docs/catalog.md, "Receivers").
VALUE_TYPES: dict[str, dict[str, str]] = {
    "text": {"guide": "C", "sql": "text", "json": "string"},
    "code": {"guide": "C", "sql": "text", "json": "string"},
    "code_list": {"guide": "C", "sql": "text", "json": "array"},
    "date": {"guide": "D", "sql": "date", "json": "string"},
    "integer": {"guide": "I", "sql": "integer", "json": "integer"},
    "decimal": {"guide": "N", "sql": "decimal", "json": "number"},
    "boolean": {"guide": "L", "sql": "integer", "json": "boolean"},
    "uscc": {"guide": "C", "sql": "text", "json": "string"},
    "organisation_code": {"guide": "C", "sql": "text", "json": "string"},
    "registration_number": {"guide": "C", "sql": "text", "json": "string"},
    "resident_id": {"guide": "C", "sql": "text", "json": "string"},
    "division": {"guide": "C", "sql": "text", "json": "string"},
    "phone": {"guide": "C", "sql": "text", "json": "string"},
    "cas": {"guide": "C", "sql": "text", "json": "string"},
    "licence_id": {"guide": "C", "sql": "text", "json": "string"},
    "json": {"guide": "C", "sql": "text", "json": "any"},
}

PERSONAL_CLASSES = ("name", "id", "phone", "address")


@dataclass(frozen=True)
class Item:
    """One data item (信息项) of a resource."""

    name: str
    title: str
    type: str
    length: int | None = None
    required: bool = False
    codelist: str | None = None
    personal: str | None = None
    min: float | None = None
    max: float | None = None
    pattern: str | None = None
    description: str | None = None

    @property
    def sql_family(self) -> str:
        """The column family (text, date, integer, decimal) this item's values take in target tables."""
        return VALUE_TYPES[self.type]["sql"]


@dataclass(frozen=True)
class Rule:
    """A row rule of a resource: its kind and the items it reads."""

    rule: str
    params: dict[str, Any] = field(default_factory=dict)

    def item_names(self) -> list[str]:
        """The items this rule reads, in the order written."""
        return [v for k, v in self.params.items() if isinstance(v, str) and k != "message"]


@dataclass(frozen=True)
class CodeEntry:
    """One entry of a code list."""

    code: str
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CodeList:
    """A code list: codes with names and, where the legacy spells them otherwise, its spellings."""

    name: str
    title: str
    entries: tuple[CodeEntry, ...]
    # The file it was read from, so that checks can name it; not part of the list's identity.
    path: Path | None = field(default=None, compare=False, repr=False)

    def codes(self) -> list[str]:
        """Every code, in the order written."""
        return [e.code for e in self.entries]

    def entry(self, code: str) -> CodeEntry:
        """The entry for `code`; KeyError names the list when absent."""
        for e in self.entries:
            if e.code == code:
                return e
        raise KeyError(f"code {code!r} is not in code list {self.name}")

    def legacy_mapping(self) -> dict[str, str]:
        """Legacy spelling → code, including each code and its name as spellings of themselves."""
        mapping: dict[str, str] = {}
        for e in self.entries:
            mapping[e.code] = e.code
            mapping[e.name] = e.code
            for spelling in e.attributes.get("legacy", []) or []:
                mapping[str(spelling)] = e.code
        return mapping


@dataclass(frozen=True)
class Resource:
    """One catalogue resource: what it holds, where it comes from, how it is shared and to whom it goes."""

    name: str
    title: str
    summary: str
    source: str
    items: tuple[Item, ...]
    rules: tuple[Rule, ...]
    receivers: dict[str, dict[str, Any]]
    asset_uri: str
    permit_type: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # Where the resource, each item and each rule were written (the resource's file or its template's), so
    # that `sdx catalog check` names the file to fix; not part of the resource's identity.
    path: Path | None = field(default=None, compare=False, repr=False)
    item_files: tuple[Path, ...] = field(default=(), compare=False, repr=False)
    rule_files: tuple[Path, ...] = field(default=(), compare=False, repr=False)

    def item(self, name: str) -> Item:
        """The item called `name`; KeyError names the resource when absent."""
        for it in self.items:
            if it.name == name:
                return it
        raise KeyError(f"resource {self.name} has no item {name!r}")

    @property
    def item_names(self) -> list[str]:
        """Item names in catalogue order (also the column order of target tables)."""
        return [it.name for it in self.items]

    def item_file(self, index: int) -> Path | None:
        """The file item number `index` was written in (its template's or the resource's own)."""
        return self.item_files[index] if index < len(self.item_files) else self.path

    def rule_file(self, index: int) -> Path | None:
        """The file rule number `index` was written in (its template's or the resource's own)."""
        return self.rule_files[index] if index < len(self.rule_files) else self.path
