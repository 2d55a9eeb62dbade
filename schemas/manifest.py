"""Legacy extraction manifests: how the legacy tables of one source map onto catalogue resources."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from catalog import Catalog, CatalogError


@dataclass(frozen=True)
class SourceTable:
    """One legacy table taking part in a source, under a short alias.

    `presence` names the column that is null when no row was joined and the issue that raises; with
    `when_referenced` it applies only to records whose join columns hold a reference. A `unique_match`
    table is joined on a column that is no key (a name): only a value exactly one live row carries joins.
    """

    alias: str
    table: str
    columns: tuple[str, ...]
    join: dict[str, str] = field(default_factory=dict)  # own column → "alias.COLUMN"
    change_column: str | None = None
    soft_delete: dict[str, Any] | None = None
    presence: dict[str, Any] | None = None
    unique_match: bool = False

    def references(self) -> list[str]:
        """The extracted columns of other tables this table is joined by ("alias.COLUMN")."""
        return list(self.join.values())


@dataclass(frozen=True)
class Attributes:
    """An entity-attribute-value table pivoted into items, with spelling variants folded."""

    table: str
    key: str
    name_column: str
    value_column: str
    items: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Lookup:
    """An item read from a code list's entry for the raw code: a field of the entry (`name`, `item_code`)."""

    codelist: str
    field: str


@dataclass(frozen=True)
class ItemSource:
    """Where a catalogue item's raw value comes from: `alias.COLUMN` or `attr.item`.

    `fallbacks` are read, in order, where the column is empty; `empty` lists legacy words that mean no
    value for this item; `lookup` reads a code list's entry field instead of the raw code; `first` keeps
    only the first of several standardized values (the primary phone of a field holding several);
    `master` names the resource merging the rows of the joined table the item is read from (the enterprise
    master): an old code the item holds is resolved to the code of that row's merged record.
    """

    column: str
    address: tuple[str, ...] = ()
    parser: str | None = (
        None  # for structured items: how to read the legacy text (quality.records.JSON_PARSERS)
    )
    fallbacks: tuple[str, ...] = ()
    empty: tuple[str, ...] = ()
    lookup: Lookup | None = None
    first: bool = False
    master: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Every extracted column the item reads, the column first."""
        return (self.column, *self.fallbacks)


@dataclass(frozen=True)
class Merge:
    """Rows that are one record: grouped by an item's standardized value, one curated record per value.

    `twins` names the item whose normalized value (with the division) links a row carrying an old code to
    a twin row's code; `newest` and `level` are the extracted columns the canonical row is chosen by.
    """

    by: str
    twins: str
    division: str
    newest: str
    level: str


@dataclass(frozen=True)
class Manifest:
    """How one legacy source is read: tables, joins, change columns, deletes and the item mapping."""

    source: str
    description: str
    key_table: str
    key_column: str
    record_id_prefix: str
    # A source feeding several resources says which by a column's value (T_XK_ZS.SXBM); a source feeding
    # one resource has no partition column, and its one "partition value" is the resource's name.
    partition_table: str | None
    partition_column: str | None
    partition_resources: dict[str, str]
    tables: dict[str, SourceTable]
    items: dict[str, ItemSource]
    lookback: dt.timedelta
    attributes: Attributes | None = None
    # (longitude item, latitude item) read together as one point, when the source has one.
    coordinates: tuple[str, str] | None = None
    merge: Merge | None = None

    @property
    def primary(self) -> SourceTable:
        """The table whose rows are the source's records."""
        return self.tables[self.key_table]

    @property
    def key_label(self) -> str:
        """The extracted column holding each record's legacy key."""
        return f"{self.key_table}.{self.key_column}"

    def resources(self) -> list[str]:
        """The catalogue resources this source feeds."""
        return sorted(set(self.partition_resources.values()))

    @property
    def partition_label(self) -> str | None:
        """The extracted column that says which resource a row feeds, or None for a one-resource source."""
        return f"{self.partition_table}.{self.partition_column}" if self.partition_column else None

    def partition_values(self, resources: list[str]) -> list[str]:
        """The partition column values that feed any of `resources`."""
        return sorted(v for v, r in self.partition_resources.items() if r in resources)

    def from_unique_match(self, label: str) -> bool:
        """Whether the extracted column `label` ("alias.COLUMN") comes from a `unique_match` table."""
        table = self.tables.get(label.split(".", 1)[0])
        return table is not None and table.unique_match

    def change_labels(self) -> list[str]:
        """Extracted columns holding each joined table's change timestamp."""
        return [f"{t.alias}.{t.change_column}" for t in self.tables.values() if t.change_column]


class ManifestError(CatalogError):
    """A manifest is malformed or disagrees with the catalogue; the message names the file and field."""


