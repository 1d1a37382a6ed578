"""The synthetic labels follow from geometry: known 3D points projected through each clip's cameras."""

from __future__ import annotations

import math

import numpy as np
import pytest

from camreasoner.core.taxonomy import FAMILIES, OPPOSITES, PRIMITIVES
from camreasoner.synth.dataset import SynthOptions, single_plan, synthesize_clip
from camreasoner.synth.scene import Camera
from camreasoner.synth.trajectories import CLEAR, NEGLIGIBLE, POSITIVE, ClipPlan, plan_clips

OPTS = SynthOptions(width=160, height=120, fps=8.0, seconds=2.0, effects=False)


def _ray_points(cam: Camera, depths: tuple[float, ...]) -> list[np.ndarray]:
    """For a grid of pixels of ``cam``, the world points on their rays at each depth."""
    xs, ys = np.meshgrid(np.linspace(20, 140, 5), np.linspace(15, 105, 4))
    pix = np.stack([xs.ravel(), ys.ravel()], axis=1)
    rays = cam.pixel_rays(pix)
    return [cam.center + rays * (d / rays[:, 2:3]) for d in depths]


def _tracks(primitive: str, seed: int = 11):
    clip = synthesize_clip(single_plan(primitive, index=PRIMITIVES.index(primitive)), seed, OPTS)
    near, far = _ray_points(clip.cameras[0], (clip.scene.near_depth, 10 * clip.scene.near_depth))
    uv_near = np.stack([c.project(near)[0] for c in clip.cameras])  # (frames, points, 2)
    uv_far = np.stack([c.project(far)[0] for c in clip.cameras])
    return clip, uv_near, uv_far


def _screen_rotation(uv0: np.ndarray, uv1: np.ndarray, c: np.ndarray) -> float:
    """Mean signed rotation (radians) from uv0 to uv1 about c, positive = counter-clockwise on screen."""
    a = uv0 - c
    b = uv1 - c
    # Screen y points down, so flip it to measure angles the way a viewer sees them.
    ang = np.arctan2(-b[:, 1], b[:, 0]) - np.arctan2(-a[:, 1], a[:, 0])
    return float(np.mean((ang + np.pi) % (2 * np.pi) - np.pi))


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_labels_of_single_primitive_clip(primitive: str) -> None:
    clip = synthesize_clip(single_plan(primitive), 11, OPTS)
    expect = {p: False for p in PRIMITIVES}
    expect[primitive] = True
    assert clip.labels == expect


@pytest.mark.parametrize("primitive", ["Pan_Left", "Pan_Right", "Tilt_Up", "Tilt_Down"])
def test_rotation_slides_content_without_parallax(primitive: str) -> None:
    clip, near, far = _tracks(primitive)
    np.testing.assert_allclose(near, far, atol=1e-6)  # same ray, any depth: no parallax
    d = near[-1] - near[0]
    axis, sign = {"Pan_Left": (0, 1), "Pan_Right": (0, -1), "Tilt_Up": (1, 1), "Tilt_Down": (1, -1)}[
        primitive
    ]
    # Pan_Left: content right (+x). Tilt_Up: content down (+y, image y points down).
    assert np.all(sign * d[:, axis] > 10)
    assert np.abs(d[:, 1 - axis]).mean() < 0.35 * np.abs(d[:, axis]).mean()


@pytest.mark.parametrize("primitive", ["Move_Left", "Move_Right", "Move_Up", "Move_Down"])
def test_translation_slides_content_with_parallax(primitive: str) -> None:
    clip, near, far = _tracks(primitive)
    axis, sign = {"Move_Left": (0, 1), "Move_Right": (0, -1), "Move_Up": (1, 1), "Move_Down": (1, -1)}[
        primitive
    ]
    dn = sign * (near[-1] - near[0])[:, axis]
    df = sign * (far[-1] - far[0])[:, axis]
    assert np.all(dn > 5) and np.all(df > 0)
    # Near points move ten times as far as points ten times farther away (pure translation).
    np.testing.assert_allclose(dn / df, 10.0, rtol=1e-6)


