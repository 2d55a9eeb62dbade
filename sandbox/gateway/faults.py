"""Faults on demand: which request gets which failure, by probability or for the next N requests, seedable.

A plan is JSON: `{"seed": 1, "faults": [{"kind": "error_before", "probability": 0.3}, {"kind": "drop_after",
"next": 2}, ...]}`. Rules are tried in order and the first that fires decides; a rule with `kinds` instead of
`kind` picks one of them at random when it fires (all faults together at one rate).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "error_before",  # 5xx, nothing applied
    "error_after",  # the request applied, then 5xx
    "drop_before",  # the connection closed without an answer, nothing applied
    "drop_after",  # the request applied, then the connection closed without an answer
    "slow",  # the answer delayed by `delay` seconds
    "rate_limit",  # 429 42900 with Retry-After, whatever the real rate
    "token_expiry",  # the token ended early: 401 40101
    "busy",  # HTTP 200 with code 50001
)
DEFAULT_STATUS = {"error_before": 503, "error_after": 502}


@dataclass
class FaultRule:
    """One rule of a plan."""

    kinds: tuple[str, ...]
    probability: float = 0.0
    next: int = 0
    path: str = "/api/"
    status: int | None = None
    delay: float = 2.0
    retry_after: int = 1

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> FaultRule:
        """Read one rule, refusing unknown kinds and keys (a typo must not silently inject nothing)."""
        raw = dict(raw)
        kinds = tuple(raw.pop("kinds", None) or [raw.pop("kind", None)])
        unknown = [k for k in kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown fault kind(s) {unknown}; known: {', '.join(KINDS)}")
        rule = cls(kinds=kinds, **raw)
        if not 0 <= rule.probability <= 1 or rule.next < 0:
            raise ValueError("a fault rule needs 0 ≤ probability ≤ 1 and next ≥ 0")
        if rule.status is not None and not 500 <= rule.status <= 599:
            raise ValueError("a fault's status is a 5xx")
        return rule

    def to_json(self) -> dict[str, Any]:
        """The rule as the admin endpoint shows it (with what is left of `next`)."""
        return {
            "kinds": list(self.kinds),
            "probability": self.probability,
            "next": self.next,
            "path": self.path,
            "status": self.status,
            "delay": self.delay,
            "retry_after": self.retry_after,
        }


@dataclass(frozen=True)
class Fault:
    """The failure chosen for one request."""

    kind: str
    status: int
    delay: float
    retry_after: int


@dataclass
class FaultPlan:
    """The rules in force, their random source and what they injected so far."""

    rules: list[FaultRule] = field(default_factory=list)
    seed: int | None = None
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        # Which request fails is a test's choice, not a secret: a seedable generator is what is wanted.
        self._rng = random.Random(self.seed)  # noqa: S311
        self._lock = threading.Lock()

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> FaultPlan:
        """Read a plan (None or `{}`: no faults)."""
        raw = raw or {}
        unknown = set(raw) - {"seed", "faults"}
        if unknown:
            raise ValueError(f"unknown keys in the fault plan: {sorted(unknown)}")
        return cls([FaultRule.from_json(r) for r in raw.get("faults", [])], raw.get("seed"))

    def to_json(self) -> dict[str, Any]:
        """The plan in force and the count of faults injected, by kind."""
        with self._lock:
            return {
                "seed": self.seed,
                "faults": [r.to_json() for r in self.rules],
                "injected": dict(self.injected),
            }

    def draw(self, path: str) -> Fault | None:
        """The fault for a request to `path` (the contract path, without a receiver prefix), or None."""
        with self._lock:
            for rule in self.rules:
                if not path.startswith(rule.path):
                    continue
                if rule.next > 0:
                    rule.next -= 1
                elif not (rule.probability and self._rng.random() < rule.probability):
                    continue
                kind = self._rng.choice(rule.kinds) if len(rule.kinds) > 1 else rule.kinds[0]
                self.injected[kind] += 1
                status = rule.status or DEFAULT_STATUS.get(kind, 503)
                return Fault(kind, status, rule.delay, rule.retry_after)
        return None
