"""Per-pair camera motion over a span, for the timeline: the observer's geometry (tracks, robust
pair models) applied to consecutive sampled frames, as rates per second.

Used when the observer's reading carries no per-pair series of its own (``Reading.series``).
"""

from __future__ import annotations

import math

import numpy as np

from camreasoner.label.timeline import MotionSeries


def measure_series(video: str, start: float | None, end: float | None, fps: float, max_side: int,
                   max_points: int = 120) -> MotionSeries:
    """Rates (FAMILY_NAMES order: deg/s for pan, tilt, roll; %/s for zoom; % of the frame width per
    second for truck, pedestal, dolly) between consecutive sampled frames of [start, end]."""
    from camreasoner.observer.geometry import estimate_pair, intrinsics, track_points
    from camreasoner.video.reader import VideoReader, prefetch

    reader = VideoReader(video, fps=fps, start=start, end=end, max_side=max_side)
    t0, t1, rows, valid = [], [], [], []
    prev = None
    for frame in prefetch(reader):
        if prev is not None:
            h, w = frame.image.shape
            dt = max(frame.time - prev.time, 1e-6)
            p0, p1 = track_points(prev.image, frame.image, max_points)
            pm = estimate_pair(p0, p1, (w, h), dt=dt, K=intrinsics(w, h))
            tx, ty, tz = pm.translation
            rows.append([math.degrees(pm.pan) / dt, math.degrees(pm.tilt) / dt, math.degrees(pm.roll) / dt,
                         100.0 * pm.log_zoom / dt, 100.0 * tx / dt, -100.0 * ty / dt, 100.0 * tz / dt])
            t0.append(prev.time)
            t1.append(frame.time)
            valid.append(bool(pm.valid))
        prev = frame
    return MotionSeries(np.array(t0, float), np.array(t1, float), np.array(rows, float).reshape(-1, 7),
                        np.array(valid, bool))