@pytest.mark.parametrize("primitive", ["Roll_Clockwise", "Roll_Counterclockwise"])
def test_roll_rotates_content_the_other_way_on_screen(primitive: str) -> None:
    clip, near, far = _tracks(primitive)
    np.testing.assert_allclose(near, far, atol=1e-6)
    c = np.array([clip.cameras[0].cx, clip.cameras[0].cy])
    rot = _screen_rotation(near[0], near[-1], c)
    deg = clip.trajectory.motions[0].magnitude
    # Roll_Clockwise (seen from behind the camera) turns content counter-clockwise on screen.
    expected = math.radians(deg) * (1 if primitive == "Roll_Clockwise" else -1)
    assert rot == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("primitive", ["Zoom_In", "Zoom_Out"])
def test_zoom_is_uniform_magnification_about_principal_point(primitive: str) -> None:
    clip, near, far = _tracks(primitive)
    np.testing.assert_allclose(near, far, atol=1e-6)
    c = np.array([clip.cameras[0].cx, clip.cameras[0].cy])
    ratio = clip.cameras[-1].f / clip.cameras[0].f
    np.testing.assert_allclose(near[-1] - c, ratio * (near[0] - c), atol=1e-6)
    assert (ratio > 1.2) if primitive == "Zoom_In" else (ratio < 1 / 1.2)
    np.testing.assert_allclose(clip.cameras[-1].center, clip.cameras[0].center, atol=1e-12)  # pose fixed


@pytest.mark.parametrize("primitive", ["Move_In", "Move_Out"])
def test_dolly_expands_or_contracts_with_parallax(primitive: str) -> None:
    clip, near, far = _tracks(primitive)
    c = np.array([clip.cameras[0].cx, clip.cameras[0].cy])
    rn = np.linalg.norm(near[-1] - c, axis=1) / np.linalg.norm(near[0] - c, axis=1)
    rf = np.linalg.norm(far[-1] - c, axis=1) / np.linalg.norm(far[0] - c, axis=1)
    if primitive == "Move_In":
        assert np.all(rn > 1.15) and np.all(rf > 1.0) and np.all(rn > rf + 0.1)  # near things grow faster
    else:
        assert np.all(rn < 0.9) and np.all(rf < 1.0) and np.all(rn < rf - 0.05)
    np.testing.assert_allclose([cam.f for cam in clip.cameras], clip.cameras[0].f)  # no zoom


def test_static_camera_never_moves() -> None:
    clip, near, far = _tracks("Static")
    np.testing.assert_allclose(near, near[0:1].repeat(len(near), 0), atol=1e-9)
    assert clip.labels["Static"] is True


