"""Named points where the crash tests kill the process.

``PMIS_KILL_AT=<name>`` makes :func:`checkpoint` send SIGKILL to its own
process at that point (no cleanup, no exception handlers: like a power cut or
an operator's ``kill -9``). Without the variable it does nothing. The tests in
``tests/test_crash.py`` use it to show that a killed run leaves every quarter,
document and the analysts' file as they were.
"""

from __future__ import annotations

import os
import signal

ENV = "PMIS_KILL_AT"


def checkpoint(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
