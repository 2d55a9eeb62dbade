"""Where derived resources go in a run's plan."""

from __future__ import annotations

from pipeline_checks import LOGICAL

from exchange.context import RunContext
from exchange.pipeline import plan
from schemas.derived import derivations, inputs_fed
from schemas.manifest import manifest_for, manifests


def test_derived_resources_come_after_the_sources_they_read():
    planned = list(plan(RunContext(run_id="plan", logical_date=LOGICAL)))
    for name, derivation in derivations().items():
        if not inputs_fed(derivation):
            assert name not in planned  # by default it waits for sources of all it reads
            continue
        sources = {manifest_for(i).source for i in derivation.input_names()}
        assert all(planned.index(s) < planned.index(name) for s in sources)
    assert "licences" in planned


def test_a_derived_resource_asked_for_is_planned_alone():
    ctx = RunContext(run_id="plan", logical_date=LOGICAL)
    assert plan(ctx, ["hazchem_enterprises"]) == {"hazchem_enterprises": ["hazchem_enterprises"]}
    assert list(plan(ctx, ["licences", "permit_0101"])) == ["permits", "licences"]


def test_the_master_source_comes_before_every_source_resolving_codes_by_it():
    planned = list(plan(RunContext(run_id="plan", logical_date=LOGICAL)))
    users = {m.source for m in manifests().values() if any(s.master for s in m.items.values())}
    assert users and "competence_certificates" in users  # sorts before enterprises by name
    assert all(planned.index("enterprises") < planned.index(source) for source in users)
