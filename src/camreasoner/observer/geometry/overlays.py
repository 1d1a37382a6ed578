"""Text fixed on the frame: burned-in subtitles, a channel logo, a running timestamp.

Over a moving scene such text stays put, which is what an infinitely far layer does under a
translation: its tracks would pass the parallax test and turn a tilt into a pedestal. A pair's
tracks are searched for it (:func:`fixed_on_frame`), and where it is found the pair is tracked
again around it (:func:`scene_tracks`), so that the text neither holds tracks nor raises the corner
threshold above the scene's weaker corners.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from camreasoner.observer.geometry.layers import extent
from camreasoner.observer.geometry.models import apply_homography
from camreasoner.observer.geometry.tracks import track_points


@dataclass(frozen=True)
class OverlayOptions:
    """Thresholds of :func:`fixed_on_frame`. Lengths are shares of the frame diagonal."""

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
                 options: OverlayOptions | None = None) -> tuple[np.ndarray, np.ndarray, bool]:
    """:func:`~.tracks.track_points` of ``prev -> nxt`` without text fixed on the frame, and whether
    some was found: then the corners are detected again with its neighbourhood left out, and any
    fixed tracks still among them are dropped."""
    p0, p1 = track_points(prev, nxt, max_points)
    size = (prev.shape[1], prev.shape[0])
    fixed = fixed_on_frame(p0, p1, size, options)
    if not fixed.any():
        return p0, p1, False
    p0, p1 = track_points(prev, nxt, max_points, exclude=p0[fixed])
    keep = ~fixed_on_frame(p0, p1, size, options)
    return p0[keep], p1[keep], True
