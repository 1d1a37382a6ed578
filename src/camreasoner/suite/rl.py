"""RL samples' difficulty: the pass rate of a reference backend over k samples.

``difficulty = 1 - pass_rate``. With the geometric observer as reference (the default), the pass
rate comes from its cached reading: the probability it gives the right option (the expected pass
rate of sampling its answer), so no clip is read twice. Any other backend is sampled k times.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from camreasoner.backends.base import Backend, BackendItem
from camreasoner.formats.questions import Question
from camreasoner.qa.vqa import option_probabilities


def pass_rate_from_reading(q: Question, reading: dict[str, Any]) -> float:
    """P(right option) under the observer's per-primitive scores; 0.0 for an unreadable clip."""
    if "scores" not in reading or q.answer is None:
        return 0.0
    return float(option_probabilities(q, reading["scores"]).get(q.answer, 0.0))


def pass_rates_from_backend(
    backend: Backend, items: Sequence[BackendItem], answers: Sequence[str], k: int, batch_size: int = 16
) -> list[float]:
    """Share of k samples per item whose letter is right (errors count as wrong)."""
    rates: list[float] = []
    for start in range(0, len(items), max(1, batch_size)):
        chunk = items[start : start + batch_size]
        responses = backend.answer([it for it in chunk for _ in range(k)])
        for i in range(len(chunk)):
            sample = responses[i * k : (i + 1) * k]
            right = sum(1 for r in sample if r.error is None and r.letter == answers[start + i])
            rates.append(right / k)
    return rates
