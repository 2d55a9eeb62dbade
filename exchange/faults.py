"""Named crash points: where the reliability tests kill a run to prove nothing is lost or doubled.

A crash point does nothing unless SDX_CRASH_AT names it, so production runs never stop here. The tests set
the variable in a subprocess and expect that process to die by SIGKILL at exactly that point.
"""

from __future__ import annotations

import os
import signal

CRASH_ENV = "SDX_CRASH_AT"


def crash_point(name: str) -> None:
    """Die at once, as a killed process would, when SDX_CRASH_AT equals `name`."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
