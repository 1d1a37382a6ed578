"""A wide lens's radial distortion, estimated from the tracks of a shot and taken out of them.

Through a lens that bends straight lines (the barrel distortion of an action camera's or an
uncorrected ultra-wide view), a rotation moves the image in a way no homography fits, and what is
left looks like parallax: pans read as trucks and zooms as dollies. The lens is the same for every
pair of a shot, so one coefficient of the division model (Fitzgibbon, CVPR 2001),
``x_u = c + (x_d - c) / (1 + k r^2)`` with ``r`` the distance from the picture's centre in half
diagonals, is chosen per shot: the one under which a homography fits the tracks of its fastest
pairs best. The pairs are dealt into two halves, and each half's coefficient is kept only when it
also removes most of what a homography left of the other half's tracks (``gain``) and those then
fit a homography about as well as an undistorted rotation's do (``max_residual``): a translating
camera's parallax depends on depth, not on the position in the frame, so a coefficient fitted to
one half's parallax, or to its tracking noise, does not carry over to the other half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from camreasoner.observer.geometry.models import apply_homography

# A search is skipped when a homography leaves ZERO_SLACK times ``max_residual`` of the motion, or
# when neither of its first two coefficients brings each half under PROBE_SLACK times it: the
# bending the search then finds never passes its conditions (all calibration and design sets).
ZERO_SLACK = 4.0
PROBE_SLACK = 1.5
# One pair's tracks: p0, p1 ((N, 2) px) and the (w, h) of the picture they lie in.
PairTracks = tuple[np.ndarray, np.ndarray, tuple[int, int]]


@dataclass(frozen=True)
class LensOptions:
    """Settings of :func:`estimate_lens` (and of which shots the observer searches,
    ``bent_pairs``, ``min_explained``). Lengths are shares of the picture's diagonal."""

    bent_pairs: int = 2
    """A shot is searched only when at least this many of its pairs look bent: read with parallax
    (a translation: what a lens's bending fakes) ..."""
    min_explained: float = 0.25
    """... or read by a homography whose rotation and zoom account for under this share of the
    tracks' motion (the homography absorbed a bent pan or tilt as a keystone; a camera's rotation,
    zoom or a crop window's shift accounts for at least 0.4 of it on every calibration and design
    set). Elsewhere there is nothing for the search to undo."""
    strongest: float = -0.5
    """The coefficient is searched between this (strong barrel distortion) and 0 ..."""
    steps: int = 10
    """... by this many golden-section steps."""
    pairs: int = 10
    """The pairs that move most, at most this many, choose it ..."""
    min_flow: float = 0.005
    """... among those moving by at least this (median over their tracks) ..."""
    min_tracks: int = 20
    """... with at least this many tracks; fewer than four such pairs (two a half): no estimate."""
    ransac: float = 0.005
    """Inlier distance of each pair's homography."""
    gain: float = 0.8
    """Kept only if the homography's residual falls below this share of its residual at 0 ..."""
    max_residual: float = 0.04
    """... and below this share of the motion (median residual over median motion, median over the pairs)."""


@dataclass(frozen=True)
class LensFit:
    """The shot's ``coefficient`` (0: none taken out) and the homography's residual (share of the
    motion) at 0 and at the coefficients found, each half's tried on the other (``None``: not
    searched)."""

    coefficient: float = 0.0
    before: float | None = None
    after: float | None = None


def undistort(pts: np.ndarray, size: tuple[int, int], coefficient: float) -> np.ndarray:
    """Points ``pts`` ((N, 2) px) of a ``size`` (w, h) picture with the division model's
    ``coefficient`` taken out (0: unchanged)."""
    if not coefficient:
        return pts
    centre = np.array(size, np.float64) / 2.0
    half_diagonal = math.hypot(*size) / 2.0
    offset = np.asarray(pts, np.float64) - centre
    r2 = (offset**2).sum(axis=1, keepdims=True) / half_diagonal**2
    return centre + offset / (1.0 + coefficient * r2)


