"""Sparse point tracks between two grey frames: the best corner of each grid cell + pyramidal
Lucas-Kanade, kept only when the backward track returns to the start (forward-backward check)."""

from __future__ import annotations

import cv2
import numpy as np

_LK = dict(winSize=(11, 11), maxLevel=3, criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 30, 0.01))


def detect_points(image: np.ndarray, max_points: int = 400, exclude: np.ndarray | None = None) -> np.ndarray:
    """The best corner of each cell of a regular grid with about ``max_points`` cells: (N, 2) float32.

    One point per cell spreads the tracks over the whole frame (far background as well as near
    objects, which the parallax test needs); cells without texture give none. ``exclude``: points
    ((M, 2) px) around which, within one cell, no corner is taken (an overlay fixed on the frame).
    """
    small = cv2.pyrDown(image)  # the corner response at half size: 4x cheaper, same cells
    h, w = small.shape[:2]
    cell = max(4, int(np.sqrt(h * w / max_points)))
    rows, cols = h // cell, w // cell
    if rows == 0 or cols == 0:
        return np.zeros((0, 2), np.float32)
    response = cv2.cornerMinEigenVal(small, 3)
    if exclude is not None and len(exclude):
        hidden = np.zeros((h, w), np.uint8)
        for x, y in np.asarray(exclude, np.float64) / 2.0:
            cv2.circle(hidden, (int(round(x)), int(round(y))), cell, 1, -1)
        response[hidden.astype(bool)] = 0.0
    blocks = response[: rows * cell, : cols * cell].reshape(rows, cell, cols, cell).transpose(0, 2, 1, 3)
    blocks = blocks.reshape(rows, cols, cell * cell)
    best = blocks.argmax(axis=-1)
    value = np.take_along_axis(blocks, best[..., None], axis=-1)[..., 0]
    dy, dx = np.divmod(best, cell)
    gy, gx = np.mgrid[0:rows, 0:cols]
    pts = np.stack([gx * cell + dx, gy * cell + dy], axis=-1).reshape(-1, 2).astype(np.float32) * 2.0 + 0.5
    keep = value.ravel() > max(1e-3, 0.01 * float(value.max()))
    return pts[keep]


def track_points(prev: np.ndarray, nxt: np.ndarray, max_points: int = 400, fb_threshold: float = 0.7,
                 start: np.ndarray | None = None, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Track corners of ``prev`` into ``nxt`` (grey uint8 images of one size).

    ``start``: points to track (e.g. the previous pair's tracked points, to skip corner detection);
    corners are detected afresh when it holds fewer than half of ``max_points``.

    Returns ``(p0, p1)``, two (N, 2) float32 arrays of matched x, y positions that passed the
    forward-backward check (the backward track lands within ``fb_threshold`` px of the start).
    """
    p0 = start if start is not None and len(start) >= max_points // 2 else detect_points(prev, max_points, exclude)
    p0 = np.ascontiguousarray(p0, dtype=np.float32)
    if len(p0) == 0:
        return p0, p0.copy()
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, nxt, p0.reshape(-1, 1, 2), None, **_LK)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(nxt, prev, p1, None, **_LK)
    p1 = p1.reshape(-1, 2)
    err = np.linalg.norm(back.reshape(-1, 2) - p0, axis=1)
    h, w = prev.shape[:2]
    inside = (p1[:, 0] >= 0) & (p1[:, 0] < w) & (p1[:, 1] >= 0) & (p1[:, 1] < h)
    keep = (st1.ravel() == 1) & (st2.ravel() == 1) & (err < fb_threshold) & inside
    return p0[keep], p1[keep]
