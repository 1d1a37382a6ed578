"""The synthetic labels agree with optical flow (Farneback) measured on the rendered frames."""

from __future__ import annotations

import numpy as np
import pytest

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.synth.dataset import SynthOptions, single_plan, synthesize_clip
from camreasoner.synth.flowcheck import divergence, measure_flow, screen_ccw

OPTS = SynthOptions(width=320, height=240, fps=12.0, seconds=3.0, effects=False)  # the default clips
SEED = 21


def _measure(primitive: str):
    clip = synthesize_clip(single_plan(primitive, index=PRIMITIVES.index(primitive)), SEED, OPTS)
    return clip, measure_flow(clip)


@pytest.mark.parametrize(
    "primitive,axis,sign",
    [("Pan_Left", 0, 1), ("Pan_Right", 0, -1), ("Tilt_Up", 1, 1), ("Tilt_Down", 1, -1)],
)
def test_flow_rotation_shifts_all_depths_alike(primitive: str, axis: int, sign: int) -> None:
    clip, m = _measure(primitive)
    near, far = m["near_shift"][axis], m["far_shift"][axis]
    assert sign * near > 10 and sign * far > 10  # Pan_Left: content right; Tilt_Up: content down
    # No parallax: near and far content turn at the same rate once image position is allowed for.
    assert 0.7 < m["near_rate"][axis] / m["far_rate"][axis] < 1.4


@pytest.mark.parametrize(
    "primitive,axis,sign",
    [("Move_Left", 0, 1), ("Move_Right", 0, -1), ("Move_Up", 1, 1), ("Move_Down", 1, -1)],
)
def test_flow_translation_shifts_near_more_than_far(primitive: str, axis: int, sign: int) -> None:
    clip, m = _measure(primitive)
    near, far = m["near_shift"][axis], m["far_shift"][axis]
    assert sign * near > 8
    assert sign * near > 3 * abs(far)  # parallax: the far backdrop barely moves
    assert sign * m["near_rate"][axis] > 2.5 * abs(m["far_rate"][axis])


@pytest.mark.parametrize("primitive,sign", [("Roll_Clockwise", 1), ("Roll_Counterclockwise", -1)])
def test_flow_roll_rotates_content_opposite_on_screen(primitive: str, sign: int) -> None:
    clip, m = _measure(primitive)
    rot = screen_ccw(m["all"])  # radians summed over the clip
    assert sign * rot > 0.5 * np.radians(clip.trajectory.motions[0].magnitude)


@pytest.mark.parametrize("primitive,sign", [("Zoom_In", 1), ("Zoom_Out", -1)])
def test_flow_zoom_uniform_scaling(primitive: str, sign: int) -> None:
    clip, m = _measure(primitive)
    dn, df = divergence(m["near"]), divergence(m["far"])
    assert sign * dn > 0.1 and sign * df > 0.1
    assert 0.6 < dn / df < 1.6  # every depth scales alike


@pytest.mark.parametrize("primitive,sign", [("Move_In", 1), ("Move_Out", -1)])
def test_flow_dolly_scales_near_more_than_far(primitive: str, sign: int) -> None:
    clip, m = _measure(primitive)
    dn, df = divergence(m["near"]), divergence(m["far"])
    assert sign * dn > 0.1
    assert sign * dn > 3 * abs(df)  # parallax


def test_flow_static_is_still() -> None:
    clip, m = _measure("Static")
    assert np.abs(m["all"]).max() < 0.05


def test_flow_on_decoded_mp4_agrees(tmp_path) -> None:
    """The encoded clip (CRF 30, noise, shake off) still shows Pan_Left as content moving right."""
    from camreasoner.synth.flowcheck import farneback
    from camreasoner.synth.writer import read_frames, write_mp4

    clip = synthesize_clip(single_plan("Pan_Left"), SEED, OPTS)
    write_mp4(tmp_path / "c.mp4", clip.frames, OPTS.fps, crf=30)
    frames = read_frames(tmp_path / "c.mp4")
    assert len(frames) == len(clip.frames)
    dx = [float(np.median(farneback(a, b)[..., 0])) for a, b in zip(frames, frames[1:], strict=False)]
    assert min(dx) > 0 and sum(dx) > 20
