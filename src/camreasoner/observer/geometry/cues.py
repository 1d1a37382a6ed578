"""Integrate per-pair motion over a clip into the cues behind each primitive family."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np

from camreasoner.observer.geometry.models import PairMotion

# A clip whose camera estimate rests on a part of the frame in more than LOCAL_SHARE[0] of its
# frame pairs says less, and nothing from LOCAL_SHARE[1] on (see ClipCues.local_weight).
LOCAL_SHARE = (0.4, 0.8)


@dataclass
class ClipCues:
    """A clip's camera-motion cues (operator's signs: right, up, forward, clockwise, zoom in > 0).

    Rotations are totals in degrees; ``zoom_pct`` is the focal-length change in percent;
    ``truck``/``pedestal``/``dolly`` are the translational image motion along each camera axis
    summed over the clip, as a share of the frame width; ``*_agree`` is the share of the motion
    (by magnitude) that has the sign of the total. ``content_dx``/``content_dy``: background motion
    of the frame centre as a share of width/height (x right, y down). ``motion``: median background
    motion per second as a share of the width; ``fitted_motion``: the same as the pairs' homographies
    move the tracks (tracking noise averaged out; the Static decision's measure of motion);
    ``shake``: RMS of the jitter around the smoothed path (share of width per pair);
    ``parallax_share``: pairs whose motion showed parallax.
    ``layers``: mean motion layers per pair; ``camera_share``: mean share of the tracks in the
    camera layer; ``subject_share``: mean share left out as moving subjects; ``conflict_share``:
    pairs where no layer clearly dominates (see :mod:`.layers`), ``conflict``: for most of the clip;
    ``local_share``: pairs whose camera layer's tracks reach less than ``ClipOptions.local_extent``
    of the frame (the motion is seen on a part of the frame only); ``overlay_share``: pairs where
    text fixed on the frame (subtitles, a logo) was found and left out.
    """

    duration: float = 0.0
    pairs: int = 0
    valid_pairs: int = 0
    pan_deg: float = 0.0
    tilt_deg: float = 0.0
    roll_deg: float = 0.0
    zoom_pct: float = 0.0
    truck: float = 0.0
    pedestal: float = 0.0
    dolly: float = 0.0
    pan_agree: float = 1.0
    tilt_agree: float = 1.0
    roll_agree: float = 1.0
    zoom_agree: float = 1.0
    truck_agree: float = 1.0
    pedestal_agree: float = 1.0
    dolly_agree: float = 1.0
    content_dx: float = 0.0
    content_dy: float = 0.0
    motion: float = 0.0
    fitted_motion: float = 0.0
    max_motion: float = 0.0
    shake: float = 0.0
    parallax_share: float = 0.0
    parallax_ratio: float = 0.0
    rigid_share: float = 0.0
    layers: float = 0.0
    camera_share: float = 1.0
    subject_share: float = 0.0
    conflict_share: float = 0.0
    conflict: bool = False
    local_share: float = 0.0
    overlay_share: float = 0.0
    foe_x: float | None = None
    foe_y: float | None = None

    @property
    def local_weight(self) -> float:
        """How far (0-1) the clip's motion scores go toward the priors because its motion is seen on a part
        of the frame only: 0 up to ``LOCAL_SHARE[0]`` of local pairs, 1 from ``LOCAL_SHARE[1]``. A
        camera motion moves the whole frame; motion tracked over less than half of it, the rest too
        plain or dark to track, may as well be a figure filling a still shot."""
        low, high = LOCAL_SHARE
        return min(1.0, max(0.0, (self.local_share - low) / (high - low)))

    @property
    def measured(self) -> bool:
        """Whether at least half of the clip's frame pairs (and at least one) were measured: fewer,
        and its cues are too thin to read a motion from (see ``scoring.score_cues``)."""
        return self.valid_pairs >= 1 and 2 * self.valid_pairs >= self.pairs

    def to_dict(self) -> dict[str, float | int | None]:
        """JSON-able dict, floats rounded to 5 significant digits."""
        return {k: (float(f"{v:.5g}") if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _agree(values: np.ndarray, total: float) -> float:
    mag = float(np.abs(values).sum())
    if mag <= 0:
        return 1.0
    return float(np.abs(values[np.sign(values) == np.sign(total)]).sum() / mag) if total else 0.5


def _detrended_rms(series: np.ndarray, window: int = 5) -> float:
    if len(series) < 3:
        return 0.0
    k = min(window, len(series))
    kernel = np.ones(k) / k
    pad = np.pad(series, ((k // 2, k - 1 - k // 2), (0, 0)), mode="edge")
    smooth = np.stack([np.convolve(pad[:, j], kernel, mode="valid") for j in range(series.shape[1])], axis=1)
    return float(np.sqrt(np.mean(np.sum((series - smooth) ** 2, axis=1))))


@dataclass(frozen=True)
class ClipOptions:
    """Settings of :func:`integrate_pairs`."""

    max_pair_translation_ratio: float = 3.0
    """One pair's translation counts at most this many times the median translating pair's: a
    single pair (a hand entering the frame, a failed fit) does not make a camera move."""
    conflict_pairs: float = 0.5
    """The clip's evidence conflicts when at least this share of its pairs is in conflict."""
    local_extent: float = 0.5
    """A pair's motion is local when its camera layer's tracks reach less than this share of the
    frame's cells (see ``LayerOptions.extent_grid``)."""
    window_s: float = 3.0
    """Scoring window (s): the length of the clips the calibration was fitted on. A shot longer
    than one window is scored window by window (see :func:`integrate_windows`)."""
    window_stride_s: float = 1.5
    """Start-to-start spacing of the scoring windows (s)."""


def is_local(pair: PairMotion, options: ClipOptions | None = None) -> bool:
    """Whether a pair's motion is seen on part of the frame only: its camera layer's tracks reach
    less than ``ClipOptions.local_extent`` of the frame's cells."""
    return pair.extent < (options or ClipOptions()).local_extent


def _capped(trans: np.ndarray, ratio: float) -> np.ndarray:
    """Per-pair translations (N, 3) with each pair's size capped at ``ratio`` times the median
    translating pair's."""
    size = np.linalg.norm(trans, axis=1)
    moving = size > 0
    if moving.sum() == 0:
        return trans
    cap = ratio * float(np.median(size[moving]))
    scale = np.where(size > cap, cap / np.maximum(size, 1e-12), 1.0)
    return trans * scale[:, None]


def integrate_pairs(pairs: Sequence[PairMotion], size: tuple[int, int], focal: float,
                    options: ClipOptions | None = None) -> ClipCues:
    """Sum per-pair motion (from :func:`estimate_pair`) over a clip of frames of ``size`` (w, h)."""
    opts = options or ClipOptions()
    w, h = size
    cues = ClipCues(pairs=len(pairs), duration=float(sum(p.dt for p in pairs)))
    ok = [p for p in pairs if p.valid]
    cues.valid_pairs = len(ok)
    if not ok:
        return cues
    pan = np.array([p.pan for p in ok])
    tilt = np.array([p.tilt for p in ok])
    roll = np.array([p.roll for p in ok])
    zoom = np.array([p.log_zoom for p in ok])
    trans = _capped(np.array([p.translation for p in ok]), opts.max_pair_translation_ratio)
    truck, pedestal, dolly = trans[:, 0], -trans[:, 1], trans[:, 2]
    cues.pan_deg = math.degrees(pan.sum())
    cues.tilt_deg = math.degrees(tilt.sum())
    cues.roll_deg = math.degrees(roll.sum())
    cues.zoom_pct = (math.exp(zoom.sum()) - 1.0) * 100.0
    cues.truck, cues.pedestal, cues.dolly = float(truck.sum()), float(pedestal.sum()), float(dolly.sum())
    for name, values, total in (
        ("pan", pan, pan.sum()), ("tilt", tilt, tilt.sum()), ("roll", roll, roll.sum()),
        ("zoom", zoom, zoom.sum()), ("truck", truck, cues.truck), ("pedestal", pedestal, cues.pedestal),
        ("dolly", dolly, cues.dolly),
    ):
        setattr(cues, f"{name}_agree", _agree(values, float(total)))
    # image motion as shares of the picture each pair was measured in (the frame inside its bars)
    pictures = np.array([p.size or size for p in ok], float)
    shifts = np.array([p.shift for p in ok])
    cues.content_dx = float((shifts[:, 0] / pictures[:, 0]).sum())
    cues.content_dy = float((shifts[:, 1] / pictures[:, 1]).sum())
    rates = np.array([p.flow_px / max(p.dt, 1e-6) for p in ok]) / pictures[:, 0]
    cues.motion = float(np.median(rates))
    fitted = np.array([p.fitted_px / max(p.dt, 1e-6) for p in ok]) / pictures[:, 0]
    cues.fitted_motion = float(np.median(fitted))
    cues.max_motion = float(np.percentile(rates, 90))
    cues.shake = _detrended_rms(shifts / pictures[:, :1])
    cues.parallax_share = float(np.mean([p.model == "essential" for p in ok]))
    cues.parallax_ratio = float(np.median([p.parallax_ratio for p in ok]))
    cues.rigid_share = float(np.mean([p.rigid_share for p in ok]))
    cues.layers = float(np.mean([p.layers for p in ok]))
    cues.camera_share = float(np.mean([p.camera_share for p in ok]))
    cues.subject_share = float(np.mean([p.subject_share for p in ok]))
    cues.conflict_share = float(np.mean([p.conflict for p in ok]))
    cues.conflict = cues.conflict_share >= opts.conflict_pairs
    cues.local_share = float(np.mean([is_local(p, opts) for p in ok]))
    cues.overlay_share = float(np.mean([p.overlay for p in ok]))
    tz = trans[:, 2].sum()
    if abs(tz) > 1e-9 and abs(cues.dolly) > 0.5 * np.abs(trans).sum(axis=0).max():
        cues.foe_x = float(0.5 + focal * trans[:, 0].sum() / tz / w)
        cues.foe_y = float(0.5 + focal * trans[:, 1].sum() / tz / h)
    return cues


def window_slices(dts: Sequence[float], window_s: float, stride_s: float) -> list[slice]:
    """Runs of consecutive pairs (of durations ``dts``) spanning ``window_s`` seconds, starting every
    ``stride_s`` seconds, the last one ending with the shot; one run of every pair when the shot
    spans at most ``window_s``."""
    if not len(dts):
        return []
    ends = np.cumsum(np.asarray(dts, dtype=float))
    starts = ends - np.asarray(dts, dtype=float)
    total = float(ends[-1])
    eps = 1e-6
    if total <= window_s + eps:
        return [slice(0, len(dts))]
    count = math.ceil((total - window_s) / stride_s - eps) + 1
    out: list[slice] = []
    for k in range(count):
        a = min(k * stride_s, total - window_s)
        i = int(np.searchsorted(starts, a - eps, side="left"))
        j = int(np.searchsorted(ends, a + window_s + eps, side="right"))
        if j > i and (not out or (out[-1].start, out[-1].stop) != (i, j)):
            out.append(slice(i, j))
    return out


def integrate_windows(pairs: Sequence[PairMotion], size: tuple[int, int], focal: float,
                      options: ClipOptions | None = None) -> list[tuple[slice, ClipCues]]:
    """Each scoring window of a shot (:func:`window_slices` over the pairs' ``dt``): its slice of
    ``pairs`` and its cues, integrated as a clip of its own; empty when the shot fits in one window
    (its cues are the shot's own)."""
    opts = options or ClipOptions()
    slices = window_slices([p.dt for p in pairs], opts.window_s, opts.window_stride_s)
    if len(slices) <= 1:
        return []
    return [(s, integrate_pairs(pairs[s], size, focal, opts)) for s in slices]


def merge_chains(chains: Sequence[ClipCues], options: ClipOptions | None = None) -> ClipCues:
    """One shot's cues from its interleaved chains of pairs (see ``observer.track.pair_spacing``),
    each integrated as a clip of its own: pair counts added up, the duration the longest chain's,
    every other cue the mean over the chains weighted by their measured pairs (the focus of
    expansion over the chains that have one)."""
    if len(chains) == 1:
        return chains[0]
    opts = options or ClipOptions()
    out = ClipCues(pairs=sum(c.pairs for c in chains), valid_pairs=sum(c.valid_pairs for c in chains),
                   duration=max(c.duration for c in chains))
    weights = np.array([c.valid_pairs for c in chains], float)
    if weights.sum() == 0:
        return out
    counted = {"pairs", "valid_pairs", "duration", "conflict", "foe_x", "foe_y"}
    for f in fields(ClipCues):
        if f.name not in counted:
            setattr(out, f.name, float(np.average([getattr(c, f.name) for c in chains], weights=weights)))
    out.conflict = out.conflict_share >= opts.conflict_pairs
    for name in ("foe_x", "foe_y"):
        known = [(getattr(c, name), w) for c, w in zip(chains, weights, strict=True) if getattr(c, name) is not None]
        if known and sum(w for _, w in known) > 0:
            setattr(out, name, float(np.average([v for v, _ in known], weights=[w for _, w in known])))
    return out