MATCH_KINDS = ("unique",)
# Legacy table and column names as databases write them unquoted (Oracle adds $ and #), a table optionally
# under its schema. SQLAlchemy quotes whatever it is given; refusing anything else keeps a manifest's names
# from ever carrying SQL.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$#]*")
QUALIFIED = re.compile(rf"(?:{IDENTIFIER.pattern}\.)?{IDENTIFIER.pattern}")
# Record ids are VARCHAR(64) in the curated and exchange databases; legacy keys are VARCHAR(32).
RECORD_ID_PREFIX_MAX = 8


def _table(path: Path, alias: str, raw: dict[str, Any]) -> SourceTable:
    if "table" not in raw or "columns" not in raw:
        raise ManifestError(f"{path}: tables.{alias} needs 'table' and 'columns'")
    _check_identifiers(path, alias, raw)
    match = raw.get("match")
    if match is not None and match not in MATCH_KINDS:
        raise ManifestError(f"{path}: tables.{alias}.match is {match!r}, not one of {', '.join(MATCH_KINDS)}")
    return SourceTable(
        alias=alias,
        table=raw["table"],
        columns=tuple(raw["columns"]),
        join=dict(raw.get("join") or {}),
        change_column=raw.get("change_column"),
        soft_delete=raw.get("soft_delete"),
        presence=raw.get("presence"),
        unique_match=match == "unique",
    )


def _check_identifiers(path: Path, alias: str, raw: dict[str, Any]) -> None:
    names = [("table", raw["table"], QUALIFIED)]
    names += [("columns", c, IDENTIFIER) for c in raw["columns"]]
    names += [("join", c, IDENTIFIER) for c in (raw.get("join") or {})]
    names += [("join", ref, QUALIFIED) for ref in (raw.get("join") or {}).values()]
    names += [(k, raw[k], IDENTIFIER) for k in ("change_column",) if raw.get(k)]
    names += [("soft_delete.column", (raw.get("soft_delete") or {}).get("column"), IDENTIFIER)]
    for where, name, pattern in names:
        if name is not None and not pattern.fullmatch(str(name)):
            raise ManifestError(f"{path}: tables.{alias}.{where}: {name!r} is not a plain SQL identifier")


def _items(data: dict[str, Any]) -> dict[str, ItemSource]:
    # An attribute item feeds the catalogue item of its name unless `items` maps that item otherwise.
    attributes = data.get("attributes") or {}
    items = {name: ItemSource(column=f"attr.{name}") for name in attributes.get("items", {})}
    for name, spec in data["items"].items():
        columns = [spec["from"]] if isinstance(spec["from"], str) else list(spec["from"])
        lookup = spec.get("lookup")
        items[name] = ItemSource(
            column=columns[0],
            fallbacks=tuple(columns[1:]),
            address=tuple(spec.get("address", ())),
            parser=spec.get("parser"),
            empty=tuple(str(v) for v in spec.get("empty", ())),
            lookup=Lookup(codelist=lookup["codelist"], field=lookup["field"]) if lookup else None,
            first=bool(spec.get("first", False)),
            master=spec.get("master"),
        )
    return items


def _merge(raw: dict[str, Any] | None) -> Merge | None:
    if raw is None:
        return None
    return Merge(
        by=raw["by"], twins=raw["twins"], division=raw["division"], newest=raw["newest"], level=raw["level"]
    )


def _check_merge(path: Path, manifest: Manifest, merge: Merge) -> None:
    for role, item in (("by", merge.by), ("twins", merge.twins), ("division", merge.division)):
        if item not in manifest.items:
            raise ManifestError(f"{path}: merge.{role} names {item!r}, which is not one of the items")
    for role, label in (("newest", merge.newest), ("level", merge.level)):
        alias, _, column = label.partition(".")
        table = manifest.tables.get(alias)
        if table is None or column not in (*table.columns, table.change_column):
            raise ManifestError(f"{path}: merge.{role}: {label} is not a column read")


def _check(path: Path, manifest: Manifest) -> None:
    """Refuse what the loader can read but a run cannot use, naming the file and field."""
    if manifest.key_table not in manifest.tables:
        raise ManifestError(f"{path}: key.table {manifest.key_table!r} is not one of the tables")
    for item in manifest.coordinates or ():
        if item not in manifest.items:
            raise ManifestError(f"{path}: coordinates names {item!r}, which is not one of the items")
    if manifest.merge is not None:
        _check_merge(path, manifest, manifest.merge)
    if len(manifest.record_id_prefix) > RECORD_ID_PREFIX_MAX:
        raise ManifestError(
            f"{path}: record_id_prefix {manifest.record_id_prefix!r} is longer than {RECORD_ID_PREFIX_MAX}"
        )
    for table in manifest.tables.values():
        if not (table.presence or {}).get("when_referenced"):
            continue
        for reference in table.references():
            alias, column = reference.split(".", 1)
            if alias not in manifest.tables or column not in manifest.tables[alias].columns:
                # The check reads the reference from the extracted row: it must be one of the columns read.
                raise ManifestError(
                    f"{path}: tables.{table.alias}.presence.when_referenced: {reference} is not a column read"
                )


