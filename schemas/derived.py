"""Derived sources: catalogue resources built from other curated resources instead of a legacy table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from catalog import Catalog
from schemas.manifest import ItemSource, Manifest, ManifestError, SourceTable, manifests

# The columns of a derived source's staged rows: the key, the delete flag and one column per item.
ALIAS = "derived"
KEY_COLUMN = "KEY"
DELETED_COLUMN = "DELETED"
# Per key: "1" when the key has a row in the master input (staged as `<master input>.PRESENT`).
PRESENT_COLUMN = "PRESENT"
SPEC_KINDS = ("from", "permit_type", "provider", "value", "builder")


@dataclass(frozen=True)
class ItemSpec:
    """Where one derived item's value comes from: one of SPEC_KINDS, its argument, a default, parameters."""

    kind: str
    argument: Any
    default: ItemSpec | None = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Master:
    """The input every per-key record must have a live row in; a record without one is quarantined."""

    input: str
    missing_issue: str


@dataclass(frozen=True)
class Derivation:
    """How one resource is built from curated resources.

    `per_key` is None when each input record yields one derived record (keyed by its record id); otherwise
    it names the column of every input whose value groups rows into one derived record.
    """

    resource: str
    description: str
    record_id_prefix: str
    per_key: str | None
    inputs: dict[str, dict[str, ItemSpec]]  # per record: input → item → spec; per key: input → {}
    items: dict[str, ItemSpec]  # per key: item → spec
    include: ItemSpec | None
    master: Master | None = None

    def input_names(self) -> list[str]:
        """The curated resources this one reads."""
        return list(self.inputs)

    def manifest(self) -> Manifest:
        """The derived source as a manifest, so that standardize and curate treat it like a legacy one."""
        items = sorted({*self.items, *(name for specs in self.inputs.values() for name in specs)})
        tables = {
            ALIAS: SourceTable(
                alias=ALIAS,
                # Quarantine names this as the record's source table: the curated inputs it was built from.
                table=f"{ALIAS}.{self.resource}",
                columns=(KEY_COLUMN, DELETED_COLUMN, *items),
                soft_delete={"column": DELETED_COLUMN, "deleted": ["1"]},
            )
        }
        if self.master is not None:
            tables[self.master.input] = SourceTable(
                alias=self.master.input,
                table=f"cur_{self.master.input}",
                columns=(PRESENT_COLUMN,),
                presence={"column": PRESENT_COLUMN, "missing_issue": self.master.missing_issue},
            )
        return Manifest(
            source=self.resource,
            description=self.description,
            key_table=ALIAS,
            key_column=KEY_COLUMN,
            record_id_prefix=self.record_id_prefix,
            partition_table=None,
            partition_column=None,
            partition_resources={self.resource: self.resource},
            tables=tables,
            items={name: ItemSource(column=f"{ALIAS}.{name}") for name in items},
            # Curated rows are read from the watermark itself and by run id (exchange/steps/derive.py).
            lookback=dt.timedelta(0),
        )


def _spec(path: Path, where: str, raw: Any) -> ItemSpec:
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: {where} must be a mapping, got {raw!r}")
    kinds = [k for k in SPEC_KINDS if k in raw]
    if len(kinds) != 1:
        raise ManifestError(
            f"{path}: {where} needs exactly one of {', '.join(SPEC_KINDS)}, got {sorted(raw)}"
        )
    kind = kinds[0]
    params = {k: v for k, v in raw.items() if k not in (kind, "default")}
    if params and kind != "builder":
        raise ManifestError(f"{path}: {where}: {sorted(params)} only go with a builder")
    default = _spec(path, f"{where}.default", raw["default"]) if "default" in raw else None
    return ItemSpec(kind=kind, argument=raw[kind], default=default, params=params or None)


