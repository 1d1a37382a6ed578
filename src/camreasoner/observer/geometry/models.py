"""Robust global motion per frame pair, and the parallax test that tells rotation from translation.

Two models are fitted to the tracks with RANSAC: a homography (what pure rotation and zoom produce,
for any scene) and an essential matrix (rigid motion with translation). When points consistent with
the rigid scene leave large residuals against the homography (parallax), the camera translated: the
pose comes from the essential matrix. Otherwise the homography is decomposed into rotation and zoom.
Points consistent with neither model (independently moving objects) are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

DEFAULT_HFOV_DEG = 60.0
RANSAC_PX = 1.0
# Parallax test: rigid residuals against the best homography above both bounds mean translation.
PARALLAX_MIN_PX = 0.6
PARALLAX_MIN_RATIO = 0.25
# The share of points (percentile of residuals) that must show the parallax.
PARALLAX_PERCENTILE = 90.0
# A homography that already fits this share of the tracks (within RANSAC_PX) leaves no room for parallax.
MAX_HOMOGRAPHY_INLIERS = 0.965
# Under fast image motion a camera translation leaves many points off the homography; a few
# (under 1 - this share) are an object moving on its own during a pan or tilt.
FAST_FLOW_PX = 4.0
MAX_HOMOGRAPHY_INLIERS_FAST = 0.8
# Residuals far larger than the background's own motion are objects moving on their own (a still
# background fits any translation), not parallax.
PARALLAX_MAX_RATIO = 10.0
# A camera that translates moves the background: below this median motion (px per pair), residuals
# are the scene's own motion (leaves, people), not parallax.
MIN_TRANSLATION_FLOW_PX = 0.3
# A rotation above this between two sampled frames is a failed fit (or a cut), not camera motion.
MAX_PAIR_ROTATION = 0.25
MIN_TRACKS = 12


def intrinsics(width: int, height: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> np.ndarray:
    """A 3x3 pinhole matrix for a frame of ``width`` x ``height`` whose longer side spans ``hfov_deg``."""
    f = max(width, height) / (2.0 * math.tan(math.radians(hfov_deg) / 2.0))
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def apply_homography(H: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Map (N, 2) points through a 3x3 homography."""
    hom = np.concatenate([pts, np.ones((len(pts), 1))], axis=1) @ H.T
    return hom[:, :2] / hom[:, 2:3]


