"""Exact rendering of a scene by per-face homographies, drawn far to near (occlusion order).

A face is a textured rectangle; texture pixel (i, j) maps to the world by ``A @ [i, j, 1]`` and the
world to the image by ``K [R | t]``, so the face's image is the homography ``K [R A0, R A1, R A2 + t]``
of its texture. Faces that reach behind the camera are clipped against a near plane before their
outline is filled, so only the part in front is drawn.
"""

from __future__ import annotations

import cv2
import numpy as np

from camreasoner.synth.scene import Camera, Face, Scene

NEAR = 0.05  # metres: the near clipping plane


def face_homography(camera: Camera, face: Face, offset: np.ndarray | None = None) -> np.ndarray:
    """3x3 homography from texture pixels of ``face`` (moved by ``offset``) to image pixels."""
    A = face.texture_to_world()  # noqa: N806
    M = camera.R @ A  # noqa: N806
    M[:, 2] += camera.t if offset is None else camera.t + camera.R @ offset
    return camera.K @ M


def clip_near(points_cam: np.ndarray, near: float = NEAR) -> np.ndarray:
    """Clip a convex polygon (N, 3) in camera coordinates to z >= near (Sutherland-Hodgman)."""
    out = []
    n = len(points_cam)
    for k in range(n):
        p, q = points_cam[k], points_cam[(k + 1) % n]
        p_in, q_in = p[2] >= near, q[2] >= near
        if p_in:
            out.append(p)
        if p_in != q_in:
            a = (near - p[2]) / (q[2] - p[2])
            out.append(p + a * (q - p))
    return np.array(out).reshape(-1, 3)


def draw_face(frame: np.ndarray, face: Face, camera: Camera, offset: np.ndarray | None = None,
              ids: np.ndarray | None = None, ident: int = 0) -> None:  # fmt: skip
    """Draw one textured face into ``frame`` (H, W, 3) in place; write ``ident`` into ``ids`` where drawn."""
    height, width = frame.shape[:2]
    corners = face.corner_array if offset is None else face.corner_array + offset
    pc = corners @ camera.R.T + camera.t
    z = pc[:, 2]
    if z.min() < NEAR:
        if z.max() < NEAR:
            return
        pc = clip_near(pc)
        if len(pc) < 3:
            return
    uv = pc[:, :2] * (camera.f / pc[:, 2:3]) + (camera.cx, camera.cy)
    lo, hi = uv.min(axis=0), uv.max(axis=0)
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]) + 2, width), min(int(hi[1]) + 2, height)
    if x1 <= x0 or y1 <= y0:
        return
    H = face_homography(camera, face, offset)  # noqa: N806
    H[0] -= x0 * H[2]  # shift the image origin to (x0, y0)
    H[1] -= y0 * H[2]
    w, h = x1 - x0, y1 - y0
    warped = cv2.warpPerspective(
        face.texture, H, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, ((uv - (x0, y0)) * 16 + 0.5).astype(np.int32), 1, lineType=cv2.LINE_8, shift=4)
    roi = frame[y0:y1, x0:x1].copy()  # contiguous, so OpenCV writes into it (much faster than np.copyto)
    frame[y0:y1, x0:x1] = cv2.copyTo(warped, mask, roi)
    if ids is not None:
        ids[y0:y1, x0:x1][mask.view(bool)] = ident


def render_frame(scene: Scene, camera: Camera, s: float, width: int, height: int,
                 ids: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """The RGB image (height, width, 3) uint8 of ``scene`` at clip time ``s`` seen by ``camera``.

    If ``ids`` (height, width) int array is given, it receives each pixel's object index in
    ``scene.objects`` (-1 where nothing is drawn, which the backdrop prevents).
    """
    frame = np.zeros((height, width, 3), np.uint8)
    if ids is not None:
        ids[:] = -1
    center = camera.center
    for ident, obj in scene.draw_order():
        off = obj.offset(s) if obj.kind == "distractor" else None
        for face in obj.faces:
            if face.normal is not None:
                rel = center - face.center if off is None else center - face.center - off
                if rel @ face.normal <= 0:
                    continue
            draw_face(frame, face, camera, off, ids, ident)
    return frame


def render_clip(scene: Scene, cameras: list[Camera], times: list[float], width: int, height: int,
                blur_cameras: list[list[Camera]] | None = None, blur_times: list[list[float]] | None = None,
                ) -> list[np.ndarray]:  # fmt: skip
    """Render every frame; with ``blur_cameras``, each frame is the mean of its sub-frame renders."""
    frames = []
    for k, (cam, s) in enumerate(zip(cameras, times, strict=True)):
        if blur_cameras is None or blur_times is None:
            frames.append(render_frame(scene, cam, s, width, height))
            continue
        acc = np.zeros((height, width, 3), np.float32)
        for sub_cam, sub_s in zip(blur_cameras[k], blur_times[k], strict=True):
            acc += render_frame(scene, sub_cam, sub_s, width, height)
        frames.append(np.clip(acc / len(blur_cameras[k]) + 0.5, 0, 255).astype(np.uint8))
    return frames
