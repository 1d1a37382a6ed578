"""Optical-flow check of rendered clips: affine flow models of near boxes vs the far backdrop.

Used by the tests and ``bench/bench_synth_flow.py`` to show that the labels agree with the image
motion that Farneback flow measures on the rendered frames (independent of the geometry code).
"""

from __future__ import annotations

import cv2
import numpy as np

from camreasoner.synth.dataset import SynthClip
from camreasoner.synth.render import render_frame


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense flow (H, W, 2) from RGB frame ``a`` to ``b``."""
    ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY) for x in (a, b))
    return cv2.calcOpticalFlowFarneback(ga, gb, None, 0.5, 4, 21, 3, 5, 1.1, 0)


def affine_fit(flow: np.ndarray, mask: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """Least-squares ``flow = A @ (p - center) + b`` over ``mask``; returns ``[A | b]`` (2x3)."""
    ys, xs = np.nonzero(mask)
    pts = np.stack([xs - center[0], ys - center[1], np.ones(len(xs))], axis=1)
    sol, *_ = np.linalg.lstsq(pts, flow[ys, xs], rcond=None)
    return sol.T


def measure_flow(clip: SynthClip, min_pixels: int = 300) -> dict[str, np.ndarray]:
    """Flow statistics summed over consecutive frame pairs.

    - ``"all"``: affine model ``[A | b]`` (2x3) of the whole frame (12 px from the border);
    - ``"near"`` / ``"far"``: affine models of the near boxes / the far backdrop;
    - ``"near_shift"`` / ``"far_shift"``: their median flow (dx, dy) in pixels;
    - ``"near_rate"`` / ``"far_rate"``: their median flow divided per pixel by the image motion a
      unit pan / tilt causes there (``f + x²/f``, ``f + y²/f``, x and y from the principal point):
      the rotation rate a pure rotation would need, equal at every depth for pan and tilt.

    Near and far figures add up only the frame pairs where both regions show (a region that left
    the frame would otherwise count fewer pairs). Regions come from the renderer's object-index map,
    eroded by 4 px. Every frame is checked to be fully covered (AssertionError otherwise).
    """
    h, w = clip.frames[0].shape[:2]
    objects = clip.scene.objects
    backdrop = next(i for i, o in enumerate(objects) if o.kind == "backdrop")
    near = [i for i, o in enumerate(objects) if o.kind == "box"]
    ids = np.empty((h, w), np.int32)
    cam = clip.cameras[0]
    center = (cam.cx, cam.cy)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    kx = cam.f + (xx - cam.cx) ** 2 / cam.f
    ky = cam.f + (yy - cam.cy) ** 2 / cam.f
    inner = np.zeros((h, w), bool)
    inner[12:-12, 12:-12] = True
    kernel = np.ones((9, 9), np.uint8)
    out = {k: np.zeros((2, 3)) for k in ("all", "near", "far")}
    for k in ("near_shift", "far_shift", "near_rate", "far_rate"):
        out[k] = np.zeros(2)
    for k in range(len(clip.frames) - 1):
        render_frame(clip.scene, clip.cameras[k], clip.times[k], w, h, ids=ids)
        assert (ids >= 0).all(), "frame not fully covered"
        flow = farneback(clip.frames[k], clip.frames[k + 1])
        out["all"] += affine_fit(flow, inner, center)
        regions = {"near": inner & np.isin(ids, near), "far": inner & (ids == backdrop)}
        regions = {n: cv2.erode(m.astype(np.uint8), kernel).astype(bool) for n, m in regions.items()}
        if min(m.sum() for m in regions.values()) <= min_pixels:
            continue
        for name, mask in regions.items():
            f = flow[mask]
            out[name] += affine_fit(flow, mask, center)
            out[f"{name}_shift"] += np.median(f, axis=0)
            out[f"{name}_rate"] += np.median(f / np.stack([kx[mask], ky[mask]], axis=1), axis=0)
    return out


def shift(model: np.ndarray) -> np.ndarray:
    """Translation (dx, dy) in pixels of an affine flow model."""
    return model[:, 2]


def divergence(model: np.ndarray) -> float:
    """Mean relative expansion of an affine flow model (positive = content grows)."""
    return float(model[0, 0] + model[1, 1]) / 2


def screen_ccw(model: np.ndarray) -> float:
    """Rotation in radians, positive = counter-clockwise as a viewer sees the screen (y points down)."""
    return float(model[0, 1] - model[1, 0]) / 2
