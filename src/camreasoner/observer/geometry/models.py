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

from camreasoner.observer.geometry.layers import LayerOptions, motion_layers

DEFAULT_HFOV_DEG = 60.0


@dataclass(frozen=True)
class PairOptions:
    """Thresholds of :func:`estimate_pair`. Lengths are shares of the frame diagonal (the values
    below are 1 px, 0.6 px, ... at 320x240, whose diagonal is 400 px), so a larger analysis size
    asks for the same motion as a share of the frame."""

    ransac: float = 0.0025
    """RANSAC inlier distance of the homography, essential and fundamental matrices."""
    parallax_min: float = 0.0015
    """Parallax test: the rigid residuals against the homography must exceed this ..."""
    parallax_min_ratio: float = 0.25
    """... and this share of the median motion."""
    parallax_max_ratio: float = 10.0
    """Residuals far larger than the background's own motion are objects moving on their own
    (a still background fits any translation), not parallax."""
    parallax_percentile: float = 90.0
    """The percentile of the residuals that must show the parallax (the share of points)."""
    max_homography_inliers: float = 0.965
    """A homography that fits this share of the tracks (within ``ransac``) leaves no room for parallax."""
    fast_flow: float = 0.01
    """Median motion per pair above which the motion is fast: a camera translation then leaves
    many points off the homography ..."""
    max_homography_inliers_fast: float = 0.8
    """... so a homography fitting this share of them is a pan or tilt with an object moving on its own."""
    min_translation_flow: float = 0.00075
    """A translating camera moves the background: below this median motion the residuals are the
    scene's own motion (leaves, people), not parallax."""
    flow_floor: float = 0.00125
    """The smallest motion a parallax ratio is taken against (tracking noise)."""
    max_rotation_excess: float = 1.5
    """The points farthest away move by the camera's rotation alone, so a rigid-motion pose whose
    rotation would move the image (median over the points) by more than this many times the rigid
    points' 90th-percentile motion is a rotation cancelled by a made-up translation (noisy tracks,
    subjects, too little baseline): the pair is read by the homography instead."""
    max_pair_rotation: float = 0.25
    """A rotation (radians) above this between two sampled frames is a failed fit or a cut."""
    zoom_range: tuple[float, float] = (0.7, 1.4)
    """Homography scales outside this range between two sampled frames are failed fits."""
    min_tracks: int = 12
    """Fewer tracks than this give no estimate."""
    hfov_deg: float = DEFAULT_HFOV_DEG
    """The assumed horizontal field of view when no intrinsics are given."""

    def px(self, size: tuple[int, int]) -> float:
        """Pixels per unit of the length thresholds: the diagonal of a ``size`` (w, h) frame."""
        return math.hypot(*size)


def intrinsics(width: int, height: int, hfov_deg: float = DEFAULT_HFOV_DEG) -> np.ndarray:
    """A 3x3 pinhole matrix for a frame of ``width`` x ``height`` whose longer side spans ``hfov_deg``."""
    f = max(width, height) / (2.0 * math.tan(math.radians(hfov_deg) / 2.0))
    return np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])


def explained_motion(motion: PairMotion, hfov_deg: float = DEFAULT_HFOV_DEG) -> float:
    """The image motion (px) a pair's rotation and zoom account for at a typical point (0.35 of
    the diagonal from the centre), to set against its tracks' median motion ``flow_px``."""
    w, h = motion.size
    focal = intrinsics(w, h, hfov_deg)[0, 0]
    radius = 0.35 * math.hypot(w, h)
    return focal * math.hypot(motion.pan, motion.tilt) + radius * (abs(motion.roll) + abs(motion.log_zoom))


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


def epipole_direction(p0: np.ndarray, p1: np.ndarray, u: np.ndarray, K: np.ndarray,
                      ransac_px: float = 1.0) -> np.ndarray:
    """The translation direction ``u`` with its forward share capped by the fundamental matrix's.

    A fundamental matrix needs no fixed focal length, so a zoom during a sideways move does not
    pass for forward motion (as it can for the essential matrix, whose fixed focal length makes
    the zoom's expansion look like a dolly): its epipole, far outside the frame for a sideways move
    and near the centre for a dolly, gives the forward share; ``u`` keeps the smaller of the two,
    its sideways direction and the sign of its forward part.
    """
    if len(p0) < 15:
        return u
    F, _ = cv2.findFundamentalMat(p0, p1, cv2.FM_RANSAC, ransac_px, 0.99)
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


