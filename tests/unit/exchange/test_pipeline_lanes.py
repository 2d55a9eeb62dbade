"""The run's concurrency: gateway lanes beside the rest of the run, steps in workers as soon as they may run."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest

from exchange import pipeline
from exchange.orchestration import BIGDATA_CENTRE, GATEWAY_RECEIVERS


def _ctx(dialect: str) -> SimpleNamespace:
    engine = SimpleNamespace(dialect=SimpleNamespace(name=dialect))
    return SimpleNamespace(curated=SimpleNamespace(get_conn=lambda: engine))


@pytest.fixture
def deliveries(monkeypatch):
    done: list[tuple[str, str, str]] = []

    def deliver(_ctx, resource, receiver):
        time.sleep(0.01)  # long enough for the main line to run ahead if the delivery is in the background
        done.append((resource, receiver, threading.current_thread().name))
        if resource == "broken":
            raise RuntimeError("receiver down")
        return {}

    monkeypatch.setattr(pipeline, "deliver", deliver)
    return done


def test_server_database_delivers_to_each_gateway_on_its_own_lane_in_plan_order(deliveries):
    main = threading.current_thread().name
    gateway = GATEWAY_RECEIVERS[0]
    with pipeline._GatewayLanes(_ctx("postgresql")) as lanes:
        for resource in ("r1", "r2", "r3"):
            lanes.deliver(resource, BIGDATA_CENTRE)
            lanes.deliver(resource, gateway)
        ran_ahead = len([d for d in deliveries if d[1] == gateway]) < 3
    assert ran_ahead
    centre = [d for d in deliveries if d[1] == BIGDATA_CENTRE]
    lane = [d for d in deliveries if d[1] == gateway]
    assert [d[2] for d in centre] == [main] * 3
    assert [d[0] for d in lane] == ["r1", "r2", "r3"]
    assert {d[2] for d in lane} == {f"deliver-{gateway}_0"}


def test_sqlite_delivers_everything_inline(deliveries):
    main = threading.current_thread().name
    with pipeline._GatewayLanes(_ctx("sqlite")) as lanes:
        for receiver in (BIGDATA_CENTRE, *GATEWAY_RECEIVERS):
            lanes.deliver("r1", receiver)
        assert len(deliveries) == 1 + len(GATEWAY_RECEIVERS)
    assert {d[2] for d in deliveries} == {main}


def test_a_lane_error_fails_the_run_after_every_lane_has_finished(deliveries):
    gateway = GATEWAY_RECEIVERS[0]
    with (
        pytest.raises(RuntimeError, match="receiver down"),
        pipeline._GatewayLanes(_ctx("postgresql")) as lanes,
    ):
        lanes.deliver("broken", gateway)
        lanes.deliver("after", gateway)
    assert [d[0] for d in deliveries] == ["broken", "after"]


def _steps_in_order(planned, finish_order=None):
    """Run a schedule by hand with two workers: each round starts what may start, then ends the oldest."""
    schedule = pipeline._Schedule(planned)
    started, running = [], []
    while True:
        while len(running) < 2 and (step := schedule.next()) is not None:
            started.append((step[0], step[1]))
            running.append(step)
        if not running:
            return started, schedule
        kind, _, names = running.pop(0 if finish_order is None else finish_order(running))
        schedule.done(kind, names)


def _plan():
    from schemas.derived import derivations
    from schemas.manifest import manifests, master_sources

    masters = sorted(master_sources())
    legacy = [s for s in sorted(manifests()) if s not in masters]
    return {
        **{s: manifests()[s].resources() for s in masters},
        **{s: manifests()[s].resources() for s in legacy},
        **{s: [s] for s in derivations()},
    }


def test_nothing_is_standardized_before_the_enterprise_master_is_curated_but_reads_go_on():
    from schemas.manifest import master_sources

    planned = _plan()
    started, schedule = _steps_in_order(planned)
    masters = {n for s in master_sources() for n in planned[s]}
    master_done = max(i for i, (kind, name) in enumerate(started) if kind == "resource" and name in masters)
    before = started[: master_done + 1]
    assert started[0] == ("read", sorted(master_sources())[0])
    assert all(name in masters for kind, name in before if kind == "resource")
    # The other worker reads legacy sources meanwhile instead of waiting.
    assert any(kind == "read" and name not in master_sources() for kind, name in before)
    assert schedule.left() == []
    everything = {n for names in planned.values() for n in names}
    assert {name for kind, name in started if kind == "resource"} == everything


def test_a_derived_resource_starts_once_what_it_reads_is_curated_and_before_other_resources():
    from schemas.derived import derivations

    planned = _plan()
    started, _ = _steps_in_order(planned)
    for derived, derivation in derivations().items():
        at = started.index(("read", derived))
        curated_before = {name for kind, name in started[:at] if kind == "resource"}
        assert set(derivation.input_names()) <= curated_before, derived
    # hazchem_enterprises reads fewer resources than the licences: it need not wait for all of them.
    hazchem = started.index(("read", "hazchem_enterprises"))
    later = [name for kind, name in started[hazchem:] if kind == "resource" and name not in derivations()]
    assert later, started


def test_a_derivation_reading_another_waits_for_it_and_one_that_can_never_start_is_an_error(monkeypatch):
    from schemas.derived import derivations

    reader = SimpleNamespace(input_names=lambda: ["licences", "permit_0101"])
    monkeypatch.setattr(pipeline, "derivations", lambda: {**derivations(), "licence_stats": reader})
    started, _ = _steps_in_order({**_plan(), "licence_stats": ["licence_stats"]})
    assert started.index(("read", "licence_stats")) > started.index(("resource", "licences"))

    # A resource step that never ends (its worker failed): what depends on it stays, and says so.
    planned = {"permits": ["permit_0101"], "licences": ["licences"]}
    schedule = pipeline._Schedule(planned)
    assert schedule.next() == ("read", "permits", ["permit_0101"])
    assert schedule.next() is None
    assert schedule.left() == ["licences"]


def test_resources_no_derivation_reads_wait_until_every_read_and_every_resource_it_reads_has_started():
    from schemas.derived import derivations
    from schemas.manifest import master_sources

    started, _ = _steps_in_order(_plan())
    read = {n for d in derivations().values() for n in d.input_names()}
    feeding = [i for i, (kind, name) in enumerate(started) if kind == "resource" and name in read]
    reads = [i for i, (kind, name) in enumerate(started) if kind == "read" and name not in derivations()]
    others = [
        i
        for i, (kind, name) in enumerate(started)
        if kind == "resource" and name not in read and name not in derivations()
        and name not in {n for s in master_sources() for n in _plan()[s]}
    ]  # fmt: skip
    assert others, "the shipped plan has resources no derivation reads (cases, industry_enterprises)"
    assert min(others) > max(feeding + reads)