def load_derivation(path: Path) -> Derivation:
    """Read and check one derived source file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        per = data["per"]
        if per != "record" and not (isinstance(per, dict) and "key" in per):
            raise ManifestError(f"{path}: per is 'record' or {{key: column}}, got {per!r}")
        per_key = None if per == "record" else str(per["key"])
        raw_inputs = data["inputs"]
        if per_key is None:
            inputs = {
                name: {item: _spec(path, f"inputs.{name}.{item}", raw) for item, raw in specs.items()}
                for name, specs in raw_inputs.items()
            }
            items: dict[str, ItemSpec] = {}
        else:
            inputs = {name: {} for name in raw_inputs}
            items = {item: _spec(path, f"items.{item}", raw) for item, raw in data["items"].items()}
        derivation = Derivation(
            resource=data["resource"],
            description=data.get("description", ""),
            record_id_prefix=data["record_id_prefix"],
            per_key=per_key,
            inputs=inputs,
            items=items,
            include=_spec(path, "include", data["include"]) if "include" in data else None,
            master=Master(**data["master"]) if "master" in data else None,
        )
    except KeyError as exc:
        raise ManifestError(f"{path}: field {exc.args[0]!r} is missing") from None
    if derivation.resource != path.stem:
        raise ManifestError(f"{path}: resource is {derivation.resource!r} but the file is called {path.stem}")
    return derivation


def _column_problems(derivation: Derivation, catalog: Catalog, input_name: str, spec: ItemSpec) -> list[str]:
    where = f"derived {derivation.resource}"
    problems = []
    for each in (spec, spec.default):
        if each is None:
            continue
        if each.kind == "from":
            name, column = (
                (input_name, each.argument) if derivation.per_key is None else each.argument.split(".", 1)
            )
            if name not in catalog.resources or column not in catalog.resources[name].item_names:
                problems.append(f"{where}: {name}.{column} is not an item of the catalogue")
        resource = catalog.resources.get(input_name)
        if each.kind == "permit_type" and (resource is None or not resource.permit_type):
            problems.append(f"{where}: {input_name} has no permit_type to read {each.argument} from")
    return problems


def check_derivation(derivation: Derivation, catalog: Catalog) -> list[str]:
    """Problems between a derived source and the catalogue: unknown inputs, unmapped or unknown items."""
    where = f"derived {derivation.resource}"
    if derivation.resource not in catalog.resources:
        return [f"{where}: builds unknown resource {derivation.resource}"]
    resource = catalog.resources[derivation.resource]
    problems = []
    if resource.source != derivation.resource:
        problems.append(f"{where}: the catalogue's source of {resource.name} is {resource.source}")
    unknown = [name for name in derivation.inputs if name not in catalog.resources]
    problems += [f"{where}: reads unknown resource {name}" for name in unknown]
    mappings = (
        [(name, specs) for name, specs in derivation.inputs.items() if name not in unknown]
        if derivation.per_key is None
        else [("", derivation.items)]
    )
    for input_name, specs in mappings:
        label = f"{where}: input {input_name}" if input_name else where
        problems += [
            f"{label}: item {item} has no source" for item in resource.item_names if item not in specs
        ]
        problems += [
            f"{label}: {item} is not an item of {resource.name}"
            for item in specs
            if item not in resource.item_names
        ]
        for spec in specs.values():
            problems += _column_problems(derivation, catalog, input_name, spec)
    master = derivation.master
    if master is not None and master.input not in derivation.inputs:
        problems.append(f"{where}: master {master.input} is not one of the inputs")
    legacy = {m.record_id_prefix: m.source for m in manifests().values()}
    if derivation.record_id_prefix in legacy:
        problems.append(f"{where}: record_id_prefix is also {legacy[derivation.record_id_prefix]}'s")
    return problems


def inputs_fed(derivation: Derivation) -> bool:
    """Whether every resource `derivation` reads has a source of its own (a legacy manifest or a derivation)."""
    fed = {name for manifest in manifests().values() for name in manifest.resources()} | set(derivations())
    return set(derivation.input_names()) <= fed


@cache
def derivations() -> dict[str, Derivation]:
    """Every shipped derived source, by the resource it builds, read once per process."""
    folder = Path(str(importlib_resources.files("schemas"))) / "derived"
    return {d.resource: d for d in (load_derivation(p) for p in sorted(folder.glob("*.yaml")))}
