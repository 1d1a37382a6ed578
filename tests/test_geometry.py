"""Geometry on exact synthetic motion: every primitive and sign, parallax test, moving objects."""

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest
from observer_scenes import STEPS, H, W, point_cloud, pose, project, render, rot

from camreasoner.observer.geometry import (
    estimate_lens,
    estimate_pair,
    fixed_on_frame,
    frame_bars,
    integrate_pairs,
    intrinsics,
    scene_tracks,
    track_points,
    undistort,
)
from camreasoner.observer.geometry.models import (
    PairMotion,
    apply_homography,
    decompose_rotation_zoom,
    rotation_angles,
    rotation_excess,
    translation_cues,
)
from camreasoner.observer.geometry.tracks import detect_points

# primitive -> (attribute of PairMotion, index or None, expected sign)
EXPECT = {
    "Pan_Right": ("pan", None, 1), "Pan_Left": ("pan", None, -1),
    "Tilt_Up": ("tilt", None, 1), "Tilt_Down": ("tilt", None, -1),
    "Roll_Clockwise": ("roll", None, 1), "Roll_Counterclockwise": ("roll", None, -1),
    "Zoom_In": ("log_zoom", None, 1), "Zoom_Out": ("log_zoom", None, -1),
    "Move_Right": ("translation", 0, 1), "Move_Left": ("translation", 0, -1),
    "Move_Down": ("translation", 1, 1), "Move_Up": ("translation", 1, -1),
    "Move_In": ("translation", 2, 1), "Move_Out": ("translation", 2, -1),
}


def _value(m, attr, idx):
    v = getattr(m, attr)
    return v[idx] if idx is not None else v


@pytest.mark.parametrize("primitive", sorted(EXPECT))
def test_exact_tracks_give_the_primitive_and_its_sign(primitive):
    X = point_cloud(seed=1)
    rng = np.random.default_rng(2)
    p0 = project(X, *pose(primitive, 0)[:2])
    Rc, C, f = pose(primitive, 2)
    p1 = project(X, Rc, C, f) + rng.normal(0, 0.1, p0.shape)
    m = estimate_pair(p0, p1, (W, H))
    attr, idx, sign = EXPECT[primitive]
    value = _value(m, attr, idx)
    assert np.sign(value) == sign and abs(value) > 1e-3, (primitive, m)
    translating = primitive.startswith("Move_")
    assert m.model == ("essential" if translating else "homography")
    # no cross-talk into the other families
    for other, (a2, i2, _) in EXPECT.items():
        if (a2, i2) != (attr, idx):
            assert abs(_value(m, a2, i2)) < 0.25 * abs(value) + 2e-3, (primitive, other, m)


def test_static_tracks_read_no_motion():
    X = point_cloud(seed=3)
    p0 = project(X, np.eye(3), np.zeros(3))
    m = estimate_pair(p0, p0 + np.random.default_rng(0).normal(0, 0.05, p0.shape), (W, H))
    assert m.model == "homography" and m.flow_px < 0.2
    assert max(abs(m.pan), abs(m.tilt), abs(m.roll), abs(m.log_zoom)) < 1e-3


def test_rotation_angles_closed_form():
    assert rotation_angles(rot("y", 0.1).T)[0] == pytest.approx(0.1)  # x2 = Rc^T x1
    assert rotation_angles(rot("x", 0.1).T)[1] == pytest.approx(0.1)
    assert rotation_angles(rot("z", 0.1).T)[2] == pytest.approx(0.1)


def test_decompose_rotation_zoom_recovers_both():
    K = intrinsics(W, H)
    R = rot("y", 0.05).T @ rot("x", -0.02).T
    Hm = K @ np.diag([1.1, 1.1, 1.0]) @ R @ np.linalg.inv(K)
    R2, s = decompose_rotation_zoom(Hm * 3.0, K)
    assert s == pytest.approx(1.1, rel=1e-6) and np.allclose(R2, R, atol=1e-6)


