"""What is fixed on the frame and is not the scene: letterbox bars, burned-in text and logos.

Over a moving scene both stay put. A tracking window on a bar's edge sees the still edge beside the
moving picture, and burned-in text moves as an infinitely far layer does under a translation: such
tracks would pass the parallax test and turn a zoom into a dolly or a tilt into a pedestal. Each
pair is tracked inside its active picture (:func:`frame_bars`: the bars common to both frames left
out), its tracks are searched for text fixed on the frame (:func:`fixed_on_frame`), and where some
is found the pair is tracked again around it, so that the text neither holds tracks nor raises the
corner threshold above the scene's weaker corners (:func:`scene_tracks`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camreasoner.observer.geometry.layers import extent
from camreasoner.observer.geometry.models import apply_homography
from camreasoner.observer.geometry.tracks import track_points

# Letterbox and pillarbox bars: runs of border rows (columns) no brighter than BAR_LEVEL anywhere,
# the same in both frames of a pair; the picture is taken BAR_MARGIN px inside them (a compressed
# bar's edge bleeds into the picture).
BAR_LEVEL = 24
BAR_MARGIN = 4


def _dark_run(maxima: np.ndarray) -> int:
    """How many leading entries of ``maxima`` are at most ``BAR_LEVEL``."""
    bright = np.flatnonzero(maxima > BAR_LEVEL)
    return int(bright[0]) if len(bright) else len(maxima)


def frame_bars(prev: np.ndarray, nxt: np.ndarray) -> tuple[int, int, int, int]:
    """Letterbox and pillarbox bars common to two grey frames: (top, bottom, left, right) in px, each
    0 unless both frames hold the same dark run there (within 1 px: the still bars of a letterboxed
    picture, not a dark part of the scene, which moves), else the run plus ``BAR_MARGIN``."""
    runs = []
    for img in (prev, nxt):
        rows, cols = img.max(axis=1), img.max(axis=0)
        runs.append((_dark_run(rows), _dark_run(rows[::-1]), _dark_run(cols), _dark_run(cols[::-1])))
    bars = tuple(min(a, b) + BAR_MARGIN if a and b and abs(a - b) <= 1 else 0 for a, b in zip(*runs, strict=True))
    h, w = prev.shape[:2]
    if bars[0] + bars[1] > h // 2 or bars[2] + bars[3] > w // 2:  # a dark frame, not a picture in bars
        return (0, 0, 0, 0)
    return bars  # type: ignore[return-value]


@dataclass
class SceneTracks:
    """A pair's tracks in its active picture (``size``, (w, h): the frame inside its bars; the
    tracks' coordinates are the picture's) and whether text fixed on the frame was left out."""

    p0: np.ndarray
    p1: np.ndarray
    size: tuple[int, int]
    overlay: bool = False


@dataclass(frozen=True)
class OverlayOptions:
    """Thresholds of :func:`fixed_on_frame`. Lengths are shares of the frame diagonal unless said."""

    pinned: float = 0.0004
    """A track moving less than this is pinned ..."""
    min_pinned: int = 3
    """... and this many pinned tracks start the search."""
    min_scene: int = 12
    """The other tracks (the scene) number at least this many."""
    ransac: float = 0.005
    """Inlier distance of the scene's homography."""
    scene_motion: float = 0.003
    """A track is still against the scene where the scene's homography moves it by at least this ..."""
    fixed_ratio: float = 0.2
    """... and it moves less than this share of that."""
    band: float = 0.25
    """Still tracks within this share of the height of the top or bottom edge are fixed: logos,
    timestamps, subtitles and tickers sit there (nearer the middle a still point amid a moving
    scene is as likely the far end of a dolly)."""
    still_outside: float = 0.2
    """Nothing is fixed when at least this share of the still tracks (and ``min_pinned``) lie outside
    the bands: a still scene (a fixed camera, a large subject moving in front of it), not an overlay."""
    fixed_extent: float = 0.25
    """Nothing is fixed when the fixed tracks reach more than this share of the cells of
    ``fixed_grid`` over the frame (an overlay is small) ..."""
    fixed_grid: tuple[int, int] = (12, 12)
    """See ``fixed_extent``."""
    scene_extent: float = 0.5
    """... or the scene's tracks less than this share of ``scene_grid``'s (it moves all over the frame)."""
    scene_grid: tuple[int, int] = (6, 6)
    """See ``scene_extent``."""