def sampson_px(E: np.ndarray, p0: np.ndarray, p1: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Sampson distance (px) of each match ``p0 -> p1`` (N, 2) to the epipolar geometry of ``E``."""
    Ki = np.linalg.inv(K)
    F = Ki.T @ E @ Ki
    x0 = np.concatenate([p0, np.ones((len(p0), 1))], axis=1)
    x1 = np.concatenate([p1, np.ones((len(p1), 1))], axis=1)
    Fx0 = x0 @ F.T
    Ftx1 = x1 @ F
    num = np.sum(x1 * Fx0, axis=1) ** 2
    den = Fx0[:, 0] ** 2 + Fx0[:, 1] ** 2 + Ftx1[:, 0] ** 2 + Ftx1[:, 1] ** 2
    return np.sqrt(num / np.maximum(den, 1e-12))


def rotation_angles(R: np.ndarray) -> tuple[float, float, float]:
    """Camera (pan, tilt, roll) in radians from ``R`` with ``x2 = R @ x1`` (points, camera 1 -> 2).

    Signs are the operator's: pan > 0 turns right, tilt > 0 turns up, roll > 0 is clockwise seen
    from behind the camera.
    """
    fwd = R[2, :]  # the new optical axis in the old camera's frame
    right = R[0, :]
    pan = math.atan2(fwd[0], fwd[2])
    tilt = math.atan2(-fwd[1], math.hypot(fwd[0], fwd[2]))
    roll = math.atan2(right[1], right[0])
    return pan, tilt, roll


def nearest_rotation(M: np.ndarray) -> np.ndarray:
    """The rotation matrix closest to ``M`` (Frobenius), via SVD."""
    u, _, vt = np.linalg.svd(M)
    R = u @ vt
    if np.linalg.det(R) < 0:
        u[:, -1] *= -1
        R = u @ vt
    return R


def decompose_rotation_zoom(H: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, float]:
    """Split a homography ``H ~ K diag(s, s, 1) R K^-1`` into rotation ``R`` and zoom factor ``s``."""
    M = np.linalg.inv(K) @ H @ K
    if M[2, 2] < 0:
        M = -M
    n = np.linalg.norm(M, axis=1)
    s = float((n[0] + n[1]) / (2.0 * n[2]))
    R = nearest_rotation(M / n[:, None])
    return R, s


def oriented_direction(pts: np.ndarray, flow: np.ndarray, direction: np.ndarray, K: np.ndarray) -> np.ndarray:
    """The camera translation ``direction`` (x right, y down, z forward) with its sign set so that the
    flow it predicts, ``(-Tx + x Tz, -Ty + y Tz)`` in normalised coordinates, agrees with ``flow``."""
    u = np.asarray(direction, float).ravel()
    u = u / max(float(np.linalg.norm(u)), 1e-12)
    if float(np.sum(translation_basis(pts, u, K) * flow)) < 0:
        u = -u
    return u


def translation_basis(pts: np.ndarray, u: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Image flow (px) per unit inverse depth at ``pts`` (N, 2) for camera translation ``u``: (N, 2)."""
    xn = (pts[:, 0] - K[0, 2]) / K[0, 0]
    yn = (pts[:, 1] - K[1, 2]) / K[1, 1]
    return np.stack([(-u[0] + xn * u[2]) * K[0, 0], (-u[1] + yn * u[2]) * K[1, 1]], axis=1)


def split_zoom(pts: np.ndarray, flow: np.ndarray, u: np.ndarray, K: np.ndarray) -> float:
    """The zoom rate ``s`` (flow ``s (p - c)``) inside a translational flow field (rotation removed).

    Model: ``flow_i = rho_i b_i + s z_i`` with ``b_i`` the translation basis, ``z_i = p_i - c`` and
    inverse depths ``rho_i >= 0``. Across ``b_i``, ``s`` is fitted by least squares; along ``b_i``
    (forward motion, where zoom and dolly look alike point by point) the farthest points are taken
    to be at infinity (``rho = 0``): they move only by the zoom.
    """
    b = translation_basis(pts, u, K)
    z = pts - K[:2, 2]
    bn = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-9)
    zperp = z - np.sum(z * bn, axis=1, keepdims=True) * bn
    vperp = flow - np.sum(flow * bn, axis=1, keepdims=True) * bn
    den = float(np.sum(zperp**2))
    s_perp = float(np.sum(zperp * vperp)) / den if den > 0 else 0.0
    w_perp = den / max(float(np.sum(z**2)), 1e-9)
    bz = np.sum(bn * z, axis=1)
    e = np.sum(bn * flow, axis=1) / np.where(np.abs(bz) > 1e-9, bz, np.inf)
    zn = np.linalg.norm(z, axis=1)
    front = (bz > 0.5 * zn) & (zn > 0.1 * K[0, 2])
    back = (bz < -0.5 * zn) & (zn > 0.1 * K[0, 2])
    bounds = []
    if front.sum() >= 5:
        bounds.append(float(np.percentile(e[front], 10)))
    if back.sum() >= 5:
        bounds.append(float(np.percentile(e[back], 90)))
    s_prior = float(np.mean(bounds)) if bounds else s_perp
    weight = min(1.0, 2.0 * w_perp)
    return weight * s_perp + (1.0 - weight) * s_prior


def translation_cues(pts: np.ndarray, flow: np.ndarray, size: tuple[int, int], direction: np.ndarray,
                     K: np.ndarray) -> tuple[float, float, float]:
    """Camera translation cues from the translational flow (rotation and zoom removed) at ``pts`` (N, 2).

    Returns the sign-fixed ``direction`` (see :func:`oriented_direction`) times the translational
    image motion (75th percentile, a share of the frame width).
    """
    w, _ = size
    if len(pts) < 3:
        return (0.0, 0.0, 0.0)
    u = oriented_direction(pts, flow, direction, K)
    magnitude = float(np.percentile(np.linalg.norm(flow, axis=1), 75)) / w
    return tuple(float(v) for v in u * magnitude)


