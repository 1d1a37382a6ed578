"""Teacher chains by rejection sampling: any backend, k samples per item, strict filters.

A sample is kept only if it is in strict O-T-A format, its answer letter (read by
``camreasoner.core.ota.extract_letter``, the evaluator's and the accuracy reward's one answer
reader) is right, and its ``<observation>`` makes at least one checkable claim and contradicts
none of the observer's measurements (camreasoner.qa.consistency). Every rejected sample is
counted under its reason.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from camreasoner.backends.base import Backend, BackendItem
from camreasoner.core.ota import extract_letter, parse_strict
from camreasoner.qa.consistency import check_observation

REASONS = (
    "accepted",
    "backend_error",
    "format",
    "wrong_answer",
    "vague_observation",
    "contradicts_measurements",
)


@dataclass
class TeacherItem:
    """One question to sample: the backend's input, the right letter and the measured primitives."""

    id: str
    item: BackendItem
    answer: str
    measured: dict[str, bool]


@dataclass
class TeacherOutcome:
    """The first accepted response (or None) and the reason of every sample."""

    id: str
    response: str | None
    reasons: Counter = field(default_factory=Counter)


def judge(
    text: str, answer: str, letters: str, measured: dict[str, bool], min_consistency: float = 0.0
) -> str:
    """The reason a sample is rejected, or ``"accepted"``."""
    parsed = parse_strict(text, letters)
    letter = extract_letter(text, letters)
    if parsed is None or letter is None:
        return "format"  # a letter in prose, or outside the O-T-A blocks, is no answer
    if letter != answer:
        return "wrong_answer"
    result = check_observation(parsed.observation, measured)
    if result.contradictions:
        return "contradicts_measurements"
    if not result.claims or result.score <= min_consistency:
        return "vague_observation"
    return "accepted"


def sample_teacher(
    backend: Backend,
    items: Sequence[TeacherItem],
    k: int,
    batch_size: int = 16,
    min_consistency: float = 0.0,
    on_done: Any = None,
) -> list[TeacherOutcome]:
    """k samples per item from ``backend`` (in batches); returns one outcome per item, in order.

    ``on_done(outcome)`` is called as each item finishes (the build's work log).
    """
    outcomes: list[TeacherOutcome] = []
    for start in range(0, len(items), max(1, batch_size)):
        chunk = items[start : start + batch_size]
        batch = [t.item for t in chunk for _ in range(k)]
        responses = backend.answer(batch)
        for i, t in enumerate(chunk):
            out = TeacherOutcome(t.id, None)
            letters = "".join(o.split(".")[0].strip() for o in t.item.options)
            for r in responses[i * k : (i + 1) * k]:
                reason = (
                    "backend_error"
                    if r.error
                    else judge(r.text, t.answer, letters, t.measured, min_consistency)
                )
                out.reasons[reason] += 1
                if reason == "accepted" and out.response is None:
                    out.response = r.text.strip()
            outcomes.append(out)
            if on_done is not None:
                on_done(out)
    return outcomes
