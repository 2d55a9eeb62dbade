"""What every benchmark record says of the machine it ran on, load included (the 2 cores are often shared)."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine() -> dict[str, Any]:
    """CPUs, Python, system, and the load average when the record was made."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "system": platform.platform(),
        "load_average": [round(x, 1) for x in os.getloadavg()],
    }