def _euler_yxz(r_cw: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of R = R_y(yaw) R_x(pitch) R_z(roll)."""
    pitch = math.asin(-r_cw[1, 2])
    yaw = math.atan2(r_cw[0, 2], r_cw[2, 2])
    roll = math.atan2(r_cw[1, 0], r_cw[1, 1])
    return math.degrees(yaw), math.degrees(pitch), math.degrees(roll)


def _labels_from_record(extra: dict) -> dict[str, bool | None]:
    """Re-derive the 15 labels from the stored per-frame intrinsics and world-to-camera poses only."""
    pose0, pose1 = np.array(extra["poses"][0]), np.array(extra["poses"][-1])
    np.testing.assert_allclose(pose0, np.hstack([np.eye(3), np.zeros((3, 1))]), atol=1e-6)  # world = frame 0
    r, t = pose1[:, :3], pose1[:, 3]
    yaw, pitch, roll = _euler_yxz(r.T)
    center = -r.T @ t / extra["recipe"]["near_depth_m"]
    values = {
        "pan": yaw, "tilt": pitch, "roll": roll,
        "zoom": math.log(extra["intrinsics"][-1][0] / extra["intrinsics"][0][0]),
        "dolly": center[2], "truck": center[0], "pedestal": -center[1],
    }  # fmt: skip
    out: dict[str, bool | None] = {}
    for fam, v in values.items():
        pos = POSITIVE[fam]
        held = pos if v >= 0 else OPPOSITES[pos]
        out[OPPOSITES[held]] = False
        out[held] = True if abs(v) >= CLEAR[fam] else (False if abs(v) < NEGLIGIBLE[fam] else None)
    moving = any(abs(values[f]) >= NEGLIGIBLE[f] for f in FAMILIES)
    out["Static"] = (not moving) and not extra["recipe"]["shake"]
    return {p: out[p] for p in PRIMITIVES}


def test_every_recipe_labels_match_stored_cameras() -> None:
    """Combos, confusable pairs, subtle (null) and shake clips: labels re-derived from the stored poses."""
    plans = plan_clips(40, seed=4, max_combo=3)
    kinds = {p.kind for p in plans}
    assert {"single", "combo", "confusable", "subtle"} <= kinds
    opts = SynthOptions(width=64, height=48, fps=4.0, seconds=2.0)
    seen_null = seen_shake = False
    for plan in plans:
        clip = synthesize_clip(plan, 4, opts)
        extra = clip.record_extra(4, opts)
        assert _labels_from_record(extra) == clip.labels, (plan, extra["recipe"])
        seen_null |= any(v is None for v in clip.labels.values())
        seen_shake |= extra["recipe"]["shake"]
        if extra["recipe"]["shake"] and not extra["recipe"]["motions"]:  # shake without a direction
            assert clip.labels == dict.fromkeys(PRIMITIVES, False)
    assert seen_null and seen_shake


def test_confusable_pair_has_matched_image_motion_at_near_depth() -> None:
    for fam, axis in (("pan", 0), ("tilt", 1)):
        a, b = (synthesize_clip(ClipPlan(50 + i, "confusable", (fam,), pair=50, role=r, sign=-1), 2, OPTS)
                for i, r in enumerate("ab"))  # fmt: skip
        assert a.scene.near_depth == b.scene.near_depth
        # The principal ray's point at the near depth moves equally in both clips (at the last frame).
        p = np.array([[0.0, 0.0, a.scene.near_depth]])
        da = a.cameras[-1].project(p)[0] - a.cameras[0].project(p)[0]
        db = b.cameras[-1].project(p)[0] - b.cameras[0].project(p)[0]
        assert da[0, axis] == pytest.approx(db[0, axis], rel=1e-6)
        far = np.array([[0.0, 0.0, a.scene.far_depth]])
        fa = a.cameras[-1].project(far)[0] - a.cameras[0].project(far)[0]
        fb = b.cameras[-1].project(far)[0] - b.cameras[0].project(far)[0]
        assert abs(fb[0, axis]) < 0.3 * abs(fa[0, axis])  # the far backdrop tells them apart
    with_effects = SynthOptions(width=96, height=64, fps=4.0, seconds=1.0, distractors=1.0)
    a, b = (synthesize_clip(ClipPlan(70 + i, "confusable", ("pan",), pair=70, role=r, sign=1), 2, with_effects)
            for i, r in enumerate("ab"))  # fmt: skip
    assert a.effects.n_distractors == b.effects.n_distractors > 0
    assert a.scene.ground_y == b.scene.ground_y
    for oa, ob in zip(a.scene.objects, b.scene.objects, strict=True):  # the same scene, distractors included
        if oa.kind not in ("backdrop", "ground"):  # those two are sized to each clip's views
            assert oa.name == ob.name and all(np.array_equal(fa.corners(), fb.corners()) for fa, fb in
                                              zip(oa.faces, ob.faces, strict=True))  # fmt: skip
            assert all(
                np.array_equal(fa.texture, fb.texture) for fa, fb in zip(oa.faces, ob.faces, strict=True)
            )
    a, b = (synthesize_clip(ClipPlan(60 + i, "confusable", ("zoom",), pair=60, role=r, sign=1), 2, OPTS)
            for i, r in enumerate("ab"))  # fmt: skip
    assert [a.trajectory.motions[0].primitive, b.trajectory.motions[0].primitive] == ["Zoom_In", "Move_In"]
    zoom = a.cameras[-1].f / a.cameras[0].f
    dolly = a.scene.near_depth / (a.scene.near_depth - b.cameras[-1].center[2])
    assert zoom == pytest.approx(dolly, rel=1e-9)
