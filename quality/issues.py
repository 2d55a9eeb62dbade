"""The issue vocabulary: every problem code with its severity and the words a district clerk reads."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources as importlib_resources

import yaml


@dataclass(frozen=True)
class IssueKind:
    """One kind of problem: code, severity (error quarantines, warning passes), message, expected fix."""

    code: str
    severity: str
    message: str
    fix: str
    # A receiver's refusal code this kind stands for (contracts/gateway.yaml `errorCode`), where it is one.
    receiver_code: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether a record with this issue is quarantined."""
        return self.severity == "error"


@cache
def issue_kinds() -> dict[str, IssueKind]:
    """Every issue kind of quality/issues.yaml, by code."""
    raw = yaml.safe_load((importlib_resources.files("quality") / "issues.yaml").read_text(encoding="utf-8"))
    return {code: IssueKind(code=code, **spec) for code, spec in raw.items()}


def issue_kind(code: str) -> IssueKind:
    """The kind of `code`; an unknown code is a programming error and says so."""
    try:
        return issue_kinds()[code]
    except KeyError:
        raise KeyError(f"issue code {code!r} is not in quality/issues.yaml") from None
