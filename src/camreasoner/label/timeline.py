"""A shot's timeline: where the camera changes what it does, from the per-pair motion rates.

Change points come from ruptures (PELT, L2 cost, as ``KernelCPD`` with a linear kernel: the same
search in C, so an hour-long shot takes milliseconds) over the rates scaled by TimelineOptions.scale;
each segment is named by the families whose mean scaled rate passes ``moving`` (``Static`` when none);
each change between segments of different motion is then timed inside the frame pairs around it
(:func:`_change_time`); last, what the shot's reading rejects over a segment's time is taken out
of it (:func:`keep_allowed`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from camreasoner.label.options import TimelineOptions

# a pair whose mix fraction lies this far outside [0, 1] fits neither motion (an unreadable pair)
OUTLIER = 0.25
GRID_S = 0.01  # resolution of the fitted change time, seconds
UNKNOWN = "unknown"  # the label of a segment whose motion could not be read
REFINE_S = 1.0  # the fitted change stays within this many seconds of the change-point search's
Window = tuple[float, float, frozenset[str]]  # (start s, end s, primitives a scoring window allows)
FAMILY_NAMES = ("pan", "tilt", "roll", "zoom", "truck", "pedestal", "dolly")
# family -> (primitive of a positive rate, primitive of a negative rate)
DIRECTIONS: dict[str, tuple[str, str]] = {
    "pan": ("Pan_Right", "Pan_Left"), "tilt": ("Tilt_Up", "Tilt_Down"),
    "roll": ("Roll_Clockwise", "Roll_Counterclockwise"), "zoom": ("Zoom_In", "Zoom_Out"),
    "truck": ("Move_Right", "Move_Left"), "pedestal": ("Move_Up", "Move_Down"), "dolly": ("Move_In", "Move_Out"),
}


@dataclass
class MotionSeries:
    """Per frame pair: times ``t0``/``t1`` (s), rates (N, 7) in FAMILY_NAMES order, a valid flag
    (tracked, not across a cut) and the observer's motion-layer flags: ``conflict`` (no layer
    dominates) and ``local`` (the camera layer covers under half the frame); None: all False."""

    t0: np.ndarray
    t1: np.ndarray
    rates: np.ndarray
    valid: np.ndarray
    conflict: np.ndarray | None = None
    local: np.ndarray | None = None

    def readable(self, options: TimelineOptions) -> np.ndarray:
        """The pairs the timeline reads, as the shot's reading weighs them: valid, not in conflict,
        and, when local, only if they show no motion (a part of the frame can show that nothing
        moved, not that the camera did)."""
        ok = self.valid.copy()
        if self.conflict is not None:
            ok &= ~self.conflict
        if self.local is not None:
            moving = (np.abs(self.rates) / _scale(options) >= options.moving).any(axis=1)
            ok &= ~(self.local & moving)
        return ok


def _scale(options: TimelineOptions) -> np.ndarray:
    """The per-family scale of the rates (FAMILY_NAMES order)."""
    return np.array([options.scale[f] for f in FAMILY_NAMES])


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


def _pair_fractions(x: np.ndarray, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pair, the fraction ``f`` of its interval spent in the ``after`` motion (the pair's rate read
    as the mix ``before + f * (after - before)``) and whether the pair fits that mix: ``f`` within
    [-OUTLIER, 1 + OUTLIER] and the rate off the mixing line by less than the step itself."""
    step = after - before
    size2 = float(step @ step)
    if size2 <= 0.0:
        return np.zeros(len(x)), np.zeros(len(x), bool)
    f = (x - before) @ step / size2
    off = np.linalg.norm(x - before - np.outer(f, step), axis=1)
    fits = (f >= -OUTLIER) & (f <= 1.0 + OUTLIER) & (off < np.sqrt(size2))
    return f, fits


def _change_time(t0: np.ndarray, t1: np.ndarray, x: np.ndarray, before: np.ndarray, after: np.ndarray,
                 lo: float, hi: float) -> float | None:
    """The change time in [lo, hi] that best explains the pairs around a boundary.

    A pair's rate is the mean of the camera's rate over its interval, so a pair the change falls
    inside reads a mix of the two motions in proportion to the time on each side. The change is
    the time whose predicted fractions (0 before, 1 after, the share after it inside the pair)
    match the pairs' fractions best in least squares (pairs that fit no mix are left out; of equally
    good times, the middle one, so a run of unreadable pairs puts the change at its middle)."""
    f, fits = _pair_fractions(x, before, after)
    if not fits.any() or hi <= lo:
        return None
    grid = np.linspace(lo, hi, max(2, int(round((hi - lo) / GRID_S)) + 1))
    dur = np.maximum(t1[fits] - t0[fits], 1e-9)
    pred = np.clip((t1[fits][None, :] - grid[:, None]) / dur[None, :], 0.0, 1.0)
    cost = ((pred - np.clip(f[fits], 0.0, 1.0)[None, :]) ** 2).sum(axis=1)
    best = np.flatnonzero(cost <= cost.min() + 1e-9)
    return float(0.5 * (grid[best[0]] + grid[best[-1]]))


