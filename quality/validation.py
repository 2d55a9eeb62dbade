"""Deciding pass or quarantine for each record from its findings and the resource's row rules."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from catalog import Catalog, Resource
from quality.issues import issue_kind
from quality.records import StandardizedBatch
from quality.rules import RuleOutcome, apply_corrections, compile_rules, evaluate


@dataclass
class Verdict:
    """A judged batch: records with `quarantined` and `warnings`, every finding, and each rule's outcome."""

    records: pd.DataFrame
    findings: pd.DataFrame
    outcomes: list[RuleOutcome]

    @property
    def valid(self) -> pd.DataFrame:
        """Records that pass (deletes included: a delete needs no valid data)."""
        return self.records[~self.records["quarantined"]]

    @property
    def quarantined(self) -> pd.DataFrame:
        """Records held back, one row each."""
        return self.records[self.records["quarantined"]]


def _rule_findings(outcomes: list[RuleOutcome], records: pd.DataFrame, known: pd.DataFrame) -> pd.DataFrame:
    # A required item that is empty because its value could not be read already has its own, more
    # precise finding (e.g. an impossible date): the clerk sees that one, not also "required".
    errored = set(zip(known["row"], known["item"], strict=True))
    rows = []
    for outcome in outcomes:
        item = outcome.check.item
        for row in records.index[outcome.fails.to_numpy()]:
            if outcome.check.issue == "required.missing" and (row, item) in errored:
                continue
            rows.append(
                {"row": row, "item": item, "issue": outcome.check.issue, "value": records.at[row, item]}
            )
    return pd.DataFrame(rows, columns=["row", "item", "issue", "value"])


def judge(resource: Resource, batch: StandardizedBatch, catalog: Catalog, as_of: dt.date) -> Verdict:
    """Apply corrections and row rules; a record with any error-severity finding is quarantined."""
    records = batch.records.copy()
    refused = batch.findings.loc[batch.findings["issue"].map(lambda c: issue_kind(c).is_error).astype(bool)]
    corrections = apply_corrections(resource, records, catalog, as_of, refused)
    outcomes = evaluate(compile_rules(resource, catalog), records)
    known = pd.concat([batch.findings, corrections], ignore_index=True)
    # .loc with a bool mask: plain [] reads an empty object-dtype mask as a list of column names.
    errors_known = known.loc[known["issue"].map(lambda c: issue_kind(c).is_error).astype(bool)]
    findings = pd.concat([known, _rule_findings(outcomes, records, errors_known)], ignore_index=True)
    # Deletes pass whatever their data says: the receiver only needs to forget the record.
    findings = findings.loc[~findings["row"].map(records["deleted"]).astype(bool)].reset_index(drop=True)
    findings["severity"] = findings["issue"].map(lambda c: issue_kind(c).severity)
    findings["record_id"] = findings["row"].map(records["record_id"])
    errors = findings[findings["severity"] == "error"]
    records["quarantined"] = records.index.isin(errors["row"].unique())
    warnings = (
        findings[findings["severity"] == "warning"]
        .groupby("row")["issue"]
        .agg(lambda s: ";".join(sorted(set(s))))
    )
    records["warnings"] = records.index.map(warnings).astype(object)
    records["warnings"] = records["warnings"].where(records["warnings"].notna(), None)
    return Verdict(records=records, findings=findings, outcomes=outcomes)
