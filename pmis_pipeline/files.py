"""File helpers shared by the archive and the publisher."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from pmis_pipeline.faults import checkpoint


def copy_atomically(source: Path, target: Path, check: Callable[[Path], None] | None = None) -> Path:
    """Copy ``source`` to a temporary file beside ``target``, make it read-only
    and rename it over ``target``: a reader sees the old file or the new one,
    never half of one, and a killed copy leaves ``target`` untouched (and a
    ``.<name>.*.tmp`` file that the next writer removes).
    ``check`` may inspect or amend the copy, or raise before it replaces anything."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        if check is not None:
            check(Path(tmp))
        checkpoint(f"copied:{target.name}")
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
