"""Per-pair camera motion as arrays for the timeline and the plot: the observer's per-pair rates
(``Reading.series``, one dict per pair of sampled frames) in FAMILY_NAMES order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from camreasoner.label.timeline import FAMILY_NAMES, MotionSeries


def series_from_samples(samples: Sequence[dict[str, Any]]) -> MotionSeries:
    """Rates (deg/s for pan, tilt, roll; %/s for zoom; % of the frame width per second for truck,
    pedestal (up positive), dolly) from the observer's per-pair dicts."""
    rows = []
    for s in samples:
        tx, ty, tz = s.get("translation", (0.0, 0.0, 0.0))
        rows.append([s.get("pan", 0.0), s.get("tilt", 0.0), s.get("roll", 0.0), s.get("zoom", 0.0), tx, -ty, tz])
    return MotionSeries(
        t0=np.array([s["t0"] for s in samples], float),
        t1=np.array([s["t1"] for s in samples], float),
        rates=np.array(rows, float).reshape(len(samples), len(FAMILY_NAMES)),
        valid=np.array([bool(s.get("valid", True)) for s in samples], bool),
        conflict=np.array([bool(s.get("conflict", False)) for s in samples], bool),
        local=np.array([bool(s.get("local", False)) for s in samples], bool),
    )


def measure_series(video: str, start: float | None, end: float | None, fps: float, max_side: int,
                   max_points: int = 120) -> MotionSeries:
    """The rates between consecutive sampled frames of [start, end] (one decode, no shot detection;
    a pair across a grey-level jump is invalid)."""
    from camreasoner.observer.track import ObserverOptions, track_video

    track = track_video(video, ObserverOptions(fps=fps, start=start, end=end, max_side=max_side,
                                               max_points=max_points, shots=False))
    return series_from_samples([p.rates() for p in track.pairs])
