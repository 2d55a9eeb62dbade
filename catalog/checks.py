"""Consistency checks over a loaded catalogue: what `sdx catalog check` reports, by file and field.

The loader refuses only what it cannot read; everything a writer could get wrong while the files still parse
(an unknown type, a rule naming a missing item, a gateway field left unmapped) is found here, so that one run
lists every problem at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from catalog.loader import Catalog
from catalog.model import PERSONAL_CLASSES, VALUE_TYPES, CodeList, Item, Resource, Rule

IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
CODED_TYPES = ("code", "code_list")
SHARING_ATTRIBUTES = ("无条件共享", "有条件共享", "不予共享")
# The guide wants a condition for conditional sharing and the legal basis for refusing to share.
SHARING_NEEDS_CONDITION = ("有条件共享", "不予共享")
CODE_PARTS = ("category", "item", "target", "detail", "sequence")
# Each rule kind and the parameters it must have; `when` maps item names to the values that trigger it.
RULE_PARAMS: dict[str, tuple[str, ...]] = {
    "date_order": ("earlier", "later"),
    "within_legal_validity": ("valid_from", "valid_to"),
    "required_when_expiring": ("item",),
    "status_from_dates": ("status", "valid_to"),
    "required_when": ("item", "when"),
    "null_unless": ("item", "when"),
}
# These rules read the legal validity of the resource's permit type; without one they would check nothing.
RULES_NEEDING_PERMIT_TYPE = ("within_legal_validity", "required_when_expiring")
BIGDATA_CENTRE = "bigdata_centre"
GATEWAY_RECEIVERS = ("service_network", "province_supervision", "province_hazchem")
GATEWAY_CONTRACT = Path("contracts") / "gateway.yaml"


@dataclass(frozen=True)
class Problem:
    """One thing to fix: the file, the field within it and what is wrong.

    `file` is relative to the catalogue root; a file outside the catalogue (a legacy manifest) is absolute.
    """

    file: Path
    field: str
    message: str

    def __str__(self) -> str:
        """`file: field: message`, the form editors and CI logs link to."""
        return f"{self.file.as_posix()}: {self.field}: {self.message}"


def check_catalog(catalog: Catalog) -> list[Problem]:
    """Every problem in `catalog`: catalogue-wide ones, then resource by resource and list by list."""
    gateway = _gateway_schemas(catalog)
    problems: list[Problem] = [*_check_settings(catalog), *_check_across_resources(catalog)]
    for resource in catalog.resources.values():
        problems += _check_resource(catalog, resource, gateway)
    for codelist in catalog.codelists.values():
        problems += _check_codelist(catalog, codelist)
    return problems


# ---- plumbing -------------------------------------------------------------------------------------------


def _relative(catalog: Catalog, path: Path) -> Path:
    """`path` relative to the catalogue root (absolute when it lies outside)."""
    try:
        return path.relative_to(catalog.root)
    except ValueError:
        return path


def _resource_file(catalog: Catalog, resource: Resource, written_in: Path | None = None) -> Path:
    """The file to fix: where an entry was `written_in` (a template, say), else the resource's own file."""
    return _relative(
        catalog, written_in or resource.path or catalog.root / "resources" / f"{resource.name}.yaml"
    )


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, list | dict) and not value) or str(value).strip() == ""


def _is_blank_entry_text(value: str) -> bool:
    # The loader reads code-list entries with str(), so an empty YAML value arrives as the text 'None'.
    return value.strip() in ("", "None")


