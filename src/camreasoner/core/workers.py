"""Worker processes for the parallel jobs (synth, label, suite build, eval run): always spawned.

A forked child inherits the parent's OpenCV thread pool and any open PyAV decoder's FFmpeg threads
as state without the threads, and an analysis in it can wait on them forever (it hung
``eval run``); a spawned child starts clean.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def spawn_context() -> Any:
    """The multiprocessing context every worker pool uses: spawn."""
    return multiprocessing.get_context("spawn")


def spawn_pool(workers: int, initializer: Callable[..., Any] | None = None,
               initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A process pool of ``workers`` spawned workers (see the module docstring)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=spawn_context(), initializer=initializer,
                               initargs=initargs)