def load_manifest(path: Path) -> Manifest:
    """Read and check one manifest file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        tables = {alias: _table(path, alias, raw) for alias, raw in data["tables"].items()}
        attrs = data.get("attributes")
        manifest = Manifest(
            source=data["source"],
            description=data.get("description", ""),
            key_table=data["key"]["table"],
            key_column=data["key"]["column"],
            record_id_prefix=data.get("record_id_prefix", ""),
            partition_table=data["partition"]["table"] if "partition" in data else None,
            partition_column=data["partition"]["column"] if "partition" in data else None,
            partition_resources=(
                {str(k): v for k, v in data["partition"]["resources"].items()}
                if "partition" in data
                else {data["resource"]: data["resource"]}
            ),
            tables=tables,
            items=_items(data),
            lookback=dt.timedelta(**data.get("change_lookback", {"days": 2})),
            attributes=Attributes(
                table=attrs["table"],
                key=attrs["key"],
                name_column=attrs["name_column"],
                value_column=attrs["value_column"],
                items={k: tuple(v) for k, v in attrs["items"].items()},
            )
            if attrs
            else None,
            coordinates=(
                (data["coordinates"]["longitude"], data["coordinates"]["latitude"])
                if "coordinates" in data
                else None
            ),
            merge=_merge(data.get("merge")),
        )
    except KeyError as exc:
        raise ManifestError(f"{path}: field {exc.args[0]!r} is missing") from None
    _check(path, manifest)
    return manifest


def check_against_catalog(manifest: Manifest, catalog: Catalog) -> list[str]:
    """Problems between a manifest and the catalogue: unknown resources, unmapped or unknown items."""
    problems = []
    for resource_name in manifest.resources():
        if resource_name not in catalog.resources:
            problems.append(f"manifest {manifest.source}: feeds unknown resource {resource_name}")
            continue
        resource = catalog.resources[resource_name]
        if resource.source != manifest.source:
            problems.append(
                f"manifest {manifest.source}: feeds {resource_name}, whose catalogue source is {resource.source}"
            )
        for item in resource.item_names:
            if item not in manifest.items:
                problems.append(f"manifest {manifest.source}: item {resource_name}.{item} has no source")
            lookup = manifest.items[item].lookup if item in manifest.items else None
            if lookup is not None and lookup.codelist not in catalog.codelists:
                problems.append(
                    f"manifest {manifest.source}: item {resource_name}.{item} looks up unknown code list "
                    f"{lookup.codelist}"
                )
    return problems


def prefix_clashes(found: list[Manifest]) -> list[str]:
    """Record-id prefixes that more than one source uses: their record ids could collide."""
    sources: dict[str, list[str]] = {}
    for manifest in found:
        sources.setdefault(manifest.record_id_prefix, []).append(manifest.source)
    return [
        f"record_id_prefix {prefix!r} is used by {', '.join(names)}"
        for prefix, names in sorted(sources.items())
        if len(names) > 1
    ]


def master_key(manifest: Manifest, source: ItemSource, master: Manifest) -> str:
    """The extracted column holding the master's key on the joined row an item with `master` is read from."""
    return f"{source.column.split('.', 1)[0]}.{master.key_column}"


def master_problems(found: list[Manifest]) -> list[str]:
    """Items whose `master` merges nothing, or whose joined row is not the master's row with its key read."""
    by_resource = {name: m for m in found for name in m.resources()}
    problems = []
    for manifest in found:
        for name, source in manifest.items.items():
            if source.master is None:
                continue
            master = by_resource.get(source.master)
            where = f"manifest {manifest.source}: items.{name}.master {source.master!r}"
            if master is None or master.merge is None:
                problems.append(f"{where} is no resource that merges rows")
                continue
            table = manifest.tables.get(source.column.split(".", 1)[0])
            if table is None or table.table != master.primary.table or master.key_column not in table.columns:
                problems.append(f"{where}: {source.column} is not read with {master.key_label} of the master")
    return problems


@cache
def manifests() -> dict[str, Manifest]:
    """Every shipped manifest, by source name, read once per process."""
    folder = Path(str(importlib_resources.files("schemas"))) / "legacy"
    found = [load_manifest(p) for p in sorted(folder.glob("*.yaml"))]
    clashes = prefix_clashes(found) + master_problems(found)
    if clashes:
        raise ManifestError(f"{folder}: {'; '.join(clashes)}")
    return {m.source: m for m in found}


def master_sources() -> list[str]:
    """Sources whose resources other sources' items resolve codes by (`master:`): curated before those."""
    named = {s.master for m in manifests().values() for s in m.items.values() if s.master}
    return sorted(m.source for m in manifests().values() if named & set(m.resources()))


def manifest_for(resource: str) -> Manifest:
    """The manifest of the source that feeds `resource` (a derived source's as a manifest)."""
    for manifest in manifests().values():
        if resource in manifest.resources():
            return manifest
    from schemas.derived import derivations  # imports this module

    if resource in derivations():
        return derivations()[resource].manifest()
    raise ManifestError(f"no legacy manifest feeds resource {resource!r}")
