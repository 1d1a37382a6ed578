"""`camreasoner synth` end to end: files and formats, determinism across workers, resume, bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import CONFUSABLE_PAIRS, PRIMITIVES
from camreasoner.formats.labels import read_labels
from camreasoner.formats.questions import read_questions
from camreasoner.synth import generate_dataset
from camreasoner.synth.dataset import SynthOptions, _identity, _run_job, _save_result, synthesize_clip
from camreasoner.synth.trajectories import MOVING, ClipPlan, plan_clips, validate_primitives
from camreasoner.synth.writer import read_frames

CLI = [sys.executable, "-m", "camreasoner.cli.app"]
SMALL = ["--size", "96x72", "--fps", "6", "--seconds", "1.5"]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "synth", *args], capture_output=True, text=True, timeout=300)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}  # fmt: skip


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "set"
    res = _cli("--out", str(out), "--clips", "10", "--seed", "7", "--workers", "2", "--quiet", *SMALL)
    assert res.returncode == 0, res.stderr
    assert "written: 10 clips" in res.stdout
    return out


def test_layout_and_formats(dataset: Path) -> None:
    assert sorted(p.name for p in dataset.iterdir()) == [
        "binary.json",
        "clips",
        "labels.jsonl",
        "synth.json",
        "vqa.json",
    ]
    labels = read_labels(dataset / "labels.jsonl")
    assert len(labels) == 10 and len(list((dataset / "clips").iterdir())) == 10
    for lab in labels:
        frames = read_frames(dataset / lab.path)
        n = lab.extra["n_frames"]
        assert len(frames) == n == 9 and frames[0].shape == (72, 96, 3)
        assert lab.extra["size"] == [96, 72] and lab.extra["fps"] == 6.0
        assert len(lab.extra["intrinsics"]) == n and len(lab.extra["poses"]) == n
        assert np.array(lab.extra["poses"]).shape == (n, 3, 4)
        assert lab.extra["pose_convention"].startswith("world_to_camera")
        assert set(lab.primitives) == set(PRIMITIVES)
    binary = read_questions(dataset / "binary.json")
    known = sum(v is not None for lab in labels for v in lab.primitives.values())
    assert len(binary) == known
    by_path = {lab.path: lab for lab in labels}
    for q in binary:
        assert q.is_binary and (dataset / q.path).is_file()
        value = by_path[q.path].primitives[q.primitive]
        assert q.answer == ("B" if value else "A")
    vqa = read_questions(dataset / "vqa.json")
    assert vqa and all(2 <= len(q.options) <= 6 and q.answer in q.letters for q in vqa)
    assert all(q.path in by_path for q in vqa)
    manifest = json.loads((dataset / "synth.json").read_text())
    assert manifest["counts"]["clips"] == 10 and manifest["failed"] == []


def test_same_seed_same_bytes_whatever_the_workers(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "again"
    res = generate_dataset(out, 10, 7, size=(96, 72), fps=6, seconds=1.5, workers=1, progress=False)
    assert res.status == "written"
    assert _digest(out) == _digest(dataset)
    other = tmp_path / "other"
    generate_dataset(other, 3, 8, size=(96, 72), fps=6, seconds=1.5, progress=False)
    first = read_frames(other / "clips" / "s8_000000.mp4")[0]
    assert not np.array_equal(first, read_frames(dataset / "clips" / "s7_000000.mp4")[0])


def test_rerun_on_finished_set_is_a_no_op(dataset: Path) -> None:
    before = _digest(dataset)
    res = _cli("--out", str(dataset), "--clips", "10", "--seed", "7", "--workers", "2", "--quiet", *SMALL)
    assert res.returncode == 0 and "already complete" in res.stdout
    assert _digest(dataset) == before


def test_interrupted_run_resumes_to_the_same_result(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "resumed"
    opts = SynthOptions(96, 72, 6.0, 1.5)
    stage = out / ".tmp"
    (stage / "clips").mkdir(parents=True)
    (stage / "records").mkdir()
    (stage / "synth.json").write_text(json.dumps(_identity(10, 7, opts)))
    for plan in plan_clips(10, 7)[:4]:  # the first four clips finished before the interruption
        _save_result(stage, *_run_job((plan, 7, opts, str(stage))))
    res = generate_dataset(out, 10, 7, size=(96, 72), fps=6, seconds=1.5, progress=False)
    assert res.status == "resumed"
    assert _digest(out) == _digest(dataset)


def test_a_failing_clip_is_recorded_and_the_rest_kept(tmp_path: Path) -> None:
    from camreasoner.synth.dataset import _assemble

    out = tmp_path / "partial"
    stage = out / ".tmp"
    (stage / "clips").mkdir(parents=True)
    (stage / "records").mkdir()
    opts = SynthOptions(64, 48, 4.0, 1.0)
    plans = [ClipPlan(0, "single", ("Pan_Left",)), ClipPlan(1, "single", ("Dolly_Zoom",))]
    for plan in plans:
        _save_result(stage, *_run_job((plan, 1, opts, str(stage))))
    res = _assemble(out, stage, plans, 1, _identity(2, 1, opts), "test", resumed=False)
    assert res.clips == 1 and res.failed[0]["index"] == 1 and "Dolly_Zoom" in res.failed[0]["error"]
    assert len(read_labels(out / "labels.jsonl")) == 1 and not stage.exists()
    assert json.loads((out / "synth.json").read_text())["failed"] == res.failed


@pytest.mark.parametrize(
    "args,message",
    [
        (["--clips", "0"], "--clips must be at least 1"),
        (["--clips", "2", "--size", "97x72"], "must be even"),
        (["--clips", "2", "--size", "10x10"], "width must be 32"),
        (["--clips", "2", "--size", "big"], "expected WIDTHxHEIGHT"),
        (["--clips", "2", "--primitives", "Pan_Left,Dolly_Zoom"], "unknown primitive 'Dolly_Zoom'"),
        (["--clips", "2", "--fps", "0"], "--fps"),
        (["--clips", "2", "--seconds", "0.1"], "need 2"),
        (["--clips", "2", "--distractors", "1.5"], "--distractors"),
        (["--clips", "2", "--recipes", "single,foo"], "unknown recipe 'foo'"),
        (["--clips", "3", "--recipes", "confusable"], "need an even number"),
        (["--clips", "2", "--recipes", "static", "--primitives", "Pan_Left"], "no clip of recipes static"),
    ],
)
def test_bad_settings_one_line_nothing_written(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "bad"
    res = _cli("--out", str(out), *args)
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], res.stderr
    assert not out.exists()


def test_output_dir_with_other_content_is_refused(dataset: Path, tmp_path: Path) -> None:
    unrelated = tmp_path / "notes"
    unrelated.mkdir()
    (unrelated / "todo.txt").write_text("mine")
    res = _cli("--out", str(unrelated), "--clips", "2", *SMALL)
    assert res.returncode != 0 and "not empty" in res.stderr and "Traceback" not in res.stderr
    assert sorted(p.name for p in unrelated.iterdir()) == ["todo.txt"]
    before = _digest(dataset)
    res = _cli("--out", str(dataset), "--clips", "10", "--seed", "8", *SMALL)
    assert res.returncode != 0 and "holds another data set" in res.stderr
    assert _digest(dataset) == before
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    res = _cli("--out", str(a_file), "--clips", "2", *SMALL)
    assert res.returncode != 0 and "not a directory" in res.stderr


def test_primitives_restriction_and_hard_negatives() -> None:
    listed = ("Pan_Left", "Zoom_In")
    partners = {b for a, b in CONFUSABLE_PAIRS if a in listed} | {
        a for a, b in CONFUSABLE_PAIRS if b in listed
    }
    plans = plan_clips(60, 3, listed, max_combo=2)
    kinds = {p.kind for p in plans}
    assert {"single", "confusable", "combo"} <= kinds and "static" not in kinds and "shake" not in kinds
    opts = SynthOptions(width=48, height=32, fps=4.0, seconds=1.0)
    for plan in plans[:30]:
        clip = synthesize_clip(plan, 3, opts)
        true = {p for p, v in clip.labels.items() if v}
        assert true <= set(listed) | partners, (plan, true)
        if plan.kind != "confusable":
            assert true <= set(listed) or plan.kind == "subtle"
    static_only = plan_clips(20, 3, ("Static",))
    assert {p.kind for p in static_only} <= {"static", "static_subjects", "shake"}


def test_recipes_restriction_gives_only_those_kinds() -> None:
    plans = plan_clips(30, 2, recipes=("confusable", "shake"))
    assert {p.kind for p in plans} == {"confusable", "shake"}
    pairs = [p for p in plans if p.kind == "confusable"]
    assert [p.role for p in pairs] == ["a", "b"] * (len(pairs) // 2)


def test_primitives_option_forms() -> None:
    assert validate_primitives(["Pan_Left", "Zoom_In, Static"]) == ("Pan_Left", "Zoom_In", "Static")
    assert validate_primitives(None) == PRIMITIVES
    with pytest.raises(CamReasonerError, match="unknown primitive 'pan_left'"):
        validate_primitives(["pan_left"])


def test_plan_mix_covers_every_primitive_and_combo_size() -> None:
    plans = plan_clips(400, 0, max_combo=3)
    singles = {p.primitives[0] for p in plans if p.kind == "single"}
    assert singles == set(MOVING)
    assert {len(p.primitives) for p in plans if p.kind == "combo"} == {2, 3}
    pairs = [p for p in plans if p.kind == "confusable"]
    assert len(pairs) % 2 == 0 and all(p.pair is not None for p in pairs)
    assert {p.kind for p in plans} == {
        "single",
        "combo",
        "confusable",
        "static",
        "static_subjects",
        "shake",
        "subtle",
    }
    # A longer data set starts with the same clips (only a pair cut by the end can differ).
    assert plan_clips(7, 0)[:6] == plan_clips(400, 0)[:6]


def test_frames_are_fully_covered_at_extreme_motion() -> None:
    """Largest magnitudes, combined: the backdrop still covers every pixel (no black borders)."""
    from camreasoner.synth.render import render_frame
    from camreasoner.synth.trajectories import CLEAR_RANGE, FAMILY_OF

    opts = SynthOptions(width=96, height=64, fps=4.0, seconds=1.0, effects=False)
    combos = [("Move_Out", "Pan_Left", "Tilt_Down"), ("Zoom_Out", "Move_Right", "Move_Up"),
              ("Move_In", "Pan_Right", "Tilt_Up"), ("Roll_Clockwise", "Zoom_Out", "Move_Left")]  # fmt: skip
    for k, combo in enumerate(combos):
        clip = synthesize_clip(ClipPlan(k, "combo", combo), 5, opts)
        for m in clip.trajectory.motions:
            assert m.magnitude <= CLEAR_RANGE[FAMILY_OF[m.primitive]][1]
        ids = np.empty((64, 96), np.int32)
        for cam, s in zip(clip.cameras, clip.times, strict=True):
            render_frame(clip.scene, cam, s, 96, 64, ids=ids)
            assert (ids >= 0).all()
