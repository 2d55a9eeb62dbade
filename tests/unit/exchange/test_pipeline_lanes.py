"""The run's concurrency: gateway lanes beside the rest of the run, sources in waves of independent ones."""

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


def test_sources_run_in_waves_master_first_then_legacy_then_derived_after_what_they_read(monkeypatch):
    from schemas.derived import derivations
    from schemas.manifest import master_sources

    planned = {
        source: []
        for source in [*sorted(master_sources()), "permits", "certificates", *sorted(derivations())]
    }
    waves = pipeline._waves(planned)
    assert waves[0] == sorted(master_sources())
    assert waves[1] == ["permits", "certificates"]
    # The shipped derived sources read legacy resources only: one wave.
    assert waves[2:] == [list(derivations())]
    # One that reads another derived resource waits for it.
    reader = SimpleNamespace(input_names=lambda: ["licences", "permit_0101"])
    monkeypatch.setattr(pipeline, "derivations", lambda: {**derivations(), "licence_stats": reader})
    waves = pipeline._waves({**planned, "licence_stats": []})
    assert waves[2:] == [list(derivations()), ["licence_stats"]]
