"""How many values of each target get each quirk, and which rows get them, decided in one streaming pass.

Exact quotas instead of coin flips: a quirk with a rate above zero occurs at least once in every database,
however small, and a rate of 0.01 on 700 rows gives 7 instances, not "about 7, sometimes none". Rows are
chosen by sequential sampling (each row is chosen with probability quota left / rows left), so a table is
generated chunk by chunk without knowing its rows in advance.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Container, Mapping
from dataclasses import dataclass

from sandbox.legacy.quirks import QUIRKS

#: Pass as ``allowed`` when the value cannot take any quirk (it is NULL, say).
NOTHING: frozenset[str] = frozenset()


class QuirkPicker:
    """Chooses, row by row, which quirk of one target each row gets, exactly ``quota`` times each.

    A quirk drawn for a row that cannot take it (its value is NULL, or it is the wrong kind of value) is
    owed and given to the next row that can, so quotas hold even when eligibility varies.
    """

    __slots__ = ("_left", "_names", "_owed", "_remaining", "_rng", "_total")

    def __init__(self, rng: random.Random, quotas: Mapping[str, int], rows: int) -> None:
        """Hand out ``quotas`` (instances per quirk) over ``rows`` rows, choosing with ``rng``."""
        self._rng = rng
        self._names = [name for name, count in quotas.items() if count > 0]
        self._left = [quotas[name] for name in self._names]
        self._total = sum(self._left)
        self._remaining = rows
        self._owed: list[str] = []

    def pick(self, allowed: Container[str] | None = None) -> str | None:
        """Return the quirk for the next row, or None for a clean value.

        Args:
            allowed: the quirks this row's value can take; None for any, ``NOTHING`` for none.

        """
        drawn = None
        if self._total and self._rng.random() * self._remaining < self._total:
            drawn = self._draw()
        if self._remaining > 0:
            self._remaining -= 1
        if drawn is not None:
            if allowed is None or drawn in allowed:
                return drawn
            self._owed.append(drawn)
            return None
        return self._repay(allowed) if self._owed else None

    def take(self, quirk: str) -> bool:
        """Give one instance of ``quirk`` to the current row out of turn, if any is left; tell whether it was.

        For rows that call for a quirk more than others do; the quota still holds exactly.
        """
        if quirk not in self._names:
            return False
        index = self._names.index(quirk)
        if not self._left[index]:
            return False
        self._left[index] -= 1
        self._total -= 1
        return True

    def _draw(self) -> str:
        slot = self._rng.randrange(self._total)
        for index, left in enumerate(self._left):
            if slot < left:
                self._left[index] -= 1
                self._total -= 1
                return self._names[index]
            slot -= left
        raise AssertionError("quota bookkeeping out of step")  # pragma: no cover

    def _repay(self, allowed: Container[str] | None) -> str | None:
        for index, name in enumerate(self._owed):
            if allowed is None or name in allowed:
                del self._owed[index]
                return name
        return None

    @property
    def unplaced(self) -> int:
        """Return how many instances have not been given to a row yet (not drawn, or owed)."""
        return len(self._owed) + self._total


@dataclass(frozen=True)
class QuotaPlan:
    """The number of instances of every quirk for every target of one database."""

    quotas: Mapping[str, Mapping[str, int]]  # "TABLE.COLUMN" -> quirk -> count

    def picker(self, table: str, column: str, rng: random.Random, rows: int) -> QuirkPicker | None:
        """Return a picker for one target over ``rows`` rows, or None when the target gets no quirk."""
        quotas = self.quotas.get(f"{table}.{column}")
        if not quotas or not any(quotas.values()):
            return None
        return QuirkPicker(rng, quotas, rows)

    def pickers(self, table: str, rng: random.Random, rows: int) -> dict[str, QuirkPicker]:
        """Return a picker for every target column of ``table``, by column name."""
        pickers = {}
        for target in self.quotas:
            target_table, column = target.split(".")
            if target_table == table:
                picker = self.picker(table, column, rng, rows)
                if picker is not None:
                    pickers[column] = picker
        return pickers

    def total(self, quirk: str) -> int:
        """Return the planned number of instances of one quirk over all its targets."""
        return sum(quotas.get(quirk, 0) for quotas in self.quotas.values())


def plan_quotas(
    row_counts: Mapping[str, int],
    rates: Mapping[str, float],
    shares: Mapping[tuple[str, str], float] | None = None,
) -> QuotaPlan:
    """Turn rates into instance counts per target.

    Args:
        row_counts: rows of every table.
        rates: rate of every quirk (see ``quirks.resolve_rates``).
        shares: for (quirk, target) pairs whose rate counts only some rows, the expected share of rows
            that counts (rows created before 2012 for ``gxsj.null``); 1 when absent.

    Returns:
        The plan. A quirk with a rate above zero gets at least one instance, on its largest target, and
        no target gets more quirks than it has rows.

    """
    shares = shares or {}
    quotas: dict[str, dict[str, int]] = defaultdict(dict)
    bases: dict[str, dict[str, float]] = {}
    for quirk in QUIRKS.values():
        if rates[quirk.name] <= 0:
            continue
        bases[quirk.name] = {
            target: row_counts[target.split(".")[0]] * shares.get((quirk.name, target), 1.0)
            for target in quirk.targets
        }
        for target, base in bases[quirk.name].items():
            quotas[target][quirk.name] = round(rates[quirk.name] * base)
    for target, counts in quotas.items():
        _fit(counts, row_counts[target.split(".")[0]])
    for name, targets in bases.items():
        if not any(quotas[target][name] for target in targets):
            _place_one(name, targets, quotas, row_counts)
    return QuotaPlan({target: dict(counts) for target, counts in quotas.items()})


def _place_one(
    name: str, bases: Mapping[str, float], quotas: dict[str, dict[str, int]], row_counts: Mapping[str, int]
) -> None:
    """Give a quirk whose rate rounds to nothing one instance, on the target with the most room left."""

    def room(target: str) -> tuple[int, float]:
        return row_counts[target.split(".")[0]] - sum(quotas[target].values()), bases[target]

    target = max(bases, key=room)
    if room(target)[0] > 0:
        quotas[target][name] = 1


def _fit(counts: dict[str, int], rows: int) -> None:
    """Scale a target's quotas down so that together they do not exceed its rows."""
    total = sum(counts.values())
    if total <= rows:
        return
    for name, count in counts.items():
        counts[name] = count * rows // total
