"""The `sdx catalog` commands: check the catalogue (with the legacy manifests), show a resource, export it all.

The manifest check lives here rather than in `catalog.checks` because `catalog` imports nothing of ours and
the manifests belong to `schemas`.
"""

from __future__ import annotations

import argparse
import re
import sys
from importlib import resources as importlib_resources
from pathlib import Path

import yaml

from catalog import Catalog, CatalogError, Resource, load_catalog
from catalog.checks import Problem, check_catalog
from catalog.export import (
    display_width,
    export_html,
    export_json,
    export_xlsx,
    guide_type,
    metadata_pairs,
    personal_name,
)
from schemas.manifest import (
    ManifestError,
    check_against_catalog,
    load_manifest,
    master_problems,
    prefix_clashes,
)

EXPORT_FORMATS = ("json", "xlsx", "html")
DEFAULT_EXPORT_FOLDER = Path("var") / "catalog"
# Metadata values wrap at this many terminal columns, so a long summary stays readable in an 80-120 column terminal.
VALUE_WIDTH = 80
ITEM_COLUMNS = ("序号", "标识符", "信息项名称", "数据类型", "长度", "必填", "代码表", "个人信息")


def manifest_folder() -> Path:
    """Where the shipped legacy manifests are (`schemas/legacy`)."""
    return Path(str(importlib_resources.files("schemas"))) / "legacy"


def check_manifests(catalog: Catalog) -> list[Problem]:
    """Problems between every legacy manifest and `catalog`: unreadable manifests, unknown or unfed items."""
    problems = []
    loaded = []
    for path in sorted(manifest_folder().glob("*.yaml")):
        try:
            manifest = load_manifest(path)
        except (ManifestError, yaml.YAMLError) as exc:
            # The loader's message already starts with the path; keep the rest as the message.
            problems.append(Problem(path, "manifest", str(exc).removeprefix(f"{path}: ")))
            continue
        loaded.append(manifest)
        for message in check_against_catalog(manifest, catalog):
            fed = "unknown resource" in message or "catalogue source" in message
            problems.append(Problem(path, "partition.resources" if fed else "items", message))
    # Record ids of two sources must never collide.
    problems += [Problem(manifest_folder(), "record_id_prefix", m) for m in prefix_clashes(loaded)]
    problems += [Problem(manifest_folder(), "items", m) for m in master_problems(loaded)]
    return problems + check_derived(catalog)


def check_derived(catalog: Catalog) -> list[Problem]:
    """Problems between every derived source (`schemas/derived`) and `catalog`."""
    from schemas.derived import check_derivation, load_derivation

    problems = []
    for path in sorted((manifest_folder().parent / "derived").glob("*.yaml")):
        try:
            derivation = load_derivation(path)
        except (ManifestError, yaml.YAMLError) as exc:
            problems.append(Problem(path, "derived", str(exc).removeprefix(f"{path}: ")))
            continue
        problems += [Problem(path, "inputs", message) for message in check_derivation(derivation, catalog)]
    return problems


def _load(args: argparse.Namespace) -> Catalog:
    return load_catalog(Path(args.root) if args.root else None)


def check_command(args: argparse.Namespace) -> int:
    """`sdx catalog check`: print a one-line OK and return 0, or each problem on stderr and return 1."""
    try:
        catalog = _load(args)
    except CatalogError as exc:
        print(f"catalogue does not load: {exc}", file=sys.stderr)
        return 1
    problems = check_catalog(catalog) + check_manifests(catalog)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"{len(problems)} problem(s) in the catalogue at {catalog.root}", file=sys.stderr)
        return 1
    print(f"catalogue OK: {len(catalog.resources)} resources, {len(catalog.codelists)} code lists")
    return 0


def show_command(args: argparse.Namespace) -> int:
    """`sdx catalog show RESOURCE`: the resource's metadata, items, rules and receivers as plain text."""
    try:
        catalog = _load(args)
        resource = catalog.resource(args.resource)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(format_resource(catalog, resource))
    return 0


