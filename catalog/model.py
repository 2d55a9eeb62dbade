"""The catalogue's objects: resources, their data items and rules, and code lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Value types an item may have. `guide` is the data-type letter of the catalogue-compilation guide
# (C 字符型, D 日期型, I 整型, N 数值型, L 逻辑型); `sql` is the column family in target tables.
VALUE_TYPES: dict[str, dict[str, str]] = {
    "text": {"guide": "C", "sql": "text"},
    "code": {"guide": "C", "sql": "text"},
    "date": {"guide": "D", "sql": "date"},
    "integer": {"guide": "I", "sql": "integer"},
    "decimal": {"guide": "N", "sql": "decimal"},
    "uscc": {"guide": "C", "sql": "text"},
    "resident_id": {"guide": "C", "sql": "text"},
    "division": {"guide": "C", "sql": "text"},
    "phone": {"guide": "C", "sql": "text"},
    "cas": {"guide": "C", "sql": "text"},
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
