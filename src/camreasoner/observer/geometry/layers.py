"""Motion layers of one frame pair: sequential RANSAC over the tracks, the camera layer chosen by
spatial coverage, and the independently moving subjects left out of the camera estimate.

A homography is fitted to all tracks, its inliers removed, the next fitted to the rest, and so on.
Each layer's spatial coverage (the share of the frame's occupied grid cells it reaches) and border
contact are measured; the camera layer is the one spread widest over the frame (a background
reaches the borders, a walker or a hand does not), not merely the largest. A layer whose motion
against the camera layer is not what a translating camera makes of a static object (motion in the
direction the camera layer moves, or radially out of or into the frame as the camera layer's
zoom) is a subject: its points are left out of the parallax test. When the camera layer does not
clearly dominate (a subject holds a large share of the tracks or of the frame), the pair is in
conflict. The camera layer's ``extent`` (the share of the whole frame's grid cells its tracks reach)
says how much of the frame the camera estimate rests on: a figure filling a still shot against a
backdrop too dark or plain to track can be all the tracks there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True)
class LayerOptions:
    """Thresholds of :func:`motion_layers`. Lengths are shares of the frame diagonal."""

    ransac: float = 0.005
    """Inlier distance of each layer's homography (looser than the camera estimate's: a layer holds
    a whole object, with some depth)."""
    max_layers: int = 4
    """Layers fitted at most; what remains is unassigned."""
    min_points: int = 6
    """A layer holds at least this many tracks ..."""
    min_share: float = 0.04
    """... and this share of them."""
    grid: tuple[int, int] = (4, 4)
    """Cells (columns, rows) over which spatial coverage is counted."""
    border: float = 0.12
    """A layer touches a border when it has tracks within this share of the width or height of it."""
    subject_motion: float = 0.003
    """A layer moving against the camera layer by less than this is part of it (noise, depth)."""
    alignment: float = 0.5
    """Parallax of a static object lines up with the camera layer's own motion at it: a cosine
    below this (or a camera layer that barely moves) makes the layer a subject."""
    spread: float = 0.5
    """A lone layer moving over a still camera layer is a subject unless it covers this share of the
    frame's occupied cells (then it may be the nearer part of the scene, seen translating)."""
    rigid: float = 0.0025
    """... and holds depth: fewer than ``rigid_share`` of its tracks fit one homography within this
    (a rigid object moving on its own fits one tightly; near scenery at several depths does not)."""
    rigid_share: float = 0.8
    """See ``rigid``."""
    either_sign: bool = False
    """Accept parallax against the camera layer's motion as well as along it (a camera layer
    nearer than the object)."""
    conflict_share: float = 0.3
    """A pair is in conflict when a subject holds this share of the tracks ..."""
    conflict_dominance: float = 0.6
    """... and the camera layer holds less than this share of the camera and largest subject together."""
    extent_grid: tuple[int, int] = (6, 6)
    """Cells (columns, rows) over which the camera layer's extent is counted: the whole frame, cells
    without tracks included."""


@dataclass
class Layers:
    """The layers of one pair: ``label`` per track (layer index, -1 unassigned), the ``camera``
    layer's index, per-layer ``share``/``coverage``/``borders``, the ``subject`` mask over the
    tracks (points left out of the camera estimate), the pair's ``conflict`` flag and the camera
    layer's ``extent``: the share of the frame's cells (``LayerOptions.extent_grid``) holding its
    tracks (all tracks' when no layer was fitted)."""

    label: np.ndarray
    camera: int = -1
    share: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)
    borders: list[int] = field(default_factory=list)
    subject: np.ndarray | None = None
    conflict: bool = False
    extent: float = 1.0

    @property
    def camera_share(self) -> float:
        """The camera layer's share of the tracks (1.0 without layers)."""
        return self.share[self.camera] if self.camera >= 0 else 1.0

    @property
    def subject_share(self) -> float:
        """The share of tracks left out as moving subjects."""
        return float(self.subject.mean()) if self.subject is not None and len(self.subject) else 0.0


def _cells(pts: np.ndarray, size: tuple[int, int], grid: tuple[int, int]) -> np.ndarray:
    w, h = size
    cx = np.clip((pts[:, 0] / w * grid[0]).astype(int), 0, grid[0] - 1)
    cy = np.clip((pts[:, 1] / h * grid[1]).astype(int), 0, grid[1] - 1)
    return cy * grid[0] + cx


def extent(pts: np.ndarray, size: tuple[int, int], grid: tuple[int, int]) -> float:
    """The share of a ``grid`` over the whole ``size`` (w, h) frame whose cells hold points ``pts``."""
    if not len(pts):
        return 0.0
    return len(np.unique(_cells(pts, size, grid))) / (grid[0] * grid[1])


def _borders(pts: np.ndarray, size: tuple[int, int], margin: float) -> int:
    w, h = size
    return int((pts[:, 0] < margin * w).any()) + int((pts[:, 0] > (1 - margin) * w).any()) + \
        int((pts[:, 1] < margin * h).any()) + int((pts[:, 1] > (1 - margin) * h).any())