def epipole_direction(p0: np.ndarray, p1: np.ndarray, u: np.ndarray, K: np.ndarray) -> np.ndarray:
    """The translation direction ``u`` with its forward share capped by the fundamental matrix's.

    A fundamental matrix needs no fixed focal length, so a zoom during a sideways move does not
    pass for forward motion (as it can for the essential matrix, whose fixed focal length makes
    the zoom's expansion look like a dolly): its epipole, far outside the frame for a sideways move
    and near the centre for a dolly, gives the forward share; ``u`` keeps the smaller of the two,
    its sideways direction and the sign of its forward part.
    """
    if len(p0) < 15:
        return u
    F, _ = cv2.findFundamentalMat(p0, p1, cv2.FM_RANSAC, RANSAC_PX, 0.99)
    if F is None or F.shape != (3, 3):
        return u
    _, _, vt = np.linalg.svd(F)
    e = vt[-1]  # F e = 0: the epipole in the first image (homogeneous)
    d = np.linalg.inv(K) @ e
    lateral = float(np.hypot(d[0], d[1]))
    if lateral < 1e-12:
        return u
    forward_share = abs(float(d[2])) / float(np.linalg.norm(d))  # |cos| of the angle to the optical axis
    side = np.array([u[0], u[1]])
    side_norm = float(np.linalg.norm(side))
    if side_norm < 1e-9:
        side = np.array([d[0], d[1]]) / lateral
    else:
        side = side / side_norm
    forward_share = min(forward_share, abs(float(u[2])))  # never more forward than the essential matrix
    fz = forward_share if u[2] >= 0 else -forward_share
    across = math.sqrt(max(0.0, 1.0 - fz**2))
    return np.array([side[0] * across, side[1] * across, fz])


