"""A shot read by a question-answering backend (a VLM, a served model, a baseline): the 15 binary
questions in CameraBench's wording, asked about the shot's span.

A primitive holds when P(Yes) >= 0.5 and is unknown (None) where the backend failed on that
question; the score is P(Yes). The observation and reasoning are the first answered response's
O-T-A blocks. One backend per process, built on first use and reused for every video.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from camreasoner.core.ota import extract_observation, parse_strict
from camreasoner.core.taxonomy import BINARY_OPTIONS, PRIMITIVES, QUESTIONS, YES_LETTER, answer_string
from camreasoner.core.types import BackendItem

_BACKENDS: dict[str, Any] = {}


@dataclass
class ShotAnswers:
    """One shot's answers: primitives (None: the backend failed), P(Yes) (None likewise), O-T-A text."""

    primitives: dict[str, bool | None]
    scores: dict[str, float | None]
    observation: str
    think: str
    answer: str
    warnings: list[str] = field(default_factory=list)


def backend_for(name: str, options: dict[str, Any]) -> Any:
    """The process's backend ``name`` built with ``options`` (built once, then reused)."""
    from camreasoner.backends.base import get_backend

    key = f"{name}|{sorted(options.items())!r}"
    if key not in _BACKENDS:
        _BACKENDS.clear()
        _BACKENDS[key] = get_backend(name, **options)
    return _BACKENDS[key]


def release_backends() -> None:
    """Drop the process's backend (the driver does before worker processes load their own)."""
    import gc

    _BACKENDS.clear()
    gc.collect()


def shot_items(video: str, start: float | None, end: float | None, tag: str) -> list[BackendItem]:
    """The 15 binary questions about ``video`` [start, end], in PRIMITIVES order."""
    return [BackendItem(video, QUESTIONS[p], BINARY_OPTIONS, f"{tag}:{p}", start, end) for p in PRIMITIVES]


def shot_answers(responses: list[Any]) -> ShotAnswers:
    """Fold the 15 responses (PRIMITIVES order) of one shot into its labels and text."""
    prims: dict[str, bool | None] = {}
    scores: dict[str, float | None] = {}
    warnings: list[str] = []
    first = None
    for p, resp in zip(PRIMITIVES, responses, strict=True):
        if resp.error or YES_LETTER not in resp.option_probs:
            prims[p] = scores[p] = None
            warnings.append(f"{p}: {resp.error or 'no P(Yes) in the response'}".splitlines()[0])
            continue
        scores[p] = round(float(resp.option_probs[YES_LETTER]), 4)
        prims[p] = scores[p] >= 0.5
        first = first or resp
    observation = think = ""
    if first is not None:
        letters = "".join(o[0] for o in BINARY_OPTIONS)
        ota = parse_strict(first.text, letters)
        observation = ota.observation if ota else (extract_observation(first.text) or "")
        think = ota.think if ota else ""
    return ShotAnswers(prims, scores, observation.strip(), think.strip(), answer_string(prims), warnings)
