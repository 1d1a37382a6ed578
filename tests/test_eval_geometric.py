"""The geometric observer evaluated on synthetic clips with exact labels; a killed run resumes exactly."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from camreasoner.core.faults import CRASH_AT_ENV
from camreasoner.evaluate.runner import EvalConfig, run_eval
from camreasoner.formats.predictions import read_predictions
from camreasoner.synth.dataset import generate_dataset

CAMRE = str(Path(sys.executable).with_name("camreasoner"))
SAME = ("letter", "score", "correct", "error", "answer", "video")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "set"
    generate_dataset(out, clips=8, seed=7, size=(240, 160), seconds=2.5, progress=False)
    return out


def records(out):
    recs = read_predictions(Path(out) / "predictions.jsonl")
    assert len({r["key"] for r in recs}) == len(recs)
    return {r["key"]: r for r in recs}


def test_geometric_beats_trivial_baselines_on_exact_labels(data, tmp_path):
    geo = run_eval(EvalConfig(bench=str(data / "binary.json"), out=str(tmp_path / "geo"), backend="geometric",
                              video_root=str(data), workers=2, n_boot=200))
    m = geo.metrics
    assert m["n"] == len(json.loads((data / "binary.json").read_text())) and m["n_errors"] == 0
    assert m["format_error_rate"] == 0.0
    assert m["balanced_accuracy"] > 0.7 and m["balanced_accuracy_ci"][0] > 0.5
    assert m["mean_ap"] > 2 * m["mean_yes_rate"] and m["mean_ap_ci"][0] > m["mean_yes_rate"]
    assert (tmp_path / "geo" / "plots" / "primitives.png").stat().st_size > 10_000
    # The same items answered by one process give the same answers.
    one = run_eval(EvalConfig(bench=str(data / "binary.json"), out=str(tmp_path / "geo1"), backend="geometric",
                              video_root=str(data), workers=1, n_boot=200, report=False))
    a, b = records(tmp_path / "geo"), records(tmp_path / "geo1")
    assert a.keys() == b.keys()
    for k in a:
        assert {f: a[k][f] for f in SAME} == {f: b[k][f] for f in SAME}
    assert one.metrics["mean_ap"] == m["mean_ap"]


def test_vqa_file_gives_per_skill_accuracy(data, tmp_path):
    res = run_eval(EvalConfig(bench=str(data / "vqa.json"), out=str(tmp_path / "vqa"), backend="geometric",
                              video_root=str(data), n_boot=50, report=False))
    m = res.metrics
    assert m["n_vqa"] == m["n"] > 0 and m["vqa_accuracy"] is not None
    assert set(m["per_skill"]) and all(s["n"] > 0 for s in m["per_skill"].values())
    assert m["n_binary"] == 0 and m["mean_ap"] is None


@pytest.mark.slow
def test_killed_run_then_partial_failure_then_resume_retries_to_the_uninterrupted_items(data, tmp_path):
    """Killed after its third group (CAMREASONER_CRASH_AT), resumed while one clip is missing (its
    items fail), resumed again with the clip back: the records equal those of an uninterrupted run."""
    root = tmp_path / "root"
    (root / "clips").mkdir(parents=True)
    clips = sorted((data / "clips").glob("*.mp4"))
    for clip in clips:
        (root / "clips" / clip.name).symlink_to(clip)
    args = ["eval", "run", "--bench", str(data / "binary.json"), "--video-root", str(root), "--backend", "geometric",
            "--bootstrap", "50", "--no-report"]
    full = subprocess.run([CAMRE, *args, "--out", str(tmp_path / "full")], capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr
    gone = root / "clips" / clips[-1].name
    gone.unlink()
    cut = [CAMRE, *args, "--out", str(tmp_path / "cut")]
    env = {**os.environ, CRASH_AT_ENV: "eval-recorded:3"}
    killed = subprocess.run(cut, capture_output=True, text=True, timeout=300, env=env)
    assert killed.returncode == -signal.SIGKILL
    pred = tmp_path / "cut" / "predictions.jsonl"
    first = read_predictions(pred)
    per_clip = len(first) // 3  # the missing clip's error records first, then two clips answered
    assert len(first) == 3 * per_clip and sum(bool(r["error"]) for r in first) == per_clip
    assert not (tmp_path / "cut" / "metrics.json").exists()
    partial = subprocess.run([*cut, "--resume"], capture_output=True, text=True, timeout=300)
    assert partial.returncode == 0, partial.stderr
    assert f"({len(first) - per_clip} resumed," in partial.stdout  # the failed items are not kept as done
    assert json.loads((tmp_path / "cut" / "metrics.json").read_text())["n_errors"] == per_clip
    gone.symlink_to(clips[-1])
    again = subprocess.run([*cut, "--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    total = len(records(tmp_path / "full"))
    assert f"({total - per_clip} resumed, {per_clip} answered now), 0 failed" in again.stdout
    a, b = records(tmp_path / "full"), records(tmp_path / "cut")
    assert a.keys() == b.keys()
    for k in a:
        assert {f: a[k][f] for f in SAME} == {f: b[k][f] for f in SAME}, k
    ma = json.loads((tmp_path / "full" / "metrics.json").read_text())
    mb = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert ma["per_primitive"] == mb["per_primitive"] and ma["mean_ap_ci"] == mb["mean_ap_ci"]
