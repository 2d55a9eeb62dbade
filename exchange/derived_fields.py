"""The computed fields of derived resources, by the builder names their files give (schemas/derived/)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from catalog import Catalog, Resource
from quality.standardize.codes import DatedStatus
from quality.standardize.identifiers import build_licence_id
from schemas.derived import ItemSpec

# Surface values are printed text: identifiers and phones of people never go there.
_NEVER_PRINTED = ("id", "phone")


@dataclass
class BuildInputs:
    """What a builder reads for one derived record.

    `rows` holds, for each input, the live curated rows of the record (one row of one input for a licence);
    `values` the items built so far; `previous` the record's curated row before this run, if any.
    """

    rows: dict[str, list[dict[str, Any]]]
    catalog: Catalog
    as_of: dt.date
    values: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] | None = None
    input_resource: Resource | None = None  # per record: the type the record was built from
    specs: dict[str, ItemSpec] = field(default_factory=dict)

    @property
    def resource(self) -> Resource:
        """The input resource of a per-record derivation."""
        if self.input_resource is None:
            raise ValueError("only a per-record derivation builds from one input resource")
        return self.input_resource

    def row(self) -> dict[str, Any]:
        """The one input row of a per-record derivation."""
        return self.rows[self.resource.name][0]

    def same_version_as_before(self) -> bool:
        """Whether the record is rebuilt unchanged: its previous licence id is the one built now."""
        previous = self.previous or {}
        return bool(previous) and previous.get("licence_id") == self.values.get("licence_id")


Builder = Callable[[BuildInputs, dict[str, Any]], Any]


def licence_serial(source_key: str) -> str:
    """The licence serial of a certificate: its legacy key in the identifier's alphabet (0-9, A-Z)."""
    return re.sub(r"[^0-9A-Z]", "", str(source_key).upper())


def licence_id(inputs: BuildInputs, params: dict[str, Any]) -> str | None:
    """One licence version per certificate version: the certificate's seq is the licence's version."""
    row, values = inputs.row(), inputs.values
    type_code, issuer = values.get("licence_type_code"), values.get("issuer_code")
    if not type_code or not issuer:
        return None  # the missing item is refused on its own, with its own reason
    return build_licence_id(
        str(type_code), str(issuer), licence_serial(row["sdx_source_key"]), int(row["sdx_seq"])
    )


def status_from_dates(inputs: BuildInputs, params: dict[str, Any]) -> str:
    """The status of a type that records none: valid until its valid-to date (none: no expiry), expired after.

    The licences' `status_from_dates` rule judges every licence by the same dates again when it is checked.
    """
    valid_to = inputs.values.get("valid_to")
    # The codes come from the status item's code list, where its entries are marked `dated`.
    status = DatedStatus.from_codelist(inputs.catalog.codelist(params["codelist"]))
    return status.expired if isinstance(valid_to, dt.date) and valid_to < inputs.as_of else status.valid


def operate_type(inputs: BuildInputs, params: dict[str, Any]) -> str:
    """What happened to the licence in this version, by the codes `params` give.

    `by_status` maps a licence status onto its operate type; otherwise it is `new` for a first version,
    `renewed` when the validity reaches further than the previous version's, and `changed` else.
    """
    previous, values = inputs.previous, inputs.values
    if previous and inputs.same_version_as_before():
        return str(previous["operate_type"])
    by_status: dict[str, str] = params["by_status"]
    if values.get("status") in by_status:
        return by_status[str(values["status"])]
    if not previous or previous.get("sdx_deleted"):
        return str(params["new"])
    before, now = previous.get("valid_to"), values.get("valid_to")
    renewed = before is not None and (now is None or str(now) > str(before))
    return str(params["renewed"] if renewed else params["changed"])


def associated_licence_id(inputs: BuildInputs, params: dict[str, Any]) -> str | None:
    """The licence this version replaces: the holder's previous version under the same certificate number."""
    previous, values = inputs.previous, inputs.values
    if not previous or previous.get("sdx_deleted"):
        return None
    if inputs.same_version_as_before():
        return previous.get("associated_licence_id")
    same = all(previous.get(k) == values.get(k) for k in ("holder_id", "cert_no"))
    return previous.get("licence_id") if same else None


def _printed(resource: Resource, catalog: Catalog, name: str, value: Any) -> str | None:
    if value is None:
        return None
    item = resource.item(name)
    if item.codelist:
        # Codes are printed by their names (a code the list lost stays as it is).
        names = {e.code: e.name for e in catalog.codelist(item.codelist).entries}
        codes = json.loads(value) if item.type == "code_list" else [str(value)]
        return "、".join(names.get(code, code) for code in codes)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def surface(inputs: BuildInputs, params: dict[str, Any]) -> dict[str, str | None]:
    """照面信息: the input's items no other licence item took, by title, as printed ({} when none)."""
    resource, row = inputs.resource, inputs.row()
    taken = {spec.argument for spec in inputs.specs.values() if spec.kind == "from"}
    taken |= {
        spec.default.argument
        for spec in inputs.specs.values()
        if spec.default and spec.default.kind == "from"
    }
    left_out = set(params.get("leave_out", []))
    return {
        item.title: _printed(resource, inputs.catalog, item.name, row.get(item.name))
        for item in resource.items
        if item.name not in taken | left_out and item.personal not in _NEVER_PRINTED
    }


def _held(inputs: BuildInputs, names: list[str], held_status: dict[str, list[str]]) -> list[str]:
    # The permit resources of which the enterprise holds a certificate whose status item has a held code.
    ((item, codes),) = held_status.items()
    return [name for name in names if any(r.get(item) in codes for r in inputs.rows.get(name, []))]


def hazchem_enterprise(inputs: BuildInputs, params: dict[str, Any]) -> bool:
    """Whether an enterprise is a hazardous-chemical one: flagged so in the master, or holding a 01xx permit."""
    master, flag = params["flag"].split(".", 1)
    flagged = any(bool(r.get(flag)) for r in inputs.rows.get(master, []))
    return flagged or bool(_held(inputs, list(params["permits"]), params["held_status"]))


def enterprise_categories(inputs: BuildInputs, params: dict[str, Any]) -> list[str] | None:
    """企业类别 from the permits held and the enterprise's latest integrity declaration (None when neither)."""
    permits: dict[str, str] = params["permits"]
    codes = {permits[name] for name in _held(inputs, list(permits), params["held_status"])}
    declared = params["declarations"]
    rows = inputs.rows.get(declared["input"], [])
    if rows:
        latest = max(rows, key=lambda r: tuple(str(r.get(k) or "") for k in declared["latest_by"]))
        listed = latest.get(declared["item"])
        codes |= set(json.loads(listed) if listed else [])
    return sorted(codes) or None


def count_rows(inputs: BuildInputs, params: dict[str, Any]) -> int:
    """How many live records of one input the derived record has (重大危险源数量: its 0602 filings)."""
    return len(inputs.rows.get(params["input"], []))


BUILDERS: dict[str, Builder] = {
    "licence_id": licence_id,
    "status_from_dates": status_from_dates,
    "operate_type": operate_type,
    "associated_licence_id": associated_licence_id,
    "surface": surface,
    "hazchem_enterprise": hazchem_enterprise,
    "enterprise_categories": enterprise_categories,
    "count_rows": count_rows,
}