def fixed_on_frame(p0: np.ndarray, p1: np.ndarray, size: tuple[int, int],
                   options: OverlayOptions | None = None) -> np.ndarray:
    """Which tracks ``p0 -> p1`` ((N, 2) px) of a ``size`` (w, h) frame are fixed on it while the
    scene moves under them (a boolean mask). OpenCV's random generator is seeded first.

    Only when ``min_pinned`` tracks are pinned (move less than ``pinned``): the homography of the
    others (the scene) is fitted, and a track is *still* when that homography would move it by at
    least ``scene_motion`` and it moves less than ``fixed_ratio`` of that (an overlay's edge, where
    the tracking window also sees the scene, moves a little). Still tracks in the top or bottom
    ``band`` are fixed, unless still tracks outside the bands say the scene itself is still there
    (``still_outside``), the fixed tracks are not fewer than the scene's, reach more than
    ``fixed_extent`` of the frame, or the scene's reach less than ``scene_extent`` of it.
    """
    opts = options or OverlayOptions()
    diag = float(np.hypot(*size))
    motion = np.linalg.norm(p1 - p0, axis=1)
    pinned = motion < opts.pinned * diag
    fixed = np.zeros(len(p0), bool)
    if int(pinned.sum()) < opts.min_pinned or int((~pinned).sum()) < opts.min_scene:
        return fixed
    others = np.flatnonzero(~pinned)
    if extent(p0[others], size, opts.scene_grid) < opts.scene_extent:
        return fixed  # the scene (a subset of the others) would not reach enough of the frame
    cv2.setRNGSeed(0)  # RANSAC's samples: a pair reads the same whatever ran before it
    H, mask = cv2.findHomography(p0[others], p1[others], cv2.RANSAC, opts.ransac * diag, maxIters=200,
                                 confidence=0.99)
    if H is None:
        return fixed
    scene = others[mask.ravel().astype(bool)]
    predicted = np.linalg.norm(apply_homography(H, p0) - p0, axis=1)
    h = size[1]
    in_band = np.minimum(p0[:, 1], h - p0[:, 1]) < opts.band * h
    still = (predicted >= opts.scene_motion * diag) & (motion < opts.fixed_ratio * predicted)
    still[scene] = False
    fixed = still & in_band
    still_scene = int((still & ~in_band).sum()) >= max(opts.min_pinned, opts.still_outside * int(still.sum()))
    if still_scene or fixed.sum() >= len(scene) or extent(p0[fixed], size, opts.fixed_grid) > opts.fixed_extent \
            or extent(p0[scene], size, opts.scene_grid) < opts.scene_extent:
        fixed[:] = False
    return fixed


def scene_tracks(prev: np.ndarray, nxt: np.ndarray, max_points: int,
                 options: OverlayOptions | None = None) -> SceneTracks:
    """:func:`~.tracks.track_points` of ``prev -> nxt`` inside their active picture (without the
    letterbox bars both hold) and without text fixed on the frame: where some is found, the corners
    are detected again with its neighbourhood left out, and any fixed tracks still among them are
    dropped."""
    top, bottom, left, right = frame_bars(prev, nxt)
    if top or bottom or left or right:
        h, w = prev.shape[:2]
        prev = np.ascontiguousarray(prev[top:h - bottom, left:w - right])
        nxt = np.ascontiguousarray(nxt[top:h - bottom, left:w - right])
    size = (prev.shape[1], prev.shape[0])
    p0, p1 = track_points(prev, nxt, max_points)
    fixed = fixed_on_frame(p0, p1, size, options)
    if not fixed.any():
        return SceneTracks(p0, p1, size)
    p0, p1 = track_points(prev, nxt, max_points, exclude=p0[fixed])
    keep = ~fixed_on_frame(p0, p1, size, options)
    return SceneTracks(p0[keep], p1[keep], size, True)
