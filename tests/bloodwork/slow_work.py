"""Work for the document reader's child process in tests (a light module: the child imports it)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def sleep_recording_pid(path: str, seconds: float) -> None:
    """Work that outlives its time limit, leaving the id of its process in `path`."""
    Path(path).write_text(str(os.getpid()))
    time.sleep(seconds)