def _refine(segs: list[dict[str, Any]], t0: np.ndarray, t1: np.ndarray, x: np.ndarray) -> None:
    """Move each change between two segments of different motion to the fitted change time
    (:func:`_change_time`), within the pairs of the two segments."""
    for a, b in zip(segs[:-1], segs[1:], strict=False):
        ia = (t0 >= a["start"]) & (t0 < a["end"])
        ib = (t0 >= b["start"]) & (t0 < b["end"])
        if not ia.any() or not ib.any():
            continue
        both = ia | ib
        lo = max(a["start"], b["start"] - REFINE_S)
        hi = min(b["end"], b["start"] + REFINE_S)
        at = _change_time(t0[both], t1[both], x[both], np.median(x[ia], axis=0), np.median(x[ib], axis=0), lo, hi)
        if at is not None and a["start"] < at < b["end"]:
            a["end"] = b["start"] = at


def timeline(series: MotionSeries | None, start: float, end: float, options: TimelineOptions,
             fallback: list[str], allowed: Sequence[Window] | None = None) -> list[dict[str, Any]]:
    """Segments ``{"start", "end", "motion": [primitives], "label": "Pan_Left + Tilt_Up"}`` covering
    [start, end], read from the pairs the observer's motion layers trust (``MotionSeries.readable``);
    with fewer than 4 of them, one segment carrying ``fallback`` (the shot's primitives; none:
    ``motion`` empty, label ``unknown``). With ``allowed`` (the shot reading's scoring windows), a
    segment names nothing the reading rejects over its time (:func:`keep_allowed`)."""
    import ruptures as rpt

    def seg(a: float, b: float, motion: list[str]) -> dict[str, Any]:
        return {"start": round(a, 3), "end": round(b, 3), "motion": motion, "label": " + ".join(motion) or UNKNOWN}

    ok = series.readable(options) if series is not None else None
    if ok is None or int(ok.sum()) < 4:
        return [seg(start, end, list(fallback))]
    t0, t1, rates = series.t0[ok], series.t1[ok], series.rates[ok]
    x = rates / _scale(options)
    # PELT with the L2 cost, in C (a linear kernel is the L2 cost): linear in the pairs of a long shot
    bkps = rpt.KernelCPD(kernel="linear", min_size=2).fit(x).predict(pen=options.penalty)
    bounds = [0, *bkps]
    segs = []
    for k, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        s = start if k == 0 else float(t0[a])
        e = end if b >= len(x) else float(t0[b])
        segs.append(seg(s, e, segment_motion(rates[a:b].mean(axis=0), options)))
    merged = _merge(segs, options.min_segment)
    _refine(merged, t0, t1, x)
    # a change timed within half a minimum segment of a segment's far end leaves a sliver the
    # pairs barely show: it joins its neighbour
    merged = _merge(merged, options.min_segment / 2)
    if allowed:
        merged = _merge_same(keep_allowed(merged, allowed))
    return [seg(s["start"], s["end"], s["motion"]) for s in merged]


def keep_allowed(segs: list[dict[str, Any]], allowed: Sequence[Window]) -> list[dict[str, Any]]:
    """Each segment without the primitives the shot's reading rejects over its time.

    ``allowed``: (start, end, primitives the shot's reading does not reject there) per scoring
    window. The timeline reads raw per-pair rates; the reading weighs the same pairs with every
    cue (motion layers, parallax, calibration). It scores a motion by its amount over a window,
    so a motion that every window a segment overlaps rejects is not named. Its Static says the
    whole window is still, so ``Static`` goes only when every window lying inside the segment
    rejects it (a still end shorter than a window stays still). A segment left with nothing
    reads ``unknown``: its pairs show something the reading does not accept."""
    eps = 1e-6
    out = []
    for seg in segs:
        motion = seg["motion"]
        if motion == ["Static"]:
            inside = [ok for a, b, ok in allowed if a >= seg["start"] - eps and b <= seg["end"] + eps]
            if inside and not any("Static" in ok for ok in inside):
                motion = []
        else:
            near = [ok for a, b, ok in allowed if min(b, seg["end"]) > max(a, seg["start"])]
            if near:
                motion = [m for m in motion if any(m in ok for ok in near)]
        out.append({**seg, "motion": motion})
    return out


def format_timeline(segments: list[dict[str, Any]]) -> str:
    """``"0.0-2.1 s Pan_Left; 2.1-4.0 s Static"``."""
    return "; ".join(f"{s['start']:.1f}-{s['end']:.1f} s {s['label']}" for s in segments)