@dataclass
class PairMotion:
    """The camera motion between two sampled frames, measured from tracks.

    ``shift``: the frame centre's image motion in px (content motion, x right, y down); ``pan``,
    ``tilt``, ``roll``: camera rotation in radians (operator's signs); ``log_zoom``: log focal-length
    ratio; ``translation``: camera translation direction (x right, y down, z forward) times the
    translational image motion as a share of the frame width (zero without parallax);
    ``parallax_px`` / ``parallax_ratio``: rigid residuals against the homography, in px and as a
    share of the median motion; ``rigid_share``: tracks consistent with the camera model.
    """

    dt: float
    n_tracks: int
    valid: bool = False
    model: str = "none"
    flow_px: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    pan: float = 0.0
    tilt: float = 0.0
    roll: float = 0.0
    log_zoom: float = 0.0
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    parallax_px: float = 0.0
    parallax_ratio: float = 0.0
    rigid_share: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def estimate_pair(p0: np.ndarray, p1: np.ndarray, size: tuple[int, int], dt: float = 1.0,
                  K: np.ndarray | None = None) -> PairMotion:
    """Estimate the camera motion from matched points ``p0 -> p1`` ((N, 2) px) in a ``size`` (w, h) frame."""
    w, h = size
    K = intrinsics(w, h) if K is None else K
    out = PairMotion(dt=dt, n_tracks=int(len(p0)))
    if len(p0) < MIN_TRACKS:
        return out
    p0 = np.asarray(p0, np.float64)
    p1 = np.asarray(p1, np.float64)
    flow = np.linalg.norm(p1 - p0, axis=1)
    H, mask_h = cv2.findHomography(p0, p1, cv2.RANSAC, RANSAC_PX, maxIters=300, confidence=0.99)
    if H is None:
        return out
    mask_h = mask_h.ravel().astype(bool)
    res_h = np.linalg.norm(p1 - apply_homography(H, p0), axis=1)
    R_h, s_h = decompose_rotation_zoom(H, K)
    if not 0.7 < s_h < 1.4:
        return out
    c = K[:2, 2]
    E, mask_e, q1, zoomed, best = None, np.zeros(len(p0), bool), p1, 1.0, np.inf
    res_90 = float(np.percentile(res_h, PARALLAX_PERCENTILE))
    if res_90 > PARALLAX_MIN_PX and res_90 > PARALLAX_MIN_RATIO * max(float(np.median(flow)), 0.5):
        # Rigid motion as is, or after taking the dominant plane's zoom out (a zoom breaks the fixed
        # focal length of the essential matrix): keep whichever fits better (sideways motion only).
        for scale in ((1.0, s_h) if abs(math.log(s_h)) > 0.002 else (1.0,)):
            q = c + (p1 - c) / scale
            E_try, m_try = cv2.findEssentialMat(p0, q, K, cv2.USAC_ACCURATE, 0.999, RANSAC_PX)
            if E_try is None or E_try.shape != (3, 3):
                continue
            m_try = m_try.ravel().astype(bool)
            err = float(np.median(sampson_px(E_try, p0, q, K)))
            if E is not None:
                # Along the optical axis zoom and dolly are told apart only by the far points
                # (split_zoom); the zoom-removed model is for sideways motion.
                _, R_b, t_b, _ = cv2.recoverPose(E_try, p0, q, K, mask=m_try.astype(np.uint8).reshape(-1, 1) * 255)
                if err >= best or abs(float((R_b.T @ t_b).ravel()[2])) > 0.5:
                    continue
            E, mask_e, q1, zoomed, best = E_try, m_try, q, scale, err
    rigid = mask_h | mask_e
    out.valid = True
    out.rigid_share = float(rigid.mean())
    out.flow_px = float(np.median(flow[rigid])) if rigid.any() else float(np.median(flow))
    centre = np.array([[w / 2.0, h / 2.0]])
    out.shift = tuple(float(v) for v in (apply_homography(H, centre) - centre)[0])
    out.parallax_px = float(np.percentile(res_h[mask_e], PARALLAX_PERCENTILE)) if mask_e.sum() >= MIN_TRACKS else 0.0
    out.parallax_ratio = out.parallax_px / max(out.flow_px, 0.5)
    translating = (
        E is not None
        and float(mask_h.mean()) < MAX_HOMOGRAPHY_INLIERS
        and not (out.flow_px > FAST_FLOW_PX and float(mask_h.mean()) >= MAX_HOMOGRAPHY_INLIERS_FAST)
        and mask_e.sum() >= MIN_TRACKS
        and out.parallax_px > PARALLAX_MIN_PX
        and PARALLAX_MIN_RATIO < out.parallax_ratio < PARALLAX_MAX_RATIO
        and out.flow_px > MIN_TRANSLATION_FLOW_PX
    )
    if translating:
        _, R, t, _ = cv2.recoverPose(E, p0, q1, K, mask=mask_e.astype(np.uint8).reshape(-1, 1) * 255)
        if math.acos(max(-1.0, min(1.0, (np.trace(R) - 1) / 2))) > MAX_PAIR_ROTATION:
            out.valid = False
            return out
        rot_only = apply_homography(K @ R @ np.linalg.inv(K), p0)
        pe, ve = p0[mask_e], (q1 - rot_only)[mask_e]
        u = oriented_direction(pe, ve, -(R.T @ t), K)
        u = epipole_direction(p0[mask_e], p1[mask_e], u, K)
        zoom = split_zoom(pe, ve, u, K)
        out.log_zoom = float(math.log(max(zoomed * (1.0 + zoom), 1e-6)))
        out.translation = translation_cues(pe, ve - zoom * (pe - c), size, u, K)
        out.model = "essential"
        out.pan, out.tilt, out.roll = rotation_angles(R)
    else:
        R, s = R_h, s_h
        if math.acos(max(-1.0, min(1.0, (np.trace(R) - 1) / 2))) > MAX_PAIR_ROTATION:
            out.valid = False
            return out
        out.model = "homography"
        out.pan, out.tilt, out.roll = rotation_angles(R)
        out.log_zoom = float(math.log(max(s, 1e-6)))
    return out
