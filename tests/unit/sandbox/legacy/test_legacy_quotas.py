"""Exact quirk quotas: every planned instance lands on a row that can take it."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from sandbox.legacy.quirks import QUIRKS, resolve_rates
from sandbox.legacy.quotas import NOTHING, QuirkPicker, plan_quotas


@given(
    rows=st.integers(min_value=1, max_value=400),
    shares=st.lists(st.floats(min_value=0, max_value=0.3), min_size=1, max_size=5),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_a_picker_hands_out_exactly_its_quotas(rows: int, shares: list[float], seed: int) -> None:
    quotas = {f"q{index}": int(share * rows) for index, share in enumerate(shares)}
    while sum(quotas.values()) > rows:
        biggest = max(quotas, key=quotas.__getitem__)
        quotas[biggest] -= 1
    picker = QuirkPicker(random.Random(seed), quotas, rows)
    picked = [picker.pick() for _ in range(rows)]
    assert {name: picked.count(name) for name in quotas} == quotas
    assert picker.unplaced == 0


def test_quirks_a_row_cannot_take_go_to_the_next_row_that_can() -> None:
    picker = QuirkPicker(random.Random(1), {"a": 3}, 10)
    picked = [picker.pick(NOTHING if index % 2 else {"a"}) for index in range(10)]
    assert picked.count("a") == 3
    assert all(value is None for value in picked[1::2])


def test_take_gives_an_instance_out_of_turn_without_exceeding_the_quota() -> None:
    picker = QuirkPicker(random.Random(2), {"a": 1}, 5)
    assert picker.take("a") and not picker.take("a") and not picker.take("b")
    assert [picker.pick() for _ in range(5)] == [None] * 5


def test_every_quirk_gets_at_least_one_instance_in_a_small_database() -> None:
    counts = {
        table: 30 for table in {target.split(".")[0] for quirk in QUIRKS.values() for target in quirk.targets}
    }
    plan = plan_quotas(counts, resolve_rates())
    assert all(plan.total(name) >= 1 for name in QUIRKS)


def test_no_target_gets_more_quirks_than_rows() -> None:
    counts = {
        table: 5 for table in {target.split(".")[0] for quirk in QUIRKS.values() for target in quirk.targets}
    }
    plan = plan_quotas(counts, resolve_rates({name: 1.0 for name in QUIRKS}))
    assert all(sum(quotas.values()) <= 5 for quotas in plan.quotas.values())


def test_a_rate_of_zero_switches_a_quirk_off() -> None:
    counts = {
        table: 1000
        for table in {target.split(".")[0] for quirk in QUIRKS.values() for target in quirk.targets}
    }
    plan = plan_quotas(counts, resolve_rates({"date.slash": 0}))
    assert plan.total("date.slash") == 0 and plan.total("date.dotted") > 0


def test_the_catalogue_is_well_formed() -> None:
    from sandbox.legacy.tables import LEGACY_TABLES

    for quirk in QUIRKS.values():
        assert 0 < quirk.rate <= 1 and quirk.description and "\n" not in quirk.description, quirk.name
        for target in quirk.targets:
            table, column = target.split(".")
            assert column in LEGACY_TABLES[table].c, target
    assert QUIRKS["gxsj.null"].rate == 0.2
