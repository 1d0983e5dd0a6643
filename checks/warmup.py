"""Import Great Expectations in the background while the quarter's files are read.

Its imports (scipy, altair, pandas, sqlalchemy...) take 3-4 s, which is most of
a province quarter's own work; the quarter step starts this thread before it
reads the files (reading happens in worker processes, so this process is idle
meanwhile) and waits for it (:func:`wait`) before the suite runs.
"""

from __future__ import annotations

import importlib
import os
import threading

_thread: threading.Thread | None = None


def _import() -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")  # as checks.expectations does
    for name in ("pandas", "great_expectations"):
        try:
            importlib.import_module(name)
        except Exception:  # the suite imports it again and reports a real failure there
            return


def start() -> None:
    """Start the background import once per process (a no-op when already loaded)."""
    global _thread
    if _thread is None:
        _thread = threading.Thread(target=_import, name="gx-warmup", daemon=True)
        _thread.start()


def wait() -> None:
    """Let the background import finish before anything else imports Great
    Expectations (its package has import cycles that a second thread must not
    enter half-way)."""
    if _thread is not None:
        _thread.join()