def _known(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


# ---- catalog.yaml ---------------------------------------------------------------------------------------


def _check_settings(catalog: Catalog) -> Iterator[Problem]:
    """The provider and the code prefix the catalogue-compilation export writes into every row."""
    provider = catalog.settings.get("provider") or {}
    for key in ("name", "code"):
        if _is_blank(provider.get(key) if isinstance(provider, dict) else None):
            yield Problem(
                Path("catalog.yaml"), f"provider.{key}", "is missing (the export names the provider)"
            )
    if _is_blank(catalog.settings.get("resource_code_prefix")):
        yield Problem(Path("catalog.yaml"), "resource_code_prefix", "is missing (resource codes need it)")


# ---- across resources -----------------------------------------------------------------------------------


def _check_across_resources(catalog: Catalog) -> Iterator[Problem]:
    """What must be unique in the whole catalogue: titles, sequence codes and exchange tables."""
    resources = sorted(catalog.resources.values(), key=lambda r: r.name)
    yield from _duplicates(catalog, resources, "title", lambda r: r.title)
    yield from _duplicates(catalog, resources, "code.sequence", _sequence)
    yield from _duplicates(catalog, resources, f"receivers.{BIGDATA_CENTRE}.table", _exchange_table)


def _sequence(resource: Resource) -> str | None:
    code = resource.metadata.get("code")
    return str(code["sequence"]) if isinstance(code, dict) and code.get("sequence") else None


def _exchange_table(resource: Resource) -> str | None:
    table = (resource.receivers.get(BIGDATA_CENTRE) or {}).get("table")
    # The exchange database creates names unquoted, so EX_XK_0101 and ex_xk_0101 are the same table.
    return str(table).lower() if table else None


def _duplicates(
    catalog: Catalog, resources: list[Resource], field: str, key: Callable[[Resource], str | None]
) -> Iterator[Problem]:
    """One problem per resource that repeats a value an earlier resource (by name) already has."""
    first: dict[str, str] = {}
    for resource in resources:
        value = key(resource)
        if value is None:
            continue
        if value in first:
            message = f"{value!r} is already used by resource {first[value]}"
            yield Problem(_resource_file(catalog, resource), field, message)
        else:
            first[value] = resource.name


# ---- one resource ---------------------------------------------------------------------------------------


def _check_resource(catalog: Catalog, resource: Resource, gateway: dict[str, Any] | None) -> list[Problem]:
    """Every problem of one resource: metadata, items, rules, permit type and receivers."""
    return [
        *_check_metadata(catalog, resource),
        *_check_items(catalog, resource),
        *_check_rules(catalog, resource),
        *_check_permit_type(catalog, resource),
        *_check_receivers(catalog, resource, gateway),
    ]


def _check_metadata(catalog: Catalog, resource: Resource) -> Iterator[Problem]:
    """The name, and the metadata the catalogue-compilation export needs (摘要, 代码, 共享属性, 更新周期)."""
    file = _resource_file(catalog, resource)
    if not IDENTIFIER.fullmatch(resource.name):
        yield Problem(file, "name", f"{resource.name!r} is not a lower-case identifier")
    if _is_blank(resource.summary):
        yield Problem(file, "summary", "is missing (资源摘要)")
    if _is_blank(resource.metadata.get("update_cycle")):
        yield Problem(file, "update_cycle", "is missing (更新周期)")
    yield from _check_code(file, resource.metadata.get("code"))
    yield from _check_sharing(file, resource.metadata.get("sharing"))
    for related in resource.metadata.get("related") or []:
        if related not in catalog.resources:
            yield Problem(file, "related", f"names no resource of the catalogue: {related!r}")


def _check_code(file: Path, code: Any) -> Iterator[Problem]:
    if not isinstance(code, dict):
        yield Problem(file, "code", f"is missing (资源代码: {{{', '.join(CODE_PARTS)}}})")
        return
    for part in CODE_PARTS:
        if _is_blank(code.get(part)):
            yield Problem(file, f"code.{part}", "is missing (资源代码)")


def _check_sharing(file: Path, sharing: Any) -> Iterator[Problem]:
    if not isinstance(sharing, dict) or _is_blank(sharing.get("attribute")):
        yield Problem(
            file, "sharing.attribute", f"is missing (共享属性: one of {', '.join(SHARING_ATTRIBUTES)})"
        )
        return
    attribute = sharing["attribute"]
    if attribute not in SHARING_ATTRIBUTES:
        yield Problem(
            file, "sharing.attribute", f"{attribute!r} is not one of {', '.join(SHARING_ATTRIBUTES)}"
        )
    elif attribute in SHARING_NEEDS_CONDITION and _is_blank(sharing.get("condition")):
        yield Problem(
            file, "sharing.condition", f"is missing: {attribute} needs its condition or legal basis"
        )


# ---- items ----------------------------------------------------------------------------------------------


def _check_items(catalog: Catalog, resource: Resource) -> Iterator[Problem]:
    """Each item on its own, then names repeated within the resource."""
    seen: set[str] = set()
    for index, item in enumerate(resource.items):
        file = _resource_file(catalog, resource, resource.item_file(index))
        where = f"items.{item.name}"
        if item.name in seen:
            yield Problem(file, f"{where}.name", f"{item.name!r} is used by another item of {resource.name}")
        seen.add(item.name)
        yield from _check_item(catalog, file, where, item)


def _check_item(catalog: Catalog, file: Path, where: str, item: Item) -> Iterator[Problem]:
    if not IDENTIFIER.fullmatch(str(item.name)):
        yield Problem(file, f"{where}.name", f"{item.name!r} is not a lower-case identifier")
    if _is_blank(item.title):
        yield Problem(file, f"{where}.title", "is empty (信息项名称)")
    if item.type not in VALUE_TYPES:
        yield Problem(file, f"{where}.type", f"unknown type {item.type!r} (known: {_known(VALUE_TYPES)})")
    if item.personal is not None and item.personal not in PERSONAL_CLASSES:
        message = f"{item.personal!r} is not a personal-data class ({', '.join(PERSONAL_CLASSES)})"
        yield Problem(file, f"{where}.personal", message)
    if item.length is not None and (
        isinstance(item.length, bool) or not isinstance(item.length, int) or item.length < 1
    ):
        yield Problem(file, f"{where}.length", f"{item.length!r} is not a positive whole number")
    yield from _check_item_codelist(catalog, file, where, item)
    yield from _check_item_range(file, where, item)
    yield from _check_item_pattern(file, where, item)


def _check_item_codelist(catalog: Catalog, file: Path, where: str, item: Item) -> Iterator[Problem]:
    if item.type in CODED_TYPES and not item.codelist:
        yield Problem(file, f"{where}.codelist", f"is missing: a {item.type} item names its code list")
    elif item.type in CODED_TYPES and item.codelist not in catalog.codelists:
        message = f"no code list {item.codelist!r} (known: {_known(catalog.codelists)})"
        yield Problem(file, f"{where}.codelist", message)
    elif item.type not in CODED_TYPES and item.codelist is not None:
        yield Problem(
            file, f"{where}.codelist", f"only code and code_list items take a code list, not {item.type}"
        )


def _check_item_range(file: Path, where: str, item: Item) -> Iterator[Problem]:
    bounds = {"min": item.min, "max": item.max}
    for key, value in bounds.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            yield Problem(file, f"{where}.{key}", f"{value!r} is not a number")
            return
    if item.min is not None and item.max is not None and item.min > item.max:
        yield Problem(file, f"{where}.min", f"min {item.min} is greater than max {item.max}")


def _check_item_pattern(file: Path, where: str, item: Item) -> Iterator[Problem]:
    if item.pattern is None:
        return
    try:
        re.compile(str(item.pattern))
    except re.error as exc:
        yield Problem(file, f"{where}.pattern", f"does not compile: {exc}")


# ---- rules ----------------------------------------------------------------------------------------------


def _check_rules(catalog: Catalog, resource: Resource) -> Iterator[Problem]:
    """Each rule of a known kind, with its parameters, reading only items the resource has."""
    for index, rule in enumerate(resource.rules):
        file = _resource_file(catalog, resource, resource.rule_file(index))
        yield from _check_rule(file, f"rules[{index}]", rule, resource)
        if rule.rule == "status_from_dates":
            yield from _check_dated_statuses(catalog, file, f"rules[{index}].status", rule, resource)


def _check_dated_statuses(
    catalog: Catalog, file: Path, where: str, rule: Rule, resource: Resource
) -> Iterator[Problem]:
    # The correction decides between the two codes its status item's code list marks `dated`.
    name = rule.params.get("status")
    if name not in resource.item_names:
        return  # reported by _check_rule
    codelist = resource.item(name).codelist
    if codelist is None or codelist not in catalog.codelists:
        yield Problem(file, where, f"status_from_dates needs {name!r} to name a code list")
        return
    marked = sorted(
        str(e.attributes["dated"]) for e in catalog.codelists[codelist].entries if "dated" in e.attributes
    )
    if marked != ["expired", "valid"]:
        yield Problem(
            file, where, f"code list {codelist} must mark one entry `dated: valid` and one `dated: expired`"
        )


def _check_rule(file: Path, where: str, rule: Rule, resource: Resource) -> Iterator[Problem]:
    if rule.rule not in RULE_PARAMS:
        yield Problem(file, f"{where}.rule", f"unknown rule {rule.rule!r} (known: {_known(RULE_PARAMS)})")
        return
    for param in RULE_PARAMS[rule.rule]:
        if _is_blank(rule.params.get(param)):
            yield Problem(
                file,
                f"{where}.{param}",
                f"is missing ({rule.rule} needs {', '.join(RULE_PARAMS[rule.rule])})",
            )
    for param, value in rule.params.items():
        if param in ("message", "when") or not isinstance(value, str):
            continue
        if value not in resource.item_names:
            yield Problem(
                file, f"{where}.{param}", f"{rule.rule} reads {value!r}, which {resource.name} lacks"
            )
    yield from _check_rule_when(file, where, rule, resource)
    if rule.rule in RULES_NEEDING_PERMIT_TYPE and not resource.permit_type:
        yield Problem(
            file, f"{where}.rule", f"{rule.rule} needs the resource's permit_type ({resource.name} has none)"
        )


def _check_rule_when(file: Path, where: str, rule: Rule, resource: Resource) -> Iterator[Problem]:
    when = rule.params.get("when")
    if when is None:
        return
    if not isinstance(when, dict) or not when:
        yield Problem(file, f"{where}.when", "must map items to the values that trigger the rule")
        return
    for name, values in when.items():
        if name not in resource.item_names:
            yield Problem(
                file, f"{where}.when.{name}", f"{rule.rule} reads {name!r}, which {resource.name} lacks"
            )
        if not isinstance(values, list) or not values:
            yield Problem(file, f"{where}.when.{name}", "must list the values that trigger the rule")


def _check_permit_type(catalog: Catalog, resource: Resource) -> Iterator[Problem]:
    if resource.permit_type is None:
        return
    file = _resource_file(catalog, resource)
    types = catalog.codelists.get("permit_types")
    if types is None:
        yield Problem(file, "permit_type", "the code list permit_types is missing")
    elif str(resource.permit_type) not in types.codes():
        yield Problem(file, "permit_type", f"{resource.permit_type!r} is not in the code list permit_types")


# ---- receivers ------------------------------------------------------------------------------------------


def _check_receivers(
    catalog: Catalog, resource: Resource, gateway: dict[str, Any] | None
) -> Iterator[Problem]:
    """Known receivers only; the exchange-database settings and the gateway mappings each checked."""
    file = _resource_file(catalog, resource)
    for name, settings in resource.receivers.items():
        where = f"receivers.{name}"
        if not isinstance(settings, dict):
            yield Problem(file, where, "must be a mapping of the receiver's settings")
        elif name == BIGDATA_CENTRE:
            yield from _check_bigdata_centre(file, where, settings, resource)
        elif name in GATEWAY_RECEIVERS:
            yield from _check_gateway_receiver(file, where, settings, resource, gateway)
        else:
            known = _known((BIGDATA_CENTRE, *GATEWAY_RECEIVERS))
            yield Problem(file, where, f"unknown receiver {name!r} (known: {known})")


def _check_bigdata_centre(
    file: Path, where: str, settings: dict[str, Any], resource: Resource
) -> Iterator[Problem]:
    if _is_blank(settings.get("table")):
        yield Problem(file, f"{where}.table", "is missing (the exchange-database table)")
    for key in ("division_item", "provider_item"):
        value = settings.get(key)
        if value is not None and value not in resource.item_names:
            yield Problem(file, f"{where}.{key}", f"{resource.name} has no item {value!r}")
    exclude = settings.get("exclude") or []
    if not isinstance(exclude, list):
        yield Problem(file, f"{where}.exclude", "must list item names")
        return
    for value in exclude:
        if value not in resource.item_names:
            yield Problem(file, f"{where}.exclude", f"{resource.name} has no item {value!r}")


def _gateway_schemas(catalog: Catalog) -> dict[str, Any] | None:
    """The record schemas of the gateway contract by resource, or None when the contract cannot be read."""
    path = catalog.root / GATEWAY_CONTRACT
    if not path.exists():
        return None
    try:
        contract = yaml.safe_load(path.read_text(encoding="utf-8"))
        schemas = contract["components"]["schemas"]
    except (yaml.YAMLError, KeyError, TypeError):
        return None
    return schemas if isinstance(schemas, dict) else None


def _check_gateway_receiver(
    file: Path, where: str, settings: dict[str, Any], resource: Resource, gateway: dict[str, Any] | None
) -> Iterator[Problem]:
    """The gateway resource exists in the contract, and its fields map onto items, the required ones all."""
    if gateway is None:
        message = (
            f"of {resource.name} not checked: the gateway contract is missing or lacks components.schemas"
        )
        yield Problem(GATEWAY_CONTRACT, where, message)
        return
    name = settings.get("resource")
    schema = gateway.get(name) if isinstance(name, str) else None
    if not isinstance(schema, dict) or "properties" not in schema:
        yield Problem(
            file, f"{where}.resource", f"{name!r} is not a record schema of {GATEWAY_CONTRACT.as_posix()}"
        )
        return
    fields = settings.get("fields")
    if not isinstance(fields, dict) or not fields:
        yield Problem(file, f"{where}.fields", "must map the gateway's fields to items")
        return
    yield from _check_gateway_fields(file, f"{where}.fields", fields, schema, resource)


def _check_gateway_fields(
    file: Path, where: str, fields: dict[str, Any], schema: dict[str, Any], resource: Resource
) -> Iterator[Problem]:
    properties = schema.get("properties") or {}
    for field, item in fields.items():
        if field not in properties:
            yield Problem(file, f"{where}.{field}", "is not a field of the gateway schema")
        if not isinstance(item, str) or item not in resource.item_names:
            yield Problem(
                file, f"{where}.{field}", f"maps to {item!r}, which is not an item of {resource.name}"
            )
    for field in schema.get("required") or []:
        if field not in fields:
            yield Problem(
                file, f"{where}.{field}", "the gateway requires this field, but no item is mapped to it"
            )


# ---- code lists -----------------------------------------------------------------------------------------


def _check_codelist(catalog: Catalog, codelist: CodeList) -> Iterator[Problem]:
    """A code list is named after its file, with entries whose codes are unique and whose names are given."""
    file = _relative(catalog, codelist.path or catalog.root / "codelists" / f"{codelist.name}.yaml")
    if codelist.path is not None and codelist.name != codelist.path.stem:
        yield Problem(file, "name", f"{codelist.name!r} differs from the file name {codelist.path.stem}")
    if not codelist.entries:
        yield Problem(file, "entries", "lists no codes")
    counts = Counter(codelist.codes())
    for code, count in counts.items():
        if count > 1:
            yield Problem(file, f"entries.{code}", f"code {code!r} appears {count} times")
    for entry in codelist.entries:
        if _is_blank_entry_text(entry.code):
            yield Problem(file, "entries.code", "an entry has an empty code")
        if _is_blank_entry_text(entry.name):
            yield Problem(file, f"entries.{entry.code}.name", "is empty")