def homography_residual(pairs: Sequence[PairTracks], coefficient: float, options: LensOptions) -> float:
    """How badly a homography fits each pair's tracks under ``coefficient``: its inliers' median
    residual (RANSAC within ``options.ransac``, OpenCV's random generator seeded before each fit)
    over the tracks' median motion, median over ``pairs``."""
    shares = []
    for p0, p1, size in pairs:
        q0, q1 = undistort(p0, size, coefficient), undistort(p1, size, coefficient)
        cv2.setRNGSeed(0)
        H, mask = cv2.findHomography(q0, q1, cv2.RANSAC, options.ransac * math.hypot(*size), maxIters=200,
                                     confidence=0.99)
        if H is None:
            continue
        inliers = mask.ravel().astype(bool)
        predicted = apply_homography(H, q0[inliers])
        residual = float(np.median(np.linalg.norm(predicted - q1[inliers], axis=1)))
        shares.append(residual / max(float(np.median(np.linalg.norm(q1 - q0, axis=1))), 1.0))
    return float(np.median(shares)) if shares else 0.0


def _search(pairs: Sequence[PairTracks], opts: LensOptions) -> float:
    """The coefficient in [``strongest``, 0] under which a homography fits ``pairs`` best, by
    golden-section search."""
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    low, high = opts.strongest, 0.0
    a, b = high - ratio * (high - low), low + ratio * (high - low)
    fa, fb = homography_residual(pairs, a, opts), homography_residual(pairs, b, opts)
    for _ in range(opts.steps):
        if fa < fb:
            high, b, fb = b, a, fa
            a = high - ratio * (high - low)
            fa = homography_residual(pairs, a, opts)
        else:
            low, a, fa = a, b, fb
            b = low + ratio * (high - low)
            fb = homography_residual(pairs, b, opts)
    return a if fa < fb else b


def estimate_lens(pairs: Sequence[PairTracks], options: LensOptions | None = None) -> LensFit:
    """The division-model coefficient of the lens that filmed ``pairs`` (one shot's tracks; see the
    module's docstring for when one is kept). The moving pairs are dealt into two halves; each
    half's coefficient must also straighten the other half's tracks (a coefficient that only fits
    one half's noise does not), and the shot's is their mean."""
    opts = options or LensOptions()

    rated = []  # (median motion, tracks) of the pairs with enough tracks that move enough
    for p0, p1, size in pairs:
        if len(p0) >= opts.min_tracks:
            q0, q1 = np.asarray(p0, np.float64), np.asarray(p1, np.float64)
            moved = float(np.median(np.linalg.norm(q1 - q0, axis=1)))
            if moved >= opts.min_flow * math.hypot(*size):
                rated.append((moved, (q0, q1, size)))
    moving = [tracks for _, tracks in sorted(rated, key=lambda r: r[0], reverse=True)[: opts.pairs]]
    if len(moving) < 4:
        return LensFit()
    halves = (moving[0::2], moving[1::2])
    straight = [homography_residual(half, 0.0, opts) for half in halves]
    before = float(np.mean(straight))
    if before >= ZERO_SLACK * opts.max_residual:  # far more than a lens bends: subjects, parallax
        return LensFit(0.0, before, None)
    probes = (0.382 * opts.strongest, 0.618 * opts.strongest)  # where the search starts
    for half, at_zero in zip(halves, straight, strict=True):  # both halves bent, or no search
        probed = min(homography_residual(half, c, opts) for c in probes)
        if probed >= opts.gain * at_zero or probed >= PROBE_SLACK * opts.max_residual:
            return LensFit(0.0, before, None)
    found = [_search(half, opts) for half in halves]
    checked = [homography_residual(other, c, opts) for c, other in zip(found, halves[::-1], strict=True)]
    kept = all(r < opts.gain * at_zero and r < opts.max_residual
               for r, at_zero in zip(checked, straight[::-1], strict=True))
    coefficient = float(np.mean(found))
    return LensFit(round(coefficient, 4) if kept else 0.0, before, float(np.mean(checked)))
