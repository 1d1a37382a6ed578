"""A shot's timeline: where the camera changes what it does, from the per-pair motion rates.

Change points come from ruptures (PELT, L2 cost, as ``KernelCPD`` with a linear kernel: the same
search in C, so an hour-long shot takes milliseconds) over the rates scaled by TimelineOptions.scale;
each segment is named by the families whose mean scaled rate passes ``moving`` (``Static`` when none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from camreasoner.label.options import TimelineOptions

FAMILY_NAMES = ("pan", "tilt", "roll", "zoom", "truck", "pedestal", "dolly")
# family -> (primitive of a positive rate, primitive of a negative rate)
DIRECTIONS: dict[str, tuple[str, str]] = {
    "pan": ("Pan_Right", "Pan_Left"), "tilt": ("Tilt_Up", "Tilt_Down"),
    "roll": ("Roll_Clockwise", "Roll_Counterclockwise"), "zoom": ("Zoom_In", "Zoom_Out"),
    "truck": ("Move_Right", "Move_Left"), "pedestal": ("Move_Up", "Move_Down"), "dolly": ("Move_In", "Move_Out"),
}


@dataclass
class MotionSeries:
    """Per frame pair: times ``t0``/``t1`` (s), rates (N, 7) in FAMILY_NAMES order, a valid flag."""

    t0: np.ndarray
    t1: np.ndarray
    rates: np.ndarray
    valid: np.ndarray


def segment_motion(rates: np.ndarray, options: TimelineOptions) -> list[str]:
    """The primitives a mean rate vector (FAMILY_NAMES order, units of TimelineOptions.scale) shows."""
    out = []
    for fam, value in zip(FAMILY_NAMES, rates, strict=True):
        if abs(value) / options.scale[fam] >= options.moving:
            out.append(DIRECTIONS[fam][0 if value > 0 else 1])
    return out or ["Static"]


def _merge(segs: list[dict[str, Any]], min_len: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for seg in segs:
        if out and out[-1]["motion"] == seg["motion"]:
            out[-1]["end"] = seg["end"]
        else:
            out.append(dict(seg))
    changed = True
    while changed and len(out) > 1:
        changed = False
        for i, seg in enumerate(out):
            if seg["end"] - seg["start"] < min_len:
                j = i - 1 if i > 0 else i + 1
                lo, hi = min(i, j), max(i, j)
                keep = out[j]
                out[lo:hi + 1] = [{**keep, "start": out[lo]["start"], "end": out[hi]["end"]}]
                changed = True
                break
    return _merge_same(out)


def _merge_same(segs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for seg in segs:
        if out and out[-1]["motion"] == seg["motion"]:
            out[-1]["end"] = seg["end"]
        else:
            out.append(seg)
    return out


def timeline(series: MotionSeries | None, start: float, end: float, options: TimelineOptions,
             fallback: list[str]) -> list[dict[str, Any]]:
    """Segments ``{"start", "end", "motion": [primitives], "label": "Pan_Left + Tilt_Up"}`` covering
    [start, end]; without usable series one segment carrying ``fallback`` (the shot's primitives)."""
    import ruptures as rpt

    def seg(a: float, b: float, motion: list[str]) -> dict[str, Any]:
        return {"start": round(a, 3), "end": round(b, 3), "motion": motion, "label": " + ".join(motion)}

    if series is None or int(np.sum(series.valid)) < 4:
        return [seg(start, end, fallback or ["Static"])]
    ok = series.valid.astype(bool)
    t0, rates = series.t0[ok], series.rates[ok]
    scale = np.array([options.scale[f] for f in FAMILY_NAMES])
    x = rates / scale
    # PELT with the L2 cost, in C (a linear kernel is the L2 cost): linear in the pairs of a long shot
    bkps = rpt.KernelCPD(kernel="linear", min_size=2).fit(x).predict(pen=options.penalty)
    bounds = [0, *bkps]
    segs = []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        s = start if k == 0 else float(t0[a])
        e = end if b >= len(x) else float(t0[b])
        segs.append(seg(s, e, segment_motion(rates[a:b].mean(axis=0), options)))
    merged = _merge(segs, options.min_segment)
    return [seg(s["start"], s["end"], s["motion"]) for s in merged]


def format_timeline(segments: list[dict[str, Any]]) -> str:
    """``"0.0-2.1 s Pan_Left; 2.1-4.0 s Static"``."""
    return "; ".join(f"{s['start']:.1f}-{s['end']:.1f} s {s['label']}" for s in segments)