def test_translation_cues_fix_the_sign_from_the_flow():
    K = intrinsics(W, H)
    pts = np.random.default_rng(0).uniform([0, 0], [W, H], (50, 2))
    left_flow = np.tile([-3.2, 0.0], (50, 1))  # content slides left: the camera moves right
    for d in ([1.0, 0, 0], [-1.0, 0, 0]):
        assert translation_cues(pts, left_flow, (W, H), np.array(d), K) == pytest.approx((0.01, 0, 0), abs=1e-9)
    radial = (pts - [W / 2, H / 2]) * 0.02  # expansion: the camera moves forward
    assert translation_cues(pts, radial, (W, H), np.array([0, 0, -1.0]), K)[2] > 0


def test_moving_objects_are_kept_out_of_the_camera_estimate():
    X = point_cloud(seed=4)
    p0 = project(X, np.eye(3), np.zeros(3))
    p1 = project(X, rot("y", 0.02), np.zeros(3))
    movers = np.arange(len(p0)) < 60  # 15% of points ride on objects moving their own ways
    angle = np.random.default_rng(1).uniform(0, 2 * np.pi, 60)
    p1[movers] += 6.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    m = estimate_pair(p0, p1, (W, H))
    assert m.model == "homography" and m.pan == pytest.approx(0.02, abs=2e-3)
    assert m.rigid_share < 0.9


def _band(n: int) -> np.ndarray:
    """Points of a line of burned-in text near the bottom of the frame."""
    rng = np.random.default_rng(7)
    return np.stack([rng.uniform(0.15 * W, 0.85 * W, n), rng.uniform(H - 30, H - 12, n)], axis=1)


def test_text_fixed_on_the_frame_over_a_slow_tilt_is_left_out():
    """A band of text holding 30% of the tracks over a tilt of about 2 px per pair: as parallax (the
    text still, as if infinitely far) it would read as a pedestal."""
    X = point_cloud(seed=4)
    p0 = project(X, np.eye(3), np.zeros(3))[:100]
    p1 = project(X, rot("x", 0.006), np.zeros(3))[:100]
    band = _band(40)
    q0, q1 = np.concatenate([p0, band]), np.concatenate([p1, band + 0.01])
    assert estimate_pair(q0, q1, (W, H)).model == "essential"  # with the text: a pedestal
    fixed = fixed_on_frame(q0, q1, (W, H))
    assert fixed[len(p0):].all() and not fixed[: len(p0)].any()
    m = estimate_pair(q0[~fixed], q1[~fixed], (W, H))
    assert m.model == "homography" and m.tilt == pytest.approx(0.006, abs=1e-3) and m.translation == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("half_w, half_h", [(0.2, 0.2), (0.35, 0.4)])
def test_a_still_background_behind_a_moving_subject_is_not_an_overlay(half_w, half_h):
    """A subject crossing the middle of a fixed camera's view, small or covering the frame's height
    but for a band above and below it: the still background in those bands is no overlay (the still
    background beside the subject says the scene is still)."""
    X = point_cloud(seed=4)
    p0 = project(X, np.eye(3), np.zeros(3))[:120]
    inside = (np.abs(p0[:, 0] - W / 2) < half_w * W) & (np.abs(p0[:, 1] - H / 2) < half_h * H)
    p1 = p0.copy()
    p1[inside] += (5.0, 1.0)
    assert inside.sum() >= 12 and not fixed_on_frame(p0, p1, (W, H)).any()


