"""Types shared across parts: one question about one video, and a backend's answer to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BackendItem:
    """One question about one video. ``options`` are lettered (``"A. No"``); ``start``/``end``
    (seconds, None: the file's own) limit the question to a span of the video, e.g. one shot."""

    video: str
    question: str
    options: tuple[str, ...]
    id: str = ""
    start: float | None = None
    end: float | None = None


@dataclass
class BackendResponse:
    """A backend's answer: response text, chosen letter (None if unreadable), P(option letter).

    ``option_probs`` maps every option letter to a probability; they sum to 1. ``error`` is set
    (and the rest may be empty) when the item could not be answered, e.g. an unreadable video.
    """

    text: str
    letter: str | None
    option_probs: dict[str, float]
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
