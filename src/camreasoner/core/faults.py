"""Deterministic fault injection for crash-and-resume tests (no timing, no races).

Set ``CAMREASONER_CRASH_AT=<point>`` (or ``<point>:<n>``) and the process kills itself with SIGKILL
the n-th time (default 1) it passes :func:`crash_point` with that name — exactly what a power cut or
``kill -9`` at that moment does. Unset, it costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

CRASH_AT_ENV = "CAMREASONER_CRASH_AT"
_passes: dict[str, int] = {}


def crash_point(point: str) -> None:
    """Die here (SIGKILL) if the environment asks for a crash at ``point``."""
    wanted = os.environ.get(CRASH_AT_ENV)
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    _passes[point] = _passes.get(point, 0) + 1
    if _passes[point] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
