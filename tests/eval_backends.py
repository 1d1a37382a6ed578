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

import numpy as np

from camreasoner.backends.base import register
from camreasoner.core.types import BackendItem, BackendResponse

CONTROL: dict[str, Any] = {"fail": set(), "stop_after": None, "answered": 0}


def reset(fail: set[tuple[str, str]] | None = None, stop_after: int | None = None) -> None:
    """Fail on the (video, question) pairs in ``fail``; stop the run after ``stop_after`` answers."""
    CONTROL.update(fail=set(fail or ()), stop_after=stop_after, answered=0)


def table_key(video: str, question: str) -> str:
    """The table's key of one (video, question)."""
    return f"{Path(video).name}|{question}"


def write_noisy_bench(folder: Path, n_clips: int, primitives: Sequence[str], seed: int, yes_rate: float,
                      signal: float) -> dict[tuple[str, str], tuple[bool, float]]:
    """``folder/bench.json`` (n_clips x primitives binary questions) and ``folder/table.json`` (noisy
    P(Yes): ``signal`` for a Yes plus uniform noise); returns (clip name, question) -> (truth, score)."""
    from camreasoner.formats.questions import binary_question, write_questions

    rng = np.random.default_rng(seed)
    questions, table, truth = [], {}, {}
    for c in range(n_clips):
        clip = f"clips/c{c}.mp4"
        for p in primitives:
            yes = bool(rng.random() < yes_rate)
            q = binary_question(p, clip, yes, len(questions))
            questions.append(q)
            score = float(np.clip(signal * yes + (1.0 - signal) * rng.random(), 0.0, 1.0))
            table[table_key(clip, q.question)] = round(score, 6)
            truth[(f"c{c}.mp4", q.question)] = (yes, score)
    write_questions(folder / "bench.json", questions)
    (folder / "table.json").write_text(json.dumps(table))
    return truth


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
