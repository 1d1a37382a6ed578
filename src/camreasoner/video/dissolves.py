"""Dissolves: one shot cross-fading into the next, found from the shot detector's brightness copies.

PySceneDetect has no detector for gradual transitions (its detectors compare neighbouring frames,
and a dissolve changes each frame a little), so this one is ours. A window of frames ``s .. e``
(0.5, 1, 1.5 or 2 s long) is a dissolve when all of these hold:

- **the ends show different pictures**: the correlation of their brightness (32x24 px, mean and
  contrast removed) is at most ``DissolveOptions.max_end_correlation``, and both have texture;
- **every frame inside is a blend of the ends** that moves from the first to the last: at 8x6 px
  each inner frame is fitted as ``a * first + (1 - a) * last``; ``a`` falls from about 1 to about 0
  without rising or jumping (a hard cut jumps), and the fit leaves little of the frame unexplained;
- **the contrast dips as a blend's does**: a blend of two unrelated pictures is flatter than either
  (:func:`blend_contrast`), while camera motion keeps the contrast of the view it moves over. Where
  ``a`` is between 0.2 and 0.8, the frames' contrast is at most ``max_contrast`` times the blend's
  (the median ratio). At 8x6 px a fast pan over smooth texture can pass for a blend; its contrast
  does not dip. The test needs ends whose blends can dip: the flattest blend at most ``min_dip``
  times the flatter end's contrast (a pan out of a dark stretch brightens like a dissolve out of a
  dim shot, and its contrast follows the brighter end's).

Overlapping windows that pass are one dissolve, the one whose ends differ most (the purest ends of
the two shots). Its shot boundary is the first frame that is more the second shot than the first
(``a`` under 0.5); the frames between its ends are blends of two shots and show no one camera's
motion (the observer measures no frame pair that touches them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

CONTRAST_SIZE = (32, 24)
BLEND_SIZE = (8, 6)


@dataclass(frozen=True)
class DissolveOptions:
    """Window lengths (s); the highest rate of frames looked at (a faster stream is thinned to every
    ``k``-th frame: a dissolve lasts a third of a second or more); the ends' correlation limit; the
    texture an end needs (the brightness's standard deviation, 0-255); the inner frames' contrast
    over a blend's; how far the ends' blends must be able to dip; and the blend fit's limits: the
    largest rise of ``a`` between frames, its largest step, and the unexplained share of the ends'
    difference."""

    lengths_s: tuple[float, ...] = (0.5, 1.0, 1.5, 2.0)
    max_rate: float = 12.5
    max_end_correlation: float = 0.6
    min_texture: float = 6.0
    max_contrast: float = 1.05
    min_dip: float = 0.9
    max_rise: float = 0.15
    max_step: float = 0.5
    max_residual: float = 0.35


@dataclass(frozen=True)
class Dissolve:
    """A dissolve between source frames ``first`` and ``last`` (the two shots' purest ends; the
    frames between are blends) and ``boundary``, the first frame of the second shot."""

    first: int
    last: int
    boundary: int
    end_correlation: float


def _blend_variance(a, first: float, last: float, correlation: float):
    """The variance of ``a * X + (1 - a) * Y`` (``a`` a number or an array), pictures X and Y of
    contrasts (standard deviations) ``first`` and ``last`` and correlation ``correlation``."""
    cross = correlation * first * last
    return a * a * first * first + (1 - a) * (1 - a) * last * last + 2 * a * (1 - a) * cross


def blend_contrast(share: np.ndarray, first: float, last: float, correlation: float) -> np.ndarray:
    """The contrast (standard deviation) of ``a * X + (1 - a) * Y`` for each ``a`` in ``share``
    (clipped to [0, 1]), pictures X and Y of contrasts ``first`` and ``last`` and correlation
    ``correlation``."""
    return np.sqrt(np.maximum(_blend_variance(np.clip(share, 0.0, 1.0), first, last, correlation), 1e-6))


def flattest_blend(first: float, last: float, correlation: float) -> float:
    """The lowest contrast any blend ``a * X + (1 - a) * Y`` (``a`` in [0, 1]) of such pictures has."""
    cross = correlation * first * last
    spread = first * first + last * last - 2.0 * cross
    a = min(1.0, max(0.0, (last * last - cross) / spread)) if spread > 0 else 0.5
    return math.sqrt(max(_blend_variance(a, first, last, correlation), 1e-6))


@dataclass
class DissolveDetector:
    """Feed it every frame's brightness in order (:meth:`feed`), then read :meth:`dissolves`.

    It keeps the last two seconds of 32x24 copies; each frame kept closes one window per length."""

    fps: float
    options: DissolveOptions = field(default_factory=DissolveOptions)

    def __post_init__(self) -> None:
        self.stride = max(1, round(self.fps / self.options.max_rate))  # every frame at 12 fps, every 2nd at 25
        rate = self.fps / self.stride
        self.lengths = sorted({max(3, round(s * rate)) for s in self.options.lengths_s})
        self._hits: list[Dissolve] = []
        self._fed = 0  # frames fed
        self._count = 0  # frames kept
        self._capacity = self.lengths[-1] + 1
        n_contrast = CONTRAST_SIZE[0] * CONTRAST_SIZE[1]
        self._numbers = np.zeros(self._capacity, np.int64)
        self._texture = np.zeros(self._capacity, np.float32)
        self._shape = np.zeros((self._capacity, n_contrast), np.float32)  # mean 0, norm sqrt(n) or 0
        self._small = np.zeros((self._capacity, BLEND_SIZE[0] * BLEND_SIZE[1]), np.float32)

    def feed(self, number: int, luma: np.ndarray) -> None:
        """One frame's brightness image (any size, 0-255) and its source frame number (every
        ``stride``-th frame fed is kept)."""
        import cv2

        self._fed += 1
        if (self._fed - 1) % self.stride:
            return
        grey = cv2.resize(luma, CONTRAST_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
        mean, deviation = cv2.meanStdDev(grey)
        texture = float(deviation[0, 0])
        at = self._count % self._capacity
        self._numbers[at] = number
        self._texture[at] = texture
        self._shape[at] = ((grey - float(mean[0, 0])) / texture).ravel() if texture > 0 else 0.0
        self._small[at] = cv2.resize(grey, BLEND_SIZE, interpolation=cv2.INTER_AREA).ravel()
        self._count += 1
        e = self._count - 1
        starts = [e - length for length in self.lengths if length <= e]
        if texture < self.options.min_texture or not starts:
            return
        at_starts = np.array(starts) % self._capacity
        correlations = (self._shape[at_starts] @ self._shape[at] / self._shape.shape[1]).tolist()
        candidates = [(s, c) for s, i, c in zip(starts, at_starts, correlations, strict=True)
                      if self._judgeable(float(self._texture[i]), texture, c)]
        if candidates:
            self._test(e, candidates)

    def _judgeable(self, first: float, last: float, correlation: float) -> bool:
        """Whether ends of contrasts ``first`` and ``last`` correlating by ``correlation`` can
        bound a dissolve: different pictures, both textured, and blends that can dip in contrast."""
        opt = self.options
        return (correlation <= opt.max_end_correlation and min(first, last) >= opt.min_texture
                and flattest_blend(first, last, correlation) <= opt.min_dip * min(first, last))

    def _test(self, e: int, candidates: list[tuple[int, float]]) -> None:
        """Which windows ``s .. e`` (feed order; ``candidates``: each ``s`` and the correlation of
        its ends) are dissolves; a pass is kept. One product serves every window ending at ``e``."""
        opt, cap = self.options, self._capacity
        first_s = min(s for s, _ in candidates)
        rows = np.arange(first_s, e + 1) % cap  # frames first_s .. e in order
        offsets = self._small[rows] - self._small[e % cap]  # each frame minus the last end
        norms = np.einsum("ij,ij->i", offsets, offsets)
        products = offsets @ offsets[[s - first_s for s, _ in candidates]].T
        last = float(self._texture[e % cap])
        for column, (s, correlation) in enumerate(candidates):
            k0 = s - first_s
            energy = float(norms[k0])  # the ends' difference
            if energy <= 0.0:
                continue
            share = products[k0 + 1 : len(rows) - 1, column] / energy  # each inner frame's share of the first end
            path = np.empty(len(share) + 2)
            path[0], path[1:-1], path[-1] = 1.0, share, 0.0
            steps = path[1:] - path[:-1]
            if steps.max() > opt.max_rise or -steps.min() > opt.max_step:
                continue
            unexplained = norms[k0 + 1 : len(rows) - 1] - share * share * energy
            if float(unexplained.max()) > opt.max_residual**2 * energy:
                continue
            inner = rows[k0 + 1 : len(rows) - 1]
            first = float(self._texture[s % cap])
            ratio = self._texture[inner] / blend_contrast(share, first, last, correlation)
            middle = (share > 0.2) & (share < 0.8)  # where a blend is flattest
            if float(np.median(ratio[middle] if middle.any() else ratio)) > opt.max_contrast:
                continue
            second = np.flatnonzero(share < 0.5)
            boundary = self._numbers[inner[second[0]]] if len(second) else self._numbers[e % cap]
            self._hits.append(Dissolve(int(self._numbers[s % cap]), int(self._numbers[e % cap]), int(boundary),
                                       round(correlation, 3)))

    def dissolves(self) -> list[Dissolve]:
        """The dissolves found so far: overlapping windows that passed are one, the one whose ends
        differ most (then the shortest)."""
        groups: list[list[Dissolve]] = []
        for hit in sorted(self._hits, key=lambda h: (h.first, h.last)):
            if groups and hit.first < max(h.last for h in groups[-1]):
                groups[-1].append(hit)
            else:
                groups.append([hit])
        return [min(g, key=lambda h: (h.end_correlation, h.last - h.first)) for g in groups]
