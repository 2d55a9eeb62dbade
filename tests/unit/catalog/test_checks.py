"""`sdx catalog check`: the shipped catalogue is consistent, and each kind of breakage is named by file and field."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import default_catalog, load_catalog
from catalog.checks import GATEWAY_RECEIVERS, Problem, check_catalog
from exchange import cli
from exchange.catalog_commands import check_manifests

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped catalogue's data files."""
    target = tmp_path / "catalog"
    shutil.copytree(default_catalog().root, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit_yaml(path: Path, edit: Edit) -> None:
    """Change one catalogue file through its parsed form, so the test does not depend on its layout."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems_in(root: Path) -> list[Problem]:
    return check_catalog(load_catalog(root))


def assert_problem(problems: list[Problem], file: str, field: str) -> Problem:
    """The problem reported for `file` and `field`; fails with every problem listed when absent."""
    for problem in problems:
        if problem.file == Path(file) and problem.field == field:
            return problem
    listed = "\n".join(map(str, problems)) or "(none)"
    raise AssertionError(f"no problem for {file}: {field}; found:\n{listed}")


def a_resource() -> str:
    """A resource to break (the first by name); a fresh copy matches the shipped catalogue until edited."""
    return sorted(default_catalog().resources)[0]


# ---- the shipped catalogue ------------------------------------------------------------------------------


def test_shipped_catalogue_has_no_problems():
    assert [str(p) for p in check_catalog(default_catalog())] == []


def test_shipped_manifests_agree_with_the_catalogue():
    assert [str(p) for p in check_manifests(default_catalog())] == []


def test_problem_reads_file_field_message():
    problem = Problem(Path("resources") / "permit_0101.yaml", "items.zsbh.type", "unknown type 'x'")
    assert str(problem) == "resources/permit_0101.yaml: items.zsbh.type: unknown type 'x'"


# ---- one breakage each ----------------------------------------------------------------------------------


def test_unknown_item_type(catalog_copy: Path):
    name = a_resource()
    edit_yaml(
        catalog_copy / "resources" / f"{name}.yaml",
        lambda d: d.setdefault("items", []).append({"name": "zz_probe", "title": "探针", "type": "textual"}),
    )
    problem = assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", "items.zz_probe.type")
    assert "textual" in problem.message


def test_problem_in_a_template_item_names_the_template(catalog_copy: Path):
    path = catalog_copy / "templates" / "permit_certificate.yaml"
    first = yaml.safe_load(path.read_text(encoding="utf-8"))["items"][0]["name"]
    edit_yaml(path, lambda d: d["items"][0].update(type="textual"))
    assert_problem(problems_in(catalog_copy), "templates/permit_certificate.yaml", f"items.{first}.type")


def test_duplicate_item_name(catalog_copy: Path):
    name = a_resource()
    existing = default_catalog().resource(name).items[0]
    edit_yaml(
        catalog_copy / "resources" / f"{name}.yaml",
        lambda d: d.setdefault("items", []).append({"name": existing.name, "title": "重复", "type": "text"}),
    )
    assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", f"items.{existing.name}.name")


def test_codelist_that_does_not_exist(catalog_copy: Path):
    name = a_resource()
    item = {"name": "zz_probe", "title": "探针", "type": "code", "codelist": "no_such_list"}
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.setdefault("items", []).append(item))
    problem = assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", "items.zz_probe.codelist")
    assert "no_such_list" in problem.message


def test_rule_referencing_a_missing_item(catalog_copy: Path):
    name = a_resource()
    resource = default_catalog().resource(name)
    first_date = next(it.name for it in resource.items if it.type == "date")
    rule = {"rule": "date_order", "earlier": first_date, "later": "no_such_item"}
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.setdefault("rules", []).append(rule))
    index = len(resource.rules)  # the new rule comes after the template's and the resource's own
    problem = assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", f"rules[{index}].later")
    assert "no_such_item" in problem.message


def test_unknown_rule_kind(catalog_copy: Path):
    name = a_resource()
    index = len(default_catalog().resource(name).rules)
    rule = {"rule": "no_such_rule", "item": "x"}
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.setdefault("rules", []).append(rule))
    assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", f"rules[{index}].rule")


def test_duplicate_code_sequence(catalog_copy: Path):
    catalog = default_catalog()
    first, second = sorted(catalog.resources)[:2]
    sequence = catalog.resource(first).metadata["code"]["sequence"]
    edit_yaml(catalog_copy / "resources" / f"{second}.yaml", lambda d: d["code"].update(sequence=sequence))
    problem = assert_problem(problems_in(catalog_copy), f"resources/{second}.yaml", "code.sequence")
    assert first in problem.message


def test_missing_summary(catalog_copy: Path):
    name = a_resource()
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.pop("summary", None))
    assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", "summary")


def test_unknown_sharing_attribute(catalog_copy: Path):
    name = a_resource()
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.update(sharing={"attribute": "共享"}))
    assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", "sharing.attribute")


def test_permit_type_outside_the_code_list(catalog_copy: Path):
    name = next(n for n, r in sorted(default_catalog().resources.items()) if r.permit_type)
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.update(permit_type="9999"))
    assert_problem(problems_in(catalog_copy), f"resources/{name}.yaml", "permit_type")


def test_duplicate_code_in_a_code_list(catalog_copy: Path):
    path = catalog_copy / "codelists" / "certificate_status.yaml"
    edit_yaml(path, lambda d: d["entries"].append(dict(d["entries"][0])))
    first = default_catalog().codelist("certificate_status").entries[0].code
    assert_problem(problems_in(catalog_copy), "codelists/certificate_status.yaml", f"entries.{first}")


# ---- gateway receivers ----------------------------------------------------------------------------------


def gateway_resource(root: Path) -> tuple[str, str, str]:
    """A resource with a gateway receiver: (resource, receiver, gateway resource); made if none exists yet."""
    for name, resource in sorted(default_catalog().resources.items()):
        for receiver in GATEWAY_RECEIVERS:
            if receiver in resource.receivers:
                return name, receiver, resource.receivers[receiver]["resource"]
    # Before the catalogue has one: a minimal resource mapping every field of the gateway's `cases`.
    schema = yaml.safe_load((root / "contracts" / "gateway.yaml").read_text(encoding="utf-8"))
    fields = list(schema["components"]["schemas"]["cases"]["properties"])
    items = [{"name": f"f{i}", "title": field, "type": "text"} for i, field in enumerate(fields)]
    probe = {
        "name": "zz_gateway_probe",
        "title": "网关探针",
        "source": "cases",
        "items": items,
        "receivers": {
            "service_network": {"resource": "cases", "fields": {f: f"f{i}" for i, f in enumerate(fields)}}
        },
    }
    (root / "resources" / "zz_gateway_probe.yaml").write_text(
        yaml.safe_dump(probe, allow_unicode=True), encoding="utf-8"
    )
    return "zz_gateway_probe", "service_network", "cases"


def test_gateway_required_field_left_unmapped(catalog_copy: Path):
    name, receiver, target = gateway_resource(catalog_copy)
    contract = yaml.safe_load((catalog_copy / "contracts" / "gateway.yaml").read_text(encoding="utf-8"))
    required = contract["components"]["schemas"][target]["required"][0]
    edit_yaml(
        catalog_copy / "resources" / f"{name}.yaml",
        lambda d: d["receivers"][receiver]["fields"].pop(required),
    )
    problems = problems_in(catalog_copy)
    assert_problem(problems, f"resources/{name}.yaml", f"receivers.{receiver}.fields.{required}")


def test_gateway_field_mapped_to_a_missing_item(catalog_copy: Path):
    name, receiver, _ = gateway_resource(catalog_copy)
    path = catalog_copy / "resources" / f"{name}.yaml"
    fields = yaml.safe_load(path.read_text(encoding="utf-8"))["receivers"][receiver]["fields"]
    field = next(iter(fields))
    edit_yaml(path, lambda d: d["receivers"][receiver]["fields"].update({field: "no_such_item"}))
    assert_problem(
        problems_in(catalog_copy), f"resources/{name}.yaml", f"receivers.{receiver}.fields.{field}"
    )


def test_gateway_contract_missing_is_a_problem_not_a_crash(catalog_copy: Path):
    name, receiver, _ = gateway_resource(catalog_copy)
    (catalog_copy / "contracts" / "gateway.yaml").unlink()
    problem = assert_problem(problems_in(catalog_copy), "contracts/gateway.yaml", f"receivers.{receiver}")
    assert name in problem.message


# ---- the command line -----------------------------------------------------------------------------------


def test_cli_check_of_the_shipped_catalogue_exits_0(capsys):
    assert cli.main(["catalog", "check"]) == 0
    catalog = default_catalog()
    expected = f"catalogue OK: {len(catalog.resources)} resources, {len(catalog.codelists)} code lists"
    assert capsys.readouterr().out.strip() == expected


def test_cli_check_of_a_broken_copy_exits_1_naming_the_file(catalog_copy: Path, capsys):
    name = a_resource()
    edit_yaml(catalog_copy / "resources" / f"{name}.yaml", lambda d: d.pop("summary", None))
    assert cli.main(["catalog", "check", "--root", str(catalog_copy)]) == 1
    err = capsys.readouterr().err
    assert f"resources/{name}.yaml: summary:" in err


def test_cli_check_reports_a_catalogue_that_does_not_load(catalog_copy: Path, capsys):
    path = catalog_copy / "templates" / "permit_certificate.yaml"
    edit_yaml(path, lambda d: d["items"][0].pop("type"))
    assert cli.main(["catalog", "check", "--root", str(catalog_copy)]) == 1
    assert "permit_certificate.yaml" in capsys.readouterr().err


def test_cli_show_prints_the_items_with_their_titles(capsys):
    catalog = default_catalog()
    resource = catalog.resource(sorted(catalog.resources)[0])
    assert cli.main(["catalog", "show", resource.name]) == 0
    out = capsys.readouterr().out
    assert resource.title in out
    assert all(it.title in out and it.name in out for it in resource.items)


def test_cli_show_of_an_unknown_resource_exits_1(capsys):
    assert cli.main(["catalog", "show", "no_such_resource"]) == 1
    assert "no_such_resource" in capsys.readouterr().err


def test_status_correction_needs_a_code_list_marking_its_dated_statuses(catalog_copy: Path):
    def unmark(data: dict[str, Any]) -> None:
        for entry in data["entries"]:
            entry.pop("dated", None)

    edit_yaml(catalog_copy / "codelists" / "certificate_status.yaml", unmark)
    found = [p for p in problems_in(catalog_copy) if "dated: valid" in p.message]
    assert found and all(p.field.endswith(".status") for p in found)
    assert not [p for p in check_catalog(default_catalog()) if "dated" in p.message]
