"""No installed package is a version a known advisory affects (.ci/advisories.yaml, checked offline)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import yaml
from packaging.utils import canonicalize_name
from packaging.version import Version

ADVISORIES = Path(__file__).resolve().parents[2] / ".ci" / "advisories.yaml"


def affected(advisories: list[dict], installed: dict[str, str]) -> list[str]:
    """'package version: id (summary)' for every installed version inside an advisory's affected range."""
    hits = []
    for advisory in advisories:
        name = canonicalize_name(advisory["package"])
        if name not in installed:
            continue
        version = Version(installed[name])
        for span in advisory["affected"]:
            fixed = span.get("fixed")
            if Version(str(span["introduced"])) <= version and (not fixed or version < Version(str(fixed))):
                hits.append(f"{name} {version}: {advisory['id']} ({advisory['summary']})")
    return hits


def _installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}


def test_no_installed_package_is_affected_by_a_known_advisory():
    advisories = yaml.safe_load(ADVISORIES.read_text(encoding="utf-8"))
    assert all({"id", "package", "affected", "summary"} <= set(a) for a in advisories)
    assert affected(advisories, _installed()) == []


def test_the_check_reports_an_affected_version():
    advisories = [
        {
            "id": "T-1",
            "package": "Some_Pkg",
            "affected": [{"introduced": "1.0", "fixed": "1.4.2"}],
            "summary": "x",
        },
        {"id": "T-2", "package": "some-pkg", "affected": [{"introduced": "0"}], "summary": "no fix yet"},
    ]
    assert affected(advisories, {"some-pkg": "1.4.1"}) == [
        "some-pkg 1.4.1: T-1 (x)",
        "some-pkg 1.4.1: T-2 (no fix yet)",
    ]
    assert affected(advisories[:1], {"some-pkg": "1.4.2"}) == []
    assert affected(advisories[:1], {"some-pkg": "0.9"}) == []
