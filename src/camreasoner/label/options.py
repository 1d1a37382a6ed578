"""Every setting a labelling run depends on; the settings recorded in the manifest and checked on resume."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from camreasoner.core.errors import CamReasonerError


@dataclass
class TimelineOptions:
    """Change-point detection over the per-pair motion (ruptures, PELT with an L2 cost).

    Rates are divided by ``scale`` (deg/s for pan/tilt/roll, %/s for zoom, %-of-frame/s for
    translation) before the search; ``penalty`` is per change point on that scale; segments shorter
    than ``min_segment`` seconds are merged into a neighbour; a rate above ``moving`` (scaled)
    names the segment's motion.
    """

    scale: dict[str, float] = field(default_factory=lambda: {
        "pan": 2.0, "tilt": 2.0, "roll": 2.0, "zoom": 1.5, "truck": 1.5, "pedestal": 1.5, "dolly": 1.5})
    penalty: float = 3.0
    min_segment: float = 0.5
    moving: float = 1.0


@dataclass
class LabelOptions:
    """A labelling run: sampling, shots, lens, backend, unsure band, parallelism.

    ``dissolves``: shots are split at dissolves as well as cuts and fades;
    ``lens``: the geometric observer estimates and takes out a wide lens's barrel distortion;
    ``unsure``: a primitive whose score lies within this distance of 0.5 is written as null
    (unknown) in the labels; ``video_root``: labels.jsonl paths are relative to it (default: the
    deepest folder holding every input video).
    """

    fps: float = 4.0
    max_side: int = 320
    shots: bool = True
    min_shot: float = 1.0
    backend: str = "geometric"
    backend_options: dict[str, Any] = field(default_factory=dict)
    unsure: float = 0.15
    shot_threshold: float = 3.0
    dissolves: bool = True
    lens: bool = True
    timeline: TimelineOptions = field(default_factory=TimelineOptions)
    video_root: str | None = None
    workers: int = 1
    ray_address: str | None = None
    progress: bool = True

    def check(self) -> None:
        """Raise CamReasonerError (exit 2) for impossible settings."""
        if self.fps <= 0:
            raise CamReasonerError(f"--fps must be positive, got {self.fps}")
        if self.max_side < 16:
            raise CamReasonerError(f"--max-side must be at least 16, got {self.max_side}")
        if self.min_shot < 0:
            raise CamReasonerError(f"--min-shot must be >= 0, got {self.min_shot}")
        if not 0.0 <= self.unsure < 0.5:
            raise CamReasonerError(f"--unsure must be in [0, 0.5), got {self.unsure}")
        if self.workers < 1:
            raise CamReasonerError(f"--workers must be at least 1, got {self.workers}")

    def settings(self) -> dict[str, Any]:
        """Every setting a worker needs (not workers, Ray address or progress)."""
        d = asdict(self)
        for k in ("workers", "ray_address", "progress"):
            d.pop(k)
        return d

    def identity(self) -> dict[str, Any]:
        """The settings that change rows: :meth:`settings` without the options that say how the
        backend is reached (its URL, API key, timeouts, batch size, device)."""
        from camreasoner.suite.build import TRANSPORT_OPTIONS

        d = self.settings()
        d["backend_options"] = {k: v for k, v in self.backend_options.items() if k not in TRANSPORT_OPTIONS}
        return d
