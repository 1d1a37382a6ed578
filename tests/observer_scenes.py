"""Exact synthetic camera motion for the observer's tests: 3-D point clouds and textured-plane scenes.

A camera pose is (Rc, C): Rc's columns are the camera's axes (x right, y down, z forward) in the
first camera's frame, C its centre. Primitives are the operator's (conventions.md).
"""

from __future__ import annotations

import math
from pathlib import Path

import av
import cv2
import numpy as np

from camreasoner.observer.geometry.models import intrinsics

W, H = 320, 240


def rot(axis: str, a: float) -> np.ndarray:
    """Rotation by ``a`` radians about camera axis x, y or z."""
    c, s = math.cos(a), math.sin(a)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


# primitive -> per-step (rotation axis, angle) or translation vector, or focal factor.
STEPS: dict[str, dict] = {
    "Pan_Right": {"R": ("y", 0.01)},
    "Pan_Left": {"R": ("y", -0.01)},
    "Tilt_Up": {"R": ("x", 0.01)},
    "Tilt_Down": {"R": ("x", -0.01)},
    "Roll_Clockwise": {"R": ("z", 0.02)},
    "Roll_Counterclockwise": {"R": ("z", -0.02)},
    "Move_Right": {"T": (0.08, 0, 0)},
    "Move_Left": {"T": (-0.08, 0, 0)},
    "Move_Up": {"T": (0, -0.08, 0)},
    "Move_Down": {"T": (0, 0.08, 0)},
    "Move_In": {"T": (0, 0, 0.12)},
    "Move_Out": {"T": (0, 0, -0.12)},
    "Zoom_In": {"f": 1.02},
    "Zoom_Out": {"f": 1 / 1.02},
    "Static": {},
}


def pose(primitive: str, k: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Camera orientation, centre and focal factor after ``k`` steps of ``primitive``."""
    step = STEPS[primitive]
    Rc = rot(step["R"][0], step["R"][1] * k) if "R" in step else np.eye(3)
    C = np.array(step.get("T", (0, 0, 0)), float) * k
    return Rc, C, step.get("f", 1.0) ** k


def project(X: np.ndarray, Rc: np.ndarray, C: np.ndarray, focal: float = 1.0) -> np.ndarray:
    """Project world points (3, N) into a camera at (Rc, C) with focal scaled by ``focal``: (N, 2)."""
    K = intrinsics(W, H)
    K[0, 0] *= focal
    K[1, 1] *= focal
    p = K @ (Rc.T @ (X - C[:, None]))
    return (p[:2] / p[2]).T


def point_cloud(n: int = 400, near: float = 3.0, far: float = 30.0, seed: int = 0,
                background: float = 0.3) -> np.ndarray:
    """Points seen by the first camera at depths in [near, far], and a share ``background`` of them
    on a distant layer (10x ``far``): (3, n)."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(near, far, n)
    z[: int(background * n)] = 10 * far
    x = rng.uniform(0, W, n)
    y = rng.uniform(0, H, n)
    return np.linalg.inv(intrinsics(W, H)) @ np.stack([x, y, np.ones(n)]) * z


def texture(seed: int, size: int = 512) -> np.ndarray:
    """A grey texture with blobs and edges at several scales."""
    rng = np.random.default_rng(seed)
    img = np.zeros((size, size), np.float32)
    for scale in (3, 9, 27):
        noise = rng.random((size // scale + 1, size // scale + 1)).astype(np.float32)
        img += cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC)
    img = (img - img.min()) / (img.max() - img.min()) * 255
    return img.astype(np.uint8)


# Planes: (depth, centre x, centre y, half-size) in the first camera's frame, far to near.
PLANES = ((60.0, 0.0, 0.0, 80.0), (6.0, -1.6, 0.5, 0.8), (5.0, 1.7, -0.6, 0.7), (8.0, 0.3, 1.5, 1.0),
          (4.0, 0.2, -1.2, 0.5), (10.0, -2.5, -2.0, 1.2))


def render(Rc: np.ndarray, C: np.ndarray, focal: float = 1.0, seed: int = 0) -> np.ndarray:
    """Render the textured fronto-parallel planes seen from pose (Rc, C): grey (H, W) uint8."""
    K = intrinsics(W, H)
    K[0, 0] *= focal
    K[1, 1] *= focal
    out = np.zeros((H, W), np.uint8)
    for i, (z, cx, cy, half) in enumerate(PLANES):
        tex = texture(seed * 10 + i)
        n = tex.shape[0]
        s = 2 * half / n
        # texture (u, v, 1) -> world point (cx - half + u s, cy - half + v s, z)
        A = np.array([[s, 0, cx - half], [0, s, cy - half], [0, 0, z]])
        M = K @ Rc.T @ (A - np.array([[0, 0, C[0]], [0, 0, C[1]], [0, 0, C[2]]]))
        img = cv2.warpPerspective(tex, M, (W, H), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full_like(tex, 255), M, (W, H), flags=cv2.INTER_NEAREST)
        out[mask > 0] = img[mask > 0]
    return out


def render_clip(primitive: str, frames: int = 12, seed: int = 0) -> list[np.ndarray]:
    """Frames of a clip whose camera performs ``primitive`` at a constant rate."""
    return [render(*pose(primitive, k), seed=seed) for k in range(frames)]


def write_clip(path: Path, frames: list[np.ndarray], fps: int = 6, codec: str = "libx264",
               rotation: int | None = None) -> Path:
    """Encode grey frames as a video with PyAV (near-lossless H.264 by default)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.pix_fmt = "yuv420p"
        if codec == "libx264":  # as synth.writer: the bytes depend only on the frames
            stream.options = {"crf": "12", "preset": "veryfast", "threads": "1", "x264-params": "mbtree=0"}
            stream.codec_context.thread_count = 1
        if rotation is not None:
            stream.set_display_rotation(rotation)
        for img in frames:
            # OpenCV's colour conversion: PyAV's own made the bytes vary between runs
            yuv = cv2.cvtColor(cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_GRAY2RGB), cv2.COLOR_RGB2YUV_I420)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_timed_clip(path: Path, times_ms: list[int], step: int = 20) -> Path:
    """A small H.264 clip whose frame i is shown at ``times_ms[i]`` (millisecond timestamps, so a
    variable frame rate) and is uniformly grey at level ``step * i``."""
    from fractions import Fraction

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        for i, ms in enumerate(times_ms):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64), step * i, np.uint8), format="gray")
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