def rotation_excess(rotated: np.ndarray, p0: np.ndarray, p1: np.ndarray, floor_px: float) -> float:
    """How many times farther a pose's rotation alone moves the points (``p0`` -> ``rotated``,
    median) than the points moved (``p0`` -> ``p1``, 90th percentile, at least ``floor_px``).

    Points at infinity move by the rotation alone, so for a real pose this stays near or below 1;
    far above 1, the pose's rotation is cancelled by a translation the tracks do not show."""
    if not len(p0):
        return 0.0
    turned = float(np.median(np.linalg.norm(rotated - p0, axis=1)))
    moved = float(np.percentile(np.linalg.norm(p1 - p0, axis=1), 90))
    return turned / max(moved, floor_px)


def essential_pose(E: np.ndarray, p0: np.ndarray, p1: np.ndarray, K: np.ndarray,
                   inliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rotation and translation direction of an essential matrix for the tracks ``p0 -> p1``.

    OpenCV's ``recoverPose`` picks among E's two rotations by cheirality, which near-planar or
    low-parallax tracks leave undecided: it then returns the twisted pair, a half turn about the
    baseline that no camera makes between two frames a fraction of a second apart. Of E's two
    rotations that one is replaced by the one nearer the identity (the same baseline; its sign is
    fixed by the flow afterwards, see :func:`oriented_direction`)."""
    _, R, t, _ = cv2.recoverPose(E, p0, p1, K, mask=inliers.astype(np.uint8).reshape(-1, 1) * 255)
    R1, R2, _ = cv2.decomposeEssentialMat(E)
    nearer = R1 if rotation_angle(R1) <= rotation_angle(R2) else R2
    if rotation_angle(R) > rotation_angle(nearer) + 1e-9:
        R = nearer
    return R, t


def rotation_angle(R: np.ndarray) -> float:
    """The rotation angle of ``R`` in radians."""
    return math.acos(max(-1.0, min(1.0, (np.trace(R) - 1) / 2)))


@dataclass
class PairMotion:
    """The camera motion between two sampled frames, measured from tracks.

    ``shift``: the frame centre's image motion in px (content motion, x right, y down); ``pan``,
    ``tilt``, ``roll``: camera rotation in radians (operator's signs); ``log_zoom``: log focal-length
    ratio; ``translation``: camera translation direction (x right, y down, z forward) times the
    translational image motion as a share of the frame width (zero without parallax);
    ``flow_px``: the rigid tracks' median motion (px); ``fitted_px``: their median motion as the
    pair's homography moves them (px; tracking noise, random from track to track, averages out
    in the fit, so a still camera reads near 0 however noisy its tracks);
    ``parallax_px`` / ``parallax_ratio``: rigid residuals against the homography, in px and as a
    share of the median motion; ``rigid_share``: tracks consistent with the camera model;
    ``layers``: motion layers found, ``camera_share``: the camera layer's share of the tracks,
    ``subject_share``: tracks left out as moving subjects, ``conflict``: no layer clearly dominates,
    ``extent``: the share of the frame's cells the camera layer's tracks reach; ``overlay``: text
    fixed on the frame was found among the pair's tracks and left out (see :mod:`.overlays`);
    ``size``: the (w, h) of the picture it was measured in (inside letterbox bars, smaller than the
    clip's frame; None: the clip's frame).
    """

    dt: float
    n_tracks: int
    valid: bool = False
    model: str = "none"
    flow_px: float = 0.0
    fitted_px: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)
    pan: float = 0.0
    tilt: float = 0.0
    roll: float = 0.0
    log_zoom: float = 0.0
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)
    parallax_px: float = 0.0
    parallax_ratio: float = 0.0
    rigid_share: float = 0.0
    layers: int = 0
    camera_share: float = 1.0
    subject_share: float = 0.0
    conflict: bool = False
    extent: float = 1.0
    overlay: bool = False
    size: tuple[int, int] | None = None
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class _EssentialFit:
    """The rigid-motion model of one pair: E, its inliers, the zoom-removed targets and that zoom."""

    E: np.ndarray | None
    inliers: np.ndarray
    targets: np.ndarray
    zoom: float = 1.0

    @classmethod
    def none(cls, p1: np.ndarray) -> _EssentialFit:
        """No rigid-motion model (no essential matrix, no inliers)."""
        return cls(None, np.zeros(len(p1), bool), p1)


def estimate_pair(p0: np.ndarray, p1: np.ndarray, size: tuple[int, int], dt: float = 1.0,
                  K: np.ndarray | None = None, options: PairOptions | None = None,
                  layer_options: LayerOptions | None = None) -> PairMotion:
    """Estimate the camera motion from matched points ``p0 -> p1`` ((N, 2) px) in a ``size`` (w, h) frame.

    The tracks are first split into motion layers (:func:`~.layers.motion_layers`); the subjects
    among them are left out before the homography / essential-matrix test. OpenCV's random
    generator (RANSAC's samples) is seeded first, so a pair reads the same whatever ran before it.
    """
    cv2.setRNGSeed(0)
    opts = options or PairOptions()
    unit = opts.px(size)
    K = intrinsics(*size, opts.hfov_deg) if K is None else K
    out = PairMotion(dt=dt, n_tracks=int(len(p0)), size=(int(size[0]), int(size[1])))
    if len(p0) < opts.min_tracks:
        return out
    p0, p1 = _without_subjects(np.asarray(p0, np.float64), np.asarray(p1, np.float64), size, out, opts,
                               layer_options)
    flow = np.linalg.norm(p1 - p0, axis=1)
    H, mask_h = cv2.findHomography(p0, p1, cv2.RANSAC, opts.ransac * unit, maxIters=300, confidence=0.99)
    if H is None:
        return out
    mask_h = mask_h.ravel().astype(bool)
    warped = apply_homography(H, p0)  # where the homography moves each track
    res_h = np.linalg.norm(p1 - warped, axis=1)
    R_h, s_h = decompose_rotation_zoom(H, K)
    if not opts.zoom_range[0] < s_h < opts.zoom_range[1]:
        return out
    fit = _EssentialFit.none(p1)
    res_top = float(np.percentile(res_h, opts.parallax_percentile))
    if res_top > opts.parallax_min * unit and res_top > opts.parallax_min_ratio * max(
            float(np.median(flow)), opts.flow_floor * unit):
        fit = _fit_essential(p0, p1, K, s_h, opts.ransac * unit)
    fitted = np.linalg.norm(warped - p0, axis=1)
    _measure_flow(out, H, mask_h, res_h, flow, fitted, fit.inliers, size, opts, unit)
    if _is_translating(out, fit, mask_h, opts, unit):
        moved = _essential_motion(out, fit, p0, p1, K, size, opts, unit)
        if moved is not None:
            return moved
    if rotation_angle(R_h) > opts.max_pair_rotation:
        out.valid = False
        return out
    out.model = "homography"
    out.pan, out.tilt, out.roll = rotation_angles(R_h)
    out.log_zoom = float(math.log(max(s_h, 1e-6)))
    return out


def _without_subjects(p0: np.ndarray, p1: np.ndarray, size: tuple[int, int], out: PairMotion,
                      opts: PairOptions, layer_options: LayerOptions | None) -> tuple[np.ndarray, np.ndarray]:
    """Split the tracks into motion layers (recorded on ``out``) and drop the subjects' tracks,
    unless too few would be left."""
    layers = motion_layers(p0, p1, size, layer_options)
    out.layers, out.camera_share, out.conflict = len(layers.share), layers.camera_share, layers.conflict
    out.extent = layers.extent
    keep = ~layers.subject if layers.subject is not None else np.ones(len(p0), bool)
    if keep.sum() < opts.min_tracks:
        return p0, p1
    out.subject_share = layers.subject_share
    return p0[keep], p1[keep]


def _fit_essential(p0: np.ndarray, p1: np.ndarray, K: np.ndarray, s_h: float, ransac: float) -> _EssentialFit:
    """Rigid motion as is, or after taking the dominant plane's zoom ``s_h`` out (a zoom breaks the
    fixed focal length of the essential matrix): whichever fits better, the zoom-removed one only
    for sideways motion (along the optical axis zoom and dolly are told apart by :func:`split_zoom`)."""
    c = K[:2, 2]
    fit, best = _EssentialFit.none(p1), np.inf
    for scale in ((1.0, s_h) if abs(math.log(s_h)) > 0.002 else (1.0,)):
        q = c + (p1 - c) / scale
        E_try, m_try = cv2.findEssentialMat(p0, q, K, cv2.USAC_ACCURATE, 0.999, ransac)
        if E_try is None or E_try.shape != (3, 3):
            continue
        m_try = m_try.ravel().astype(bool)
        err = float(np.median(sampson_px(E_try, p0, q, K)))
        if fit.E is not None:
            R_b, t_b = essential_pose(E_try, p0, q, K, m_try)
            if err >= best or abs(float((R_b.T @ t_b).ravel()[2])) > 0.5:
                continue
        fit, best = _EssentialFit(E_try, m_try, q, scale), err
    return fit


def _measure_flow(out: PairMotion, H: np.ndarray, mask_h: np.ndarray, res_h: np.ndarray, flow: np.ndarray,
                  fitted: np.ndarray, mask_e: np.ndarray, size: tuple[int, int], opts: PairOptions,
                  unit: float) -> None:
    """The pair's rigid share, median rigid flow, median ``fitted`` flow (each track's motion as the
    homography predicts it), centre shift and parallax (residuals of the essential inliers against
    the homography), written to ``out``."""
    w, h = size
    rigid = mask_h | mask_e
    out.valid = True
    out.rigid_share = float(rigid.sum()) / out.n_tracks  # subjects left out count as not rigid
    out.flow_px = float(np.median(flow[rigid])) if rigid.any() else float(np.median(flow))
    out.fitted_px = float(np.median(fitted[rigid])) if rigid.any() else float(np.median(fitted))
    centre = np.array([[w / 2.0, h / 2.0]])
    out.shift = tuple(float(v) for v in (apply_homography(H, centre) - centre)[0])
    enough = mask_e.sum() >= opts.min_tracks
    out.parallax_px = float(np.percentile(res_h[mask_e], opts.parallax_percentile)) if enough else 0.0
    out.parallax_ratio = out.parallax_px / max(out.flow_px, opts.flow_floor * unit)


def _is_translating(out: PairMotion, fit: _EssentialFit, mask_h: np.ndarray, opts: PairOptions,
                    unit: float) -> bool:
    """The parallax test: enough rigid points off the homography, by enough and not too much."""
    homography_share = float(mask_h.mean())
    return (
        fit.E is not None
        and homography_share < opts.max_homography_inliers
        and not (out.flow_px > opts.fast_flow * unit and homography_share >= opts.max_homography_inliers_fast)
        and fit.inliers.sum() >= opts.min_tracks
        and out.parallax_px > opts.parallax_min * unit
        and opts.parallax_min_ratio < out.parallax_ratio < opts.parallax_max_ratio
        and out.flow_px > opts.min_translation_flow * unit
    )


def _essential_motion(out: PairMotion, fit: _EssentialFit, p0: np.ndarray, p1: np.ndarray, K: np.ndarray,
                      size: tuple[int, int], opts: PairOptions, unit: float) -> PairMotion | None:
    """Rotation, translation cues and zoom from the essential matrix (a translating camera); None
    when its rotation alone would move the image more than any rigid point moved (see
    ``PairOptions.max_rotation_excess``)."""
    mask = fit.inliers
    R, t = essential_pose(fit.E, p0, fit.targets, K, mask)
    if rotation_angle(R) > opts.max_pair_rotation:
        out.valid = False
        return out
    c = K[:2, 2]
    rot_only = apply_homography(K @ R @ np.linalg.inv(K), p0)
    if rotation_excess(rot_only[mask], p0[mask], p1[mask], opts.flow_floor * unit) > opts.max_rotation_excess:
        return None
    pe, ve = p0[mask], (fit.targets - rot_only)[mask]
    u = oriented_direction(pe, ve, -(R.T @ t), K)
    u = epipole_direction(p0[mask], p1[mask], u, K, opts.ransac * unit)
    zoom = split_zoom(pe, ve, u, K)
    out.log_zoom = float(math.log(max(fit.zoom * (1.0 + zoom), 1e-6)))
    out.translation = translation_cues(pe, ve - zoom * (pe - c), size, u, K)
    out.model = "essential"
    out.pan, out.tilt, out.roll = rotation_angles(R)
    return out


