"""The ``geometric`` backend: answers questions from the CPU observer's reading of each video."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from camreasoner.backends.base import BackendItem, BackendResponse
from camreasoner.core.errors import CamReasonerError
from camreasoner.observer.answer import answer_question
from camreasoner.observer.reading import ObserverOptions, Reading, analyze_video


class GeometricBackend:
    """Reads each video once (cached) and maps each question to the reading's primitives.

    Options: ``fps``, ``max_frames``, ``max_side``; other keyword options are ignored.
    """

    name = "geometric"

    def __init__(
        self,
        fps: float | None = None,
        max_frames: int | None = None,
        max_side: int | None = None,
        cache_size: int = 64,
        **_: Any,
    ) -> None:
        base = ObserverOptions()
        self.options = ObserverOptions(
            fps=base.fps if fps is None else fps,  # 0: every decoded frame
            max_frames=max_frames if max_frames is not None else base.max_frames,
            max_side=max_side or base.max_side,
        )
        self._cache: OrderedDict[tuple[str, float | None, float | None], Reading | CamReasonerError] = OrderedDict()
        self._cache_size = cache_size

    def read(self, video: str, start: float | None = None, end: float | None = None) -> Reading:
        """The (cached) reading of ``video`` (its [start, end] span when given); raises
        CamReasonerError if it cannot be read."""
        key = (video, start, end)
        if key in self._cache:
            self._cache.move_to_end(key)
            hit = self._cache[key]
        else:
            try:
                hit = analyze_video(video, replace(self.options, start=start, end=end))
            except CamReasonerError as exc:
                hit = exc
            self._cache[key] = hit
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if isinstance(hit, CamReasonerError):
            raise hit
        return hit

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """Answer each item; an unreadable video or unmappable question sets ``error`` on that item."""
        out = []
        for item in items:
            try:
                out.append(answer_question(self.read(item.video, item.start, item.end), item.question, list(item.options)))
            except CamReasonerError as exc:
                out.append(BackendResponse(text="", letter=None, option_probs={}, error=str(exc)))
        return out
