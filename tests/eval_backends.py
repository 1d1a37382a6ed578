"""A scripted backend for evaluation tests: P(Yes) from a table, with injected failures and stops.

It implements the Backend protocol (it is a backend under test, not a stand-in for one of ours):
P(Yes) of each (video, question) comes from a JSON table given as ``--model FILE``; ``CONTROL``
makes it fail on chosen items (error responses) or stop the run after N answers (raising
KeyboardInterrupt, as a killed process stops), so every failure in the tests is deterministic.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camreasoner.backends.base import register
from camreasoner.core.types import BackendItem, BackendResponse

CONTROL: dict[str, Any] = {"fail": set(), "stop_after": None, "answered": 0}


def reset(fail: set[tuple[str, str]] | None = None, stop_after: int | None = None) -> None:
    """Fail on the (video, question) pairs in ``fail``; stop the run after ``stop_after`` answers."""
    CONTROL.update(fail=set(fail or ()), stop_after=stop_after, answered=0)


def table_key(video: str, question: str) -> str:
    """The table's key of one (video, question)."""
    return f"{Path(video).name}|{question}"


class ScriptedBackend:
    """P(Yes) = the table's value; answers B when P(Yes) > 0.5. Ignores the video file itself."""

    needs_video = False
    name = "scripted"

    def __init__(self, model: str | None = None, **_: Any) -> None:
        self.table: dict[str, float] = json.loads(Path(model).read_text()) if model else {}

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        out = []
        for item in items:
            if CONTROL["stop_after"] is not None and CONTROL["answered"] >= CONTROL["stop_after"]:
                raise KeyboardInterrupt  # the run stops here, mid-file
            CONTROL["answered"] += 1
            if (Path(item.video).name, item.question) in CONTROL["fail"]:
                out.append(BackendResponse("", None, {}, error="server error: 503"))
                continue
            p = float(self.table.get(table_key(item.video, item.question), 0.0))
            letter = "B" if p > 0.5 else "A"
            out.append(BackendResponse(f"<answer>{letter}</answer>", letter, {"A": 1.0 - p, "B": p}))
        return out


register("scripted", f"{__name__}:ScriptedBackend")