def _apply(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    hom = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ H.T
    return hom[:, :2] / hom[:, 2:3]


def motion_layers(p0: np.ndarray, p1: np.ndarray, size: tuple[int, int],
                  options: LayerOptions | None = None) -> Layers:
    """Split the tracks ``p0 -> p1`` ((N, 2) px) of a ``size`` (w, h) frame into motion layers."""
    opts = options or LayerOptions()
    n = len(p0)
    diag = float(np.hypot(*size))
    label = np.full(n, -1)
    out = Layers(label=label, subject=np.zeros(n, bool), extent=extent(p0, size, opts.extent_grid))
    if n < 2 * opts.min_points:
        return out
    cells = _cells(p0, size, opts.grid)
    occupied = max(1, len(np.unique(cells)))
    homographies = []
    rest = np.arange(n)
    min_points = max(opts.min_points, int(np.ceil(opts.min_share * n)))
    while len(homographies) < opts.max_layers and len(rest) >= max(min_points, 4):
        H, mask = cv2.findHomography(p0[rest], p1[rest], cv2.RANSAC, opts.ransac * diag, maxIters=200,
                                     confidence=0.99)
        if H is None:
            break
        inl = rest[mask.ravel().astype(bool)]
        if len(inl) < min_points:
            break
        label[inl] = len(homographies)
        homographies.append(H)
        out.share.append(len(inl) / n)
        out.coverage.append(len(np.unique(cells[inl])) / occupied)
        out.borders.append(_borders(p0[inl], size, opts.border))
        rest = rest[~mask.ravel().astype(bool)]
    if not homographies:
        return out
    # The camera layer: the widest spread (coverage, then border contact, then size).
    out.camera = max(range(len(homographies)), key=lambda i: (round(out.coverage[i], 2), out.borders[i], out.share[i]))
    out.extent = extent(p0[label == out.camera], size, opts.extent_grid)
    Hc = homographies[out.camera]
    thr = opts.subject_motion * diag
    centre = np.array(size, float) / 2.0
    moving = []  # (layer, residual, camera layer's flow at it, radius) of layers moving against the camera layer
    for i in range(len(homographies)):
        if i == out.camera:
            continue
        pts = p0[label == i]
        predicted = _apply(Hc, pts)
        residual = np.median(p1[label == i] - predicted, axis=0)
        if float(np.linalg.norm(residual)) >= thr:  # else it moves with the camera layer
            moving.append((i, residual, np.median(predicted - pts, axis=0), np.median(pts - centre, axis=0)))
    cam_pts = p0[label == out.camera]
    still = float(np.median(np.linalg.norm(_apply(Hc, cam_pts) - cam_pts, axis=1))) < thr
    if still:
        # A still camera layer (a fixed camera, or a translation seen against a far background):
        # parallax only from a lone mover spread over the frame, or from several layers moving
        # coherently (one direction, or all out of / into the frame's centre); a compact lone mover
        # or incoherent movers are subjects.
        ref = moving[0][1] if moving else None
        spread = len(moving) == 1 and out.coverage[moving[0][0]] >= opts.spread and \
            _depth_inside(p0[label == moving[0][0]], p1[label == moving[0][0]], opts.rigid * diag, opts.rigid_share)
        coherent = spread or len(moving) >= 2 and (
            all(_cos(r, ref) >= opts.alignment for _, r, _, _ in moving)
            or all(_cos(r, rad) >= opts.alignment for _, r, _, rad in moving)
            or all(_cos(r, rad) <= -opts.alignment for _, r, _, rad in moving)
        )
        subjects = [] if coherent else [i for i, _, _, _ in moving]
    else:
        subjects = [i for i, r, f, rad in moving if not _parallax_possible(r, f, rad, opts)]
    for i in subjects:
        out.subject[label == i] = True
    biggest_subject = max((out.share[i] for i in subjects), default=0.0)
    camera = out.camera_share
    out.conflict = biggest_subject >= opts.conflict_share and camera / (camera + biggest_subject) < opts.conflict_dominance
    return out


def _parallax_possible(residual: np.ndarray, flow: np.ndarray, radial: np.ndarray, opts: LayerOptions) -> bool:
    """Whether a layer's ``residual`` motion against a moving camera layer (whose own motion at the
    layer is ``flow``; ``radial``: the layer's offset from the frame centre) is what a translating
    camera makes of a static object: along the camera layer's motion, or out of (into) the centre
    where the camera layer expands (contracts)."""
    along = _cos(residual, flow)
    if (abs(along) if opts.either_sign else along) >= opts.alignment:
        return True
    radial_flow, radial_res = _cos(flow, radial), _cos(residual, radial)
    if opts.either_sign:
        return abs(radial_flow) >= opts.alignment and abs(radial_res) >= opts.alignment
    return radial_flow * float(np.sign(radial_res)) >= opts.alignment and abs(radial_res) >= opts.alignment


def _depth_inside(p0: np.ndarray, p1: np.ndarray, tol: float, share: float) -> bool:
    """Whether a layer's tracks ``p0 -> p1`` hold depth: fewer than ``share`` of them fit one
    homography within ``tol`` px."""
    if len(p0) < 8:
        return False
    H, mask = cv2.findHomography(p0, p1, cv2.RANSAC, tol, maxIters=200, confidence=0.99)
    return H is None or float(mask.mean()) < share


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-9 or nb < 1e-9:
        return 0.0
    return float(np.dot(a, b) / (na * nb))