def export_command(args: argparse.Namespace) -> int:
    """`sdx catalog export`: write the catalogue as JSON, the 编目 workbook or an HTML page; print the path."""
    try:
        catalog = _load(args)
    except CatalogError as exc:
        print(f"catalogue does not load: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else DEFAULT_EXPORT_FOLDER / f"catalogue.{args.format}"
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.format == "xlsx":
        export_xlsx(catalog, out)
    elif args.format == "html":
        out.write_text(export_html(catalog), encoding="utf-8")
    else:
        out.write_text(export_json(catalog), encoding="utf-8")
    print(out)
    return 0


# ---- plain-text layout ----------------------------------------------------------------------------------


def _pad(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal columns (CJK characters take two)."""
    return text + " " * (width - display_width(text))


def _wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` terminal columns, broken after list punctuation where possible."""
    # Chinese has no spaces between words: break after 、，；or a space, and inside a run only when it is
    # wider than a whole line.
    lines, current = [], ""
    for token in re.split(r"(?<=[、，,；;\s])", text):
        if current and display_width(current + token) > width:
            lines.append(current.rstrip())
            current = ""
        while display_width(token) > width:
            cut = next(i for i in range(len(token), 0, -1) if display_width(token[:i]) <= width)
            lines.append(token[:cut])
            token = token[cut:]
        current += token
    return [*lines, current]


def text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Lines of an aligned table: header, a rule, then the rows; trailing spaces stripped."""
    widths = [max(display_width(cell) for cell in column) for column in zip(header, *rows, strict=False)]
    lines = [header, tuple("-" * w for w in widths), *rows]
    return [
        "  ".join(_pad(cell, w) for cell, w in zip(line, widths, strict=False)).rstrip() for line in lines
    ]


def format_resource(catalog: Catalog, resource: Resource) -> str:
    """A resource as readable text: title, 编目 metadata, items, rules and receivers."""
    label_width = max(display_width(label) for label, _ in metadata_pairs(catalog, resource))
    lines = [f"{resource.title}  ({resource.name})", ""]
    for label, value in metadata_pairs(catalog, resource):
        # Folded YAML keeps line breaks of long summaries as spaces: collapse every run of white space.
        text = " ".join(value.split()) or "—"
        for number, part in enumerate(_wrap(text, VALUE_WIDTH)):
            lines.append(f"{_pad(label if number == 0 else '', label_width)}  {part}")
    lines += ["", f"信息项（{len(resource.items)}）", *text_table(ITEM_COLUMNS, _item_rows(resource))]
    lines += ["", "校验规则", *_rule_lines(resource), "", "接收方", *_receiver_lines(resource)]
    return "\n".join(lines)


def _item_rows(resource: Resource) -> list[tuple[str, ...]]:
    return [
        (
            str(number),
            it.name,
            it.title,
            guide_type(it),
            str(it.length or ""),
            "是" if it.required else "",
            it.codelist or "",
            personal_name(it),
        )
        for number, it in enumerate(resource.items, start=1)
    ]


def _rule_lines(resource: Resource) -> list[str]:
    if not resource.rules:
        return ["  —"]
    return [
        f"  {rule.rule}: " + ", ".join(f"{key}={value}" for key, value in rule.params.items())
        for rule in resource.rules
    ]


def _receiver_lines(resource: Resource) -> list[str]:
    if not resource.receivers:
        return ["  —"]
    lines = []
    for name, settings in resource.receivers.items():
        settings = settings if isinstance(settings, dict) else {}
        plain = ", ".join(f"{k}={v}" for k, v in settings.items() if k != "fields")
        lines.append(f"  {name}: {plain}")
        for field, item in (settings.get("fields") or {}).items():
            lines.append(f"    {field} ← {item}")
    return lines
