"""Semi-real clips (``synth --from-video``): directions and amounts measured on the pixels, labels, resume."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import read_labels
from camreasoner.formats.questions import read_questions
from camreasoner.synth.output import open_stage, save_result
from camreasoner.synth.realcam import (
    KINDS,
    SOURCE_CHECK,
    RealcamOptions,
    _identity,
    _run_job,
    clip_kind,
    generate_realcam_dataset,
    probe_source,
    synthesize_realcam_clip,
)
from camreasoner.synth.writer import read_frames, write_mp4

OPTS = RealcamOptions(width=160, height=120, fps=8.0, seconds=2.0)
SQUARE = 24  # side of the subject that moves across the source on its own


def _still_with_subject(n: int) -> list[np.ndarray]:
    """A textured still (fixed camera) with a bright square sliding from left to right."""
    rng = np.random.default_rng(0)
    noise = rng.uniform(0, 255, (240, 320, 3)).astype(np.float32)
    base = cv2.GaussianBlur(noise, (0, 0), 2.0)
    base = np.clip((base - base.mean()) * 4 + 128, 0, 255).astype(np.uint8)
    frames = []
    for k in range(n):
        f = base.copy()
        x = 40 + int(200 * k / (n - 1))
        f[150:150 + SQUARE, x:x + SQUARE] = 255
        frames.append(f)
    return frames


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("src") / "still.mp4"
    write_mp4(path, _still_with_subject(40), 10.0, crf=12)
    return path


def _content_motion(frames: list[np.ndarray]) -> tuple[float, float, float, float]:
    """(tx, ty, screen rotation in degrees, counter-clockwise positive, scale) of the content from
    the first to the last frame: corners tracked frame to frame, one similarity fitted by RANSAC."""
    grey = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
    p0 = cv2.goodFeaturesToTrack(grey[0], 300, 0.01, 5)
    pts, keep = p0.copy(), np.ones(len(p0), bool)
    for a, b in zip(grey, grey[1:], strict=False):
        pts, st, _ = cv2.calcOpticalFlowPyrLK(a, b, pts, None, winSize=(15, 15), maxLevel=3)
        keep &= st.ravel() == 1
    m, _ = cv2.estimateAffinePartial2D(p0[keep], pts[keep], method=cv2.RANSAC, ransacReprojThreshold=1.0)
    # Move the fit's origin to the image centre, so rotation and scale do not read as translation.
    c = np.array([(frames[0].shape[1] - 1) / 2, (frames[0].shape[0] - 1) / 2])
    t = m[:, :2] @ c + m[:, 2] - c
    scale = math.hypot(m[0, 0], m[1, 0])
    # Image y points down: an angle from the matrix is clockwise on screen, so negate it.
    rot = -math.degrees(math.atan2(m[1, 0], m[0, 0]))
    return float(t[0]), float(t[1]), rot, scale


def test_every_kind_appears_once_per_block() -> None:
    assert sorted(clip_kind(3, i) or "" for i in range(10)) == sorted(k or "" for k in KINDS)
    assert [clip_kind(3, i) for i in range(10)] != [clip_kind(4, i) for i in range(10)]


@pytest.mark.parametrize("index", range(len(KINDS)))
def test_direction_and_amount_measured_on_pixels(source: Path, index: int) -> None:
    clip = synthesize_realcam_clip(index, 3, OPTS, [probe_source(source, OPTS.seconds)])
    tx, ty, rot, scale = _content_motion(clip.frames)
    w, h = OPTS.width, OPTS.height
    p, mag = clip.primitive, clip.magnitude
    expect = {p: True} if p else {"Static": True}
    assert {k: v for k, v in clip.labels.items() if v} == expect
    if p is None:
        assert abs(tx) < 0.5 and abs(ty) < 0.5 and abs(rot) < 0.3 and abs(scale - 1) < 0.01
        return
    fam = p.split("_")[0]
    nulls = {k for k, v in clip.labels.items() if v is None}
    assert nulls == {"Pan": {"Move_Left", "Move_Right"}, "Tilt": {"Move_Up", "Move_Down"},
                     "Zoom": {"Move_In", "Move_Out"}, "Roll": set()}[fam]  # fmt: skip
    if fam == "Pan":
        assert 0.15 <= mag <= 0.30
        # Pan_Right: content slides left (conventions.md); by the travel, in view widths.
        assert tx / w == pytest.approx(-mag if p == "Pan_Right" else mag, rel=0.05)
        assert abs(ty) < 0.5 and abs(rot) < 0.3
    elif fam == "Tilt":
        assert 0.15 <= mag <= 0.30
        # Tilt_Up: content slides down (image y grows).
        assert ty / h == pytest.approx(mag if p == "Tilt_Up" else -mag, rel=0.05)
        assert abs(tx) < 0.5 and abs(rot) < 0.3
    elif fam == "Roll":
        assert 8 <= mag <= 15
        # Roll_Clockwise: content turns counter-clockwise on screen.
        assert rot == pytest.approx(mag if p == "Roll_Clockwise" else -mag, abs=0.3)
        assert abs(scale - 1) < 0.01
    else:
        assert 1.3 <= mag <= 1.6
        assert scale == pytest.approx(mag if p == "Zoom_In" else 1 / mag, rel=0.01)
        assert abs(rot) < 0.3


def test_subject_keeps_moving_in_a_static_window(source: Path) -> None:
    index = next(i for i in range(10) if clip_kind(3, i) is None)
    clip = synthesize_realcam_clip(index, 3, OPTS, [probe_source(source, OPTS.seconds)])
    first, last = (f.astype(int) for f in (clip.frames[0], clip.frames[-1]))
    changed = np.abs(first - last).max(axis=2) > 60
    # Only the square moved: a small part of the view changed, the rest is the same still.
    assert 0 < changed.mean() < 0.15


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


def test_data_set_layout_and_resume(source: Path, tmp_path: Path) -> None:
    kw = {"size": (96, 72), "fps": 6.0, "seconds": 1.5, "progress": False}
    full = tmp_path / "full"
    res = generate_realcam_dataset(full, [source], 6, 2, **kw)
    assert res.status == "written" and res.clips == 6
    assert sorted(p.name for p in full.iterdir()) == ["binary.json", "clips", "labels.jsonl", "synth.json",
                                                       "vqa.json"]  # fmt: skip
    labels = read_labels(full / "labels.jsonl")
    for lab in labels:
        assert set(lab.primitives) == set(PRIMITIVES) and lab.extra["n_frames"] == 9
        assert len(read_frames(full / lab.path)) == 9 and len(lab.extra["windows"]) == 9
    known = sum(v is not None for lab in labels for v in lab.primitives.values())
    assert len(read_questions(full / "binary.json")) == known
    manifest = json.loads((full / "synth.json").read_text())
    assert manifest["format"] == "camreasoner-synth-realcam" and manifest["counts"]["clips"] == 6
    before = _digest(full)
    assert generate_realcam_dataset(full, [source], 6, 2, **kw).status == "already complete"
    assert _digest(full) == before
    # Interrupted after two clips: the rerun does the other four and ends with the same bytes.
    part = tmp_path / "part"
    opts = RealcamOptions(96, 72, 6.0, 1.5)
    videos = [probe_source(source, 1.5)]
    stage, _ = open_stage(part, _identity(6, 2, opts, videos))
    for i in (0, 3):
        save_result(stage, *_run_job((i, 2, opts, videos, str(stage))))
    (stage / "clips" / "s2_000003.mp4").write_bytes(b"")  # would be rewritten if clip 3 were redone
    (stage / SOURCE_CHECK).write_text('["kept"]')  # the check's lines, here not the check's own: not redone
    res = generate_realcam_dataset(part, [source], 6, 2, **kw)
    assert res.status == "resumed" and res.warnings == ["kept"]
    assert json.loads((part / "synth.json").read_text())["source_warnings"] == ["kept"]
    after = _digest(part)
    assert after.pop("clips/s2_000003.mp4") != before.pop("clips/s2_000003.mp4")
    assert {k: v for k, v in after.items() if k.startswith("clips/")} == {
        k: v for k, v in before.items() if k.startswith("clips/")
    }


def test_bad_sources_one_line_nothing_written(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    cases = [
        ([tmp_path / "missing.mp4"], {}, "no such file"),
        ([text], {}, "not a readable video"),
        ([source], {"seconds": 10.0}, "shorter than the clip length 10 s"),
        ([], {}, "give at least one video"),
        ([source], {"size": (97, 72)}, "must be even"),
    ]
    for paths, kw, message in cases:
        with pytest.raises(CamReasonerError) as err:
            generate_realcam_dataset(out, paths, 2, 0, progress=False, **kw)
        assert message in str(err.value) and "\n" not in str(err.value)
        assert not out.exists()


def test_a_source_whose_camera_moves_or_cuts_is_named_in_a_warning(source: Path, tmp_path: Path) -> None:
    kw = {"size": (96, 72), "fps": 6.0, "seconds": 1.5, "progress": False}
    still = generate_realcam_dataset(tmp_path / "still", [source], 2, 0, **kw)
    assert still.warnings == [] and json.loads((tmp_path / "still" / "synth.json").read_text())["source_warnings"] == []
    base = _still_with_subject(2)[0]
    wide = np.concatenate([base, base[:, ::-1]], axis=1)  # room to pan over
    panning = tmp_path / "panning.mp4"  # the camera turns right: the content slides left, 4 px a frame
    write_mp4(panning, [np.ascontiguousarray(wide[:, 4 * k: 4 * k + 320]) for k in range(40)], 10.0, crf=12)
    cut = tmp_path / "cut.mp4"  # two views of a fixed camera, cut at 2 s
    write_mp4(cut, [base] * 20 + [np.ascontiguousarray(base[::-1, ::-1] // 2)] * 20, 10.0, crf=12)
    res = generate_realcam_dataset(tmp_path / "moving", [source, panning, cut], 2, 0, **kw)
    assert len(res.warnings) == 2 and "\n" not in "".join(res.warnings)
    assert res.warnings[0].startswith(f"{panning}: the observer does not read a fixed camera here (Pan_Right at")
    assert res.warnings[1].startswith(f"{cut}: the observer does not read a fixed camera here (2 shots (cuts at 2.0 s))")
    assert json.loads((tmp_path / "moving" / "synth.json").read_text())["source_warnings"] == res.warnings
    cli = _cli("--from-video", str(panning), "--out", str(tmp_path / "cli"), "--clips", "1", "--size", "96x72",
               "--fps", "6", "--seconds", "1.5", "--quiet")
    assert cli.returncode == 0 and f"warning: {panning}: the observer does not read a fixed camera" in cli.stderr


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "camreasoner.cli.app", "synth", *args],
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_cli_from_video(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    small = ["--size", "96x72", "--fps", "6", "--seconds", "1.5", "--quiet"]
    res = _cli("--from-video", str(source), "--out", str(out), "--clips", "2", *small)
    assert res.returncode == 0, res.stderr
    assert "written: 2 clips" in res.stdout and "footage: still" in res.stdout
    assert len(read_labels(out / "labels.jsonl")) == 2
    for args, message in (
        (["--from-video", str(tmp_path / "none.mp4")], "none.mp4: no such file"),
        (["--from-video", str(source), "--primitives", "Pan_Left"], "--primitives: only for rendered clips, not with --from-video"),
        (["--from-video", str(source), "--no-effects", "--max-combo", "2"], "--max-combo, --no-effects: only for rendered"),
    ):
        bad = tmp_path / "bad"
        res = _cli(*args, "--out", str(bad), "--clips", "2", *small)
        lines = res.stderr.strip().splitlines()
        assert res.returncode != 0 and len(lines) == 1 and message in lines[0], res.stderr
        assert not bad.exists()