def test_scene_tracks_leave_burned_in_text_out_and_track_the_scene_around_it():
    a, b = render(np.eye(3), np.zeros(3)), render(rot("x", 0.008), np.zeros(3))  # a slow tilt
    for img in (a, b):
        cv2.rectangle(img, (40, H - 44), (W - 40, H - 6), 0, -1)
        cv2.putText(img, "Keep the camera rolling.", (48, H - 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_AA)
    def on_box(p: np.ndarray) -> np.ndarray:
        return (p[:, 0] > 40) & (p[:, 0] < W - 40) & (p[:, 1] > H - 44) & (p[:, 1] < H - 6)

    p0, p1 = track_points(a, b, 120)
    scene = scene_tracks(a, b, 120)
    q0 = scene.p0
    assert scene.overlay and scene.size == (W, H) and on_box(p0).sum() >= 5 and not on_box(q0).any()
    assert len(q0) >= (~on_box(p0)).sum() - 5  # the scene keeps its tracks, but for a few at the box's edge


def test_letterbox_bars_are_the_dark_border_runs_both_frames_share():
    a, b = render(np.eye(3), np.zeros(3)), render(rot("y", 0.01), np.zeros(3))
    for img in (a, b):
        img[:30] = 0
        img[-26:] = 3
    assert frame_bars(a, b) == (30 + 4, 26 + 4, 0, 0)
    moved = b.copy()
    moved[:40] = 0  # a dark part of the scene that grows: not a bar
    assert frame_bars(a, moved)[0] == 0
    dark = np.zeros_like(a)
    assert frame_bars(dark, dark) == (0, 0, 0, 0)
    scene = scene_tracks(a, b, 120)
    assert scene.size == (W, H - 34 - 30) and len(scene.p0) > 40


def test_corners_near_excluded_points_are_not_detected():
    img = render(np.eye(3), np.zeros(3))
    pts = detect_points(img, 120)
    hidden = pts[:10]
    kept = detect_points(img, 120, exclude=hidden)
    near = np.linalg.norm(kept[:, None, :] - hidden[None, :, :], axis=2).min(axis=1)
    assert len(kept) < len(pts) and near.min() > 4.0


def test_tracks_on_a_warped_real_image_follow_the_homography():
    img = cv2.imread("/usr/share/doc/opencv-doc/examples/data/lena.jpg", cv2.IMREAD_GRAYSCALE)
    if img is None:
        img = render(np.eye(3), np.zeros(3))
    img = cv2.resize(img, (W, H))
    Hm = np.array([[1.02, -0.01, 3.0], [0.01, 1.02, -2.0], [0.0, 0.0, 1.0]])
    warped = cv2.warpPerspective(img, Hm, (W, H))
    p0, p1 = track_points(img, warped)
    assert len(p0) > 100
    inner = (p1[:, 0] > 10) & (p1[:, 0] < W - 10) & (p1[:, 1] > 10) & (p1[:, 1] < H - 10)
    pred = cv2.perspectiveTransform(p0[inner].reshape(-1, 1, 2).astype(np.float64), Hm).reshape(-1, 2)
    assert np.median(np.linalg.norm(pred - p1[inner], axis=1)) < 0.2


def test_integration_sums_and_agreement():
    X = point_cloud(seed=5)
    pairs = []
    for k in range(5):
        p0 = project(X, rot("y", 0.01 * k), np.zeros(3))
        p1 = project(X, rot("y", 0.01 * (k + 1)), np.zeros(3))
        pairs.append(estimate_pair(p0, p1, (W, H), dt=0.5))
    cues = integrate_pairs(pairs, (W, H), intrinsics(W, H)[0, 0])
    assert cues.pan_deg == pytest.approx(math.degrees(0.05), rel=0.02)
    assert cues.pan_agree == 1.0 and cues.duration == 2.5 and cues.content_dx < 0


def test_image_motion_is_a_share_of_the_picture_each_pair_was_measured_in():
    """A pair measured inside pillarbox bars (a picture half the frame's width) moves its picture
    by twice the share the same pixels are of the whole frame."""
    moved = PairMotion(dt=0.25, n_tracks=50, valid=True, model="homography", flow_px=8.0, shift=(-8.0, 2.0))
    framed = integrate_pairs([moved], (W, H), intrinsics(W, H)[0, 0])
    boxed = integrate_pairs([replace(moved, size=(W // 2, H))], (W, H), intrinsics(W, H)[0, 0])
    assert framed.content_dx == pytest.approx(-8.0 / W) and boxed.content_dx == pytest.approx(-16.0 / W)
    assert boxed.motion == pytest.approx(2 * framed.motion) and boxed.content_dy == pytest.approx(framed.content_dy)


def test_chains_merge_into_one_shot_by_their_measured_pairs():
    from camreasoner.observer.geometry import ClipCues, merge_chains

    a = ClipCues(duration=3.0, pairs=12, valid_pairs=12, pan_deg=10.0, parallax_share=0.5, conflict_share=0.7,
                 foe_x=0.4)
    b = ClipCues(duration=2.75, pairs=11, valid_pairs=4, pan_deg=14.0, parallax_share=0.0, conflict_share=0.2)
    assert merge_chains([a]) is a
    m = merge_chains([a, b])
    assert (m.pairs, m.valid_pairs, m.duration) == (23, 16, 3.0)
    assert m.pan_deg == pytest.approx(11.0) and m.parallax_share == pytest.approx(0.375)
    assert m.conflict_share == pytest.approx(0.575) and m.conflict and m.foe_x == pytest.approx(0.4) and m.foe_y is None
    unmeasured = merge_chains([ClipCues(pairs=2), ClipCues(pairs=3)])
    assert unmeasured.pairs == 5 and not unmeasured.measured


def test_every_primitive_has_a_scene_step():
    assert set(STEPS) == set(EXPECT) | {"Static"}


@pytest.mark.parametrize("side", [np.array([-0.3, 0.0, 0.0]), np.array([0.0, 0.3, 0.0])])
def test_zoom_during_a_sideways_move_is_not_read_as_a_dolly(side):
    """Exact tracks of a truck (or pedestal) with a 6% zoom: the translation stays sideways."""
    from camreasoner.observer.geometry.models import epipole_direction

    X = point_cloud(seed=5)
    p0 = project(X, np.eye(3), np.zeros(3))
    p1 = project(X, np.eye(3), side, 1.06) + np.random.default_rng(1).normal(0, 0.05, p0.shape)
    m = estimate_pair(p0, p1, (W, H))
    assert m.model == "essential" and m.log_zoom > 0.03, m
    t = np.array(m.translation)
    axis = int(np.argmax(np.abs(side)))
    assert np.sign(t[axis]) == np.sign(side[axis]) and abs(t[2]) < 0.3 * abs(t[axis]), m
    # a forward move keeps its forward direction
    p2 = project(X, np.eye(3), np.array([0.0, 0.0, 0.4]))
    u = epipole_direction(p0, p2, np.array([0.0, 0.0, 1.0]), intrinsics(W, H))
    assert u[2] > 0.95


def test_one_outlier_pair_does_not_make_a_translation():
    from camreasoner.observer.geometry import PairMotion

    pairs = [PairMotion(dt=0.25, n_tracks=100, valid=True, model="essential", translation=(0.001, 0.0, 0.0))
             for _ in range(8)]
    pairs.append(PairMotion(dt=0.25, n_tracks=100, valid=True, model="essential", translation=(0.0, 0.05, 0.0)))
    cues = integrate_pairs(pairs, (W, H), 300.0)
    assert cues.truck == pytest.approx(0.008)
    assert abs(cues.pedestal) <= 3 * 0.001 + 1e-9


@pytest.mark.parametrize("turn, centre", [(("y", -0.03), (0.4, 0.0, 0.0)), (("x", 0.03), (0.0, 0.3, 0.2)),
                                          (("z", 0.05), (0.0, 0.0, 0.0))])
def test_a_real_pose_never_turns_the_image_more_than_its_points_moved(turn, centre):
    """Far points move by the rotation alone: an arc (truck against the pan), a tilt while rising and
    a roll all stay at or below 1; a tilt the tracks do not show (a 1 px jitter) is far above."""
    X = point_cloud(seed=6)
    K = intrinsics(W, H)
    p0 = project(X, np.eye(3), np.zeros(3))
    Rc = rot(*turn)
    p1 = project(X, Rc, np.array(centre))
    rotated = apply_homography(K @ Rc.T @ np.linalg.inv(K), p0)
    assert rotation_excess(rotated, p0, p1, 0.5) <= 1.05
    jitter = p0 + np.random.default_rng(0).normal(0, 1.0, p0.shape)
    made_up = apply_homography(K @ rot("x", 0.1).T @ np.linalg.inv(K), p0)
    assert rotation_excess(made_up, p0, jitter, 0.5) > 5


def _low_parallax_pedestal(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tracks of a camera moving down 5 cm over planes 4, 9 and 32 m away (the near plane moves about
    3.5 px, the far one 0.4 px), with 0.3 px noise."""
    rng = np.random.default_rng(seed)
    depth = rng.choice([4.0, 9.0, 32.0], 100) * rng.uniform(0.95, 1.05, 100)
    X = np.c_[rng.uniform(-3, 3, 100) * depth / 4, rng.uniform(-2, 2, 100) * depth / 4, depth]
    K = intrinsics(W, H)

    def proj(P: np.ndarray) -> np.ndarray:
        x = P @ K.T
        return x[:, :2] / x[:, 2:3]

    p0 = proj(X) + rng.normal(0, 0.3, (100, 2))
    p1 = proj(X - np.array([0.0, 0.05, 0.0])) + rng.normal(0, 0.3, (100, 2))
    return p0, p1, K


def test_essential_pose_takes_the_rotation_nearer_the_identity_not_the_twisted_pair():
    from camreasoner.observer.geometry.models import essential_pose, rotation_angle

    twisted = 0
    for seed in range(12):
        p0, p1, K = _low_parallax_pedestal(seed)
        E, mask = cv2.findEssentialMat(p0, p1, K, cv2.USAC_ACCURATE, 0.999, 1.0)
        inliers = mask.ravel().astype(bool)
        _, R_cv, _, _ = cv2.recoverPose(E, p0, p1, K, mask=inliers.astype(np.uint8).reshape(-1, 1) * 255)
        twisted += rotation_angle(R_cv) > 3.0  # OpenCV's cheirality choice: a half turn
        R, _ = essential_pose(E, p0, p1, K, inliers)
        assert rotation_angle(R) < 0.01  # the camera did not turn
    assert twisted >= 2  # the case this guards against occurs in these tracks


def test_a_low_parallax_pedestal_pair_reads_its_translation():
    for seed in range(12):
        p0, p1, K = _low_parallax_pedestal(seed)
        m = estimate_pair(p0, p1, (W, H), K=K)
        assert m.model == "essential" and m.valid  # a twisted pose used to drop the pair as invalid
        assert m.translation[1] > 0 and abs(math.degrees(m.tilt)) < 0.5  # Move_Down, no tilt


def _bent(pts: np.ndarray, coefficient: float) -> np.ndarray:
    """Points as a lens of division-model ``coefficient`` shows them: the inverse of ``undistort``."""
    centre = np.array([W / 2.0, H / 2.0])
    half = math.hypot(W, H) / 2.0
    offset = (pts - centre) / half
    r_u = np.linalg.norm(offset, axis=1, keepdims=True)
    r_d = (1.0 - np.sqrt(1.0 - 4.0 * coefficient * r_u**2)) / (2.0 * coefficient * np.maximum(r_u, 1e-12))
    return centre + offset / np.maximum(r_u, 1e-12) * r_d * half


def test_a_lens_is_estimated_from_a_pan_through_it_and_parallax_is_not_taken_for_one():
    """A pan seen through a barrel lens (division-model coefficient -0.2): a homography leaves 2% of
    the motion as residual; the coefficient is found from six pairs, and with it taken out the
    tracks fit the pan's homography. A translating camera's parallax and an undistorted pan give
    no coefficient."""
    X = point_cloud(seed=4)
    views = [project(X, rot("y", 0.02 * k), np.zeros(3)) for k in range(7)]
    bent = [_bent(v, -0.2) for v in views]
    pairs = [(a, b, (W, H)) for a, b in zip(bent[:-1], bent[1:], strict=True)]
    fit = estimate_lens(pairs)
    assert fit.coefficient == pytest.approx(-0.2, abs=0.01) and fit.before > 0.015 and fit.after < 0.1 * fit.before
    np.testing.assert_allclose(undistort(bent[3], (W, H), fit.coefficient), views[3], atol=0.2)
    m = estimate_pair(undistort(pairs[0][0], (W, H), fit.coefficient), undistort(pairs[0][1], (W, H), fit.coefficient),
                      (W, H))
    assert m.model == "homography" and m.pan == pytest.approx(0.02, abs=2e-3)
    straight = [(a, b, (W, H)) for a, b in zip(views[:-1], views[1:], strict=True)]
    assert estimate_lens(straight).coefficient == 0.0
    moving = [project(X, np.eye(3), np.array([0.15 * k, 0.0, 0.0])) for k in range(7)]  # a truck right
    truck = [(a, b, (W, H)) for a, b in zip(moving[:-1], moving[1:], strict=True)]
    assert estimate_pair(truck[0][0], truck[0][1], (W, H)).model == "essential"
    assert estimate_lens(truck).coefficient == 0.0
