"""Reading the catalogue's YAML files into `Catalog` objects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

from catalog.model import CodeEntry, CodeList, Item, Resource, Rule

ITEM_KEYS = {
    "name",
    "title",
    "type",
    "length",
    "required",
    "codelist",
    "personal",
    "min",
    "max",
    "pattern",
    "description",
}


class CatalogError(ValueError):
    """A catalogue file is missing, malformed or inconsistent; the message names the file and field."""


@dataclass(frozen=True)
class Catalog:
    """Every resource and code list of the bureau's catalogue, with the provider's settings."""

    root: Path
    settings: dict[str, Any]
    resources: dict[str, Resource]
    codelists: dict[str, CodeList]

    def resource(self, name: str) -> Resource:
        """The resource called `name`, or a CatalogError listing the known ones."""
        try:
            return self.resources[name]
        except KeyError:
            known = ", ".join(sorted(self.resources))
            raise CatalogError(f"no resource {name!r} in the catalogue (known: {known})") from None

    def codelist(self, name: str) -> CodeList:
        """The code list called `name`, or a CatalogError."""
        try:
            return self.codelists[name]
        except KeyError:
            raise CatalogError(f"no code list {name!r} in {self.root / 'codelists'}") from None

    def resources_for(self, receiver: str) -> list[Resource]:
        """Resources bound for `receiver`, in name order."""
        return [r for _, r in sorted(self.resources.items()) if receiver in r.receivers]

    def resource_code(self, resource: Resource) -> str:
        """The resource's 信息资源代码: 前段码 (类项目细目) / 后段码 (provider prefix + 顺序码).

        Empty when the resource has no `code`; parts it lacks are left out (`sdx catalog check` reports them).
        """
        code = resource.metadata.get("code")
        if not isinstance(code, dict):
            return ""
        front = "".join(str(code.get(k) or "") for k in ("category", "item", "target", "detail"))
        back = f"{self.settings.get('resource_code_prefix') or ''}{code.get('sequence') or ''}"
        return f"{front}/{back}"


# libyaml's loader where PyYAML was built with it: DAG files read the catalogue at parse time.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Folded YAML (`>-`) joins lines with a space, which Chinese text does not have between characters.
_CJK_FOLD = re.compile(
    r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]) (?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])"
)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise CatalogError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping at the top level")
    return data


def _item(path: Path, raw: Any) -> Item:
    if not isinstance(raw, dict) or "name" not in raw:
        raise CatalogError(f"{path}: every item needs a name, got {raw!r}")
    unknown = set(raw) - ITEM_KEYS
    if unknown:
        raise CatalogError(f"{path}: item {raw['name']}: unknown fields {sorted(unknown)}")
    for key in ("title", "type"):
        if key not in raw:
            raise CatalogError(f"{path}: item {raw['name']}: field {key!r} is missing")
    return Item(**raw)


def _rules(path: Path, raw: list[Any]) -> list[Rule]:
    rules = []
    for entry in raw:
        if not isinstance(entry, dict) or "rule" not in entry:
            raise CatalogError(f"{path}: every rule needs a 'rule' field, got {entry!r}")
        params = {k: v for k, v in entry.items() if k != "rule"}
        rules.append(Rule(rule=str(entry["rule"]), params=params))
    return rules


def _codelist(path: Path, data: dict[str, Any]) -> CodeList:
    entries = []
    for raw in data.get("entries", []):
        if "code" not in raw or "name" not in raw:
            raise CatalogError(f"{path}: every entry needs code and name, got {raw!r}")
        attrs = {k: v for k, v in raw.items() if k not in ("code", "name")}
        entries.append(CodeEntry(code=str(raw["code"]), name=str(raw["name"]), attributes=attrs))
    return CodeList(
        name=str(data.get("name", path.stem)),
        title=str(data.get("title", "")),
        entries=tuple(entries),
        path=path,
    )


def _resource(path: Path, root: Path, settings: dict[str, Any]) -> Resource:
    data = _read_yaml(path)
    name = data.get("name", path.stem)
    if name != path.stem:
        raise CatalogError(f"{path}: field 'name' is {name!r} but the file is called {path.stem}")
    items: list[Item] = []
    rules: list[Rule] = []
    item_files: list[Path] = []
    rule_files: list[Path] = []
    # `extends` names one template or a list of them, applied in order before the resource's own entries.
    extends = data.get("extends") or []
    for template_name in [extends] if isinstance(extends, str) else extends:
        template = root / "templates" / f"{template_name}.yaml"
        if not template.exists():
            raise CatalogError(f"{path}: field 'extends': no template {template}")
        base = _read_yaml(template)
        items += [_item(template, raw) for raw in base.get("items", [])]
        rules += _rules(template, base.get("rules", []))
        # Remember where each entry came from, so that checks name the right file.
        item_files += [template] * (len(items) - len(item_files))
        rule_files += [template] * (len(rules) - len(rule_files))
    items += [_item(path, raw) for raw in data.get("items", [])]
    rules += _rules(path, data.get("rules", []))
    item_files += [path] * (len(items) - len(item_files))
    rule_files += [path] * (len(rules) - len(rule_files))
    for key in ("title", "source"):
        if key not in data:
            raise CatalogError(f"{path}: field {key!r} is missing")
    known = {
        "name",
        "title",
        "summary",
        "source",
        "items",
        "rules",
        "receivers",
        "extends",
        "permit_type",
    }
    metadata = {k: v for k, v in data.items() if k not in known}
    return Resource(
        name=name,
        title=data["title"],
        summary=_CJK_FOLD.sub("", str(data.get("summary", "")).strip()),
        source=data["source"],
        items=tuple(items),
        rules=tuple(rules),
        receivers=dict(data.get("receivers") or {}),
        asset_uri=settings["asset_uri_template"].format(name=name),
        permit_type=data.get("permit_type"),
        metadata=metadata,
        path=path,
        item_files=tuple(item_files),
        rule_files=tuple(rule_files),
    )


def load_catalog(root: Path | None = None) -> Catalog:
    """Read the catalogue at `root` (default: the one shipped in this package)."""
    root = root or Path(str(importlib_resources.files("catalog")))
    settings = _read_yaml(root / "catalog.yaml")
    # Files without `entries` in codelists/ are lookup data for standardizers (aliases), not code lists.
    read = {p: _read_yaml(p) for p in sorted((root / "codelists").glob("*.yaml"))}
    codelists = {cl.name: cl for cl in (_codelist(p, d) for p, d in read.items() if "entries" in d)}
    resources = {
        r.name: r for r in (_resource(p, root, settings) for p in sorted((root / "resources").glob("*.yaml")))
    }
    return Catalog(root=root, settings=settings, resources=resources, codelists=codelists)


@cache
def default_catalog() -> Catalog:
    """The shipped catalogue, read once per process."""
    return load_catalog()
