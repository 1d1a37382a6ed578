"""camreasoner label with a question-answering backend (baselines, the tiny Qwen2.5-VL), shot spans
for the backends, a backend on Ray, and the shots of one video as separate suite clips."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from label_fixtures import make_library

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.label import LabelOptions, run_label
from camreasoner.video.sampling import VideoSampling, sample_video

CLI = str(Path(sys.executable).parent / "camreasoner")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return make_library(tmp_path_factory.mktemp("labellib"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=600, env=dict(os.environ))


def _rows(out: Path) -> list[dict]:
    return pq.read_table(out / "shots.parquet").to_pylist()


def test_always_no_labels_every_shot_no_and_a_resume_with_another_backend_is_refused(library, tmp_path):
    out = tmp_path / "run"
    res = cli("label", str(library["lib"]), "--out", str(out), "--backend", "always-no", "--quiet")
    assert res.returncode == 0, res.stderr
    rows = _rows(out)
    assert len(rows) == 4 and {r["video"] for r in rows} == {str(p) for p in library["lib"].rglob("*.mp4")}
    for r in rows:
        assert r["primitives"] == dict.fromkeys(PRIMITIVES, False) and set(r["scores"].values()) == {0.0}
        assert r["backend"] == "always-no" and r["cmotion"] == "unknown" and r["answer"] == "None"
        assert "baseline" in r["observation"] and r["segments"] and json.loads(r["measurements"])
    cut = [r for r in rows if r["video"].endswith("cut.mp4")]
    assert [r["shot"] for r in cut] == [0, 1]  # shots and timeline still come from the observer
    run = json.loads((out / "work" / "run.json").read_text())
    assert run["options"]["backend"] == "always-no"
    other = cli("label", str(library["lib"]), "--out", str(out), "--quiet")
    assert other.returncode == 2 and "other options (backend: 'always-no' before, 'geometric' now)" in other.stderr
    two = cli("label", str(library["lib"]), "--out", str(tmp_path / "w2"), "--backend", "always-no", "--workers", "2",
              "--quiet")
    assert two.returncode == 0, two.stderr
    assert _rows(tmp_path / "w2") == rows  # each worker builds its own backend


def test_a_prior_run_records_its_model_and_refuses_another(library, tmp_path):
    labels = library["lib"].parent / "synth" / "labels.jsonl"
    other = tmp_path / "other.jsonl"  # knows Pan_Left only: the prior backend fails on the 14 other questions
    other.write_text(json.dumps({"path": "x.mp4", "primitives": {**dict.fromkeys(PRIMITIVES), "Pan_Left": True}}) + "\n")
    out = tmp_path / "run"
    res = cli("label", str(library["a"]), "--out", str(out), "--backend", "prior", "--model", str(labels), "--quiet")
    assert res.returncode == 0, res.stderr
    assert json.loads((out / "label.json").read_text())["options"]["backend_options"] == {"model": str(labels)}
    again = cli("label", str(library["a"]), "--out", str(out), "--backend", "prior", "--model", str(other), "--quiet")
    assert again.returncode == 2 and "other options (backend_options" in again.stderr
    out2 = tmp_path / "run2"
    res = cli("label", str(library["a"]), "--out", str(out2), "--backend", "prior", "--model", str(other), "--quiet")
    assert res.returncode == 0, res.stderr
    (row,) = _rows(out2)
    assert row["primitives"] == {**dict.fromkeys(PRIMITIVES), "Pan_Left": True} and row["cmotion"] == "pan left"
    assert row["scores"]["Pan_Left"] == 1.0 and row["scores"]["Static"] is None
    assert sum("no Yes rate" in w for w in row["warnings"]) == 14
    assert cli("view", str(out2)).returncode == 0  # unknown primitives without a score on the page
    page = (out2 / "index.html").read_text()
    assert "Pan_Left 1.00</span>" in page and "Static?</span>" in page
    missing = cli("label", str(library["a"]), "--out", str(tmp_path / "r2"), "--backend", "prior", "--quiet")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "--model" in missing.stderr
    unknown = cli("label", str(library["a"]), "--out", str(tmp_path / "r3"), "--backend", "nope")
    assert unknown.returncode == 2 and "always-no" in unknown.stderr


def test_sampling_a_span_keeps_its_frames_inside_it(library):
    whole = sample_video(library["cut"], VideoSampling(fps=4.0))
    part = sample_video(library["cut"], VideoSampling(fps=4.0), start=2.0, end=3.5)
    assert whole.duration == pytest.approx(4.0, abs=0.1) and part.duration == pytest.approx(1.5)
    assert all(2.0 <= t <= 3.5 for t in part.times) and len(part.frames) == 6
    assert any(t < 2.0 for t in whole.times)


def test_the_tiny_vlm_labels_a_clip_from_its_answers(library, tiny_model_dir, tmp_path):
    from camreasoner.backends import get_backend
    from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS, YES_LETTER
    from camreasoner.core.types import BackendItem

    small = {"model": str(tiny_model_dir), "max_pixels": 64 * 28 * 28, "max_new_tokens": 12, "batch_size": 8}
    out = tmp_path / "hf"
    res = run_label([str(library["cut"])], out, LabelOptions(backend="hf", backend_options=small, progress=False))
    assert res.failed == 0
    rows = _rows(out)
    assert [r["shot"] for r in rows] == [0, 1] and all(r["backend"] == "hf" for r in rows)
    direct = get_backend("hf", **small).answer(
        [BackendItem(str(library["cut"]), QUESTIONS[p], BINARY_OPTIONS, p, rows[1]["start"]) for p in PRIMITIVES])
    for p, resp in zip(PRIMITIVES, direct, strict=True):  # the second shot was asked about its own span
        assert rows[1]["scores"][p] == pytest.approx(resp.option_probs[YES_LETTER], abs=1e-4)
        assert rows[1]["primitives"][p] == (rows[1]["scores"][p] >= 0.5)
    assert rows[0]["scores"] != rows[1]["scores"]
    assert json.loads((out / "work" / "run.json").read_text())["options"]["backend_options"]["model"] == str(
        tiny_model_dir)


def test_suite_build_measures_each_shot_of_one_video_on_its_own_span(tmp_path):
    """A pan shot then a zoom shot in one file: label finds both, suite build measures each span."""
    import av

    from camreasoner.synth.dataset import generate_dataset
    from camreasoner.synth.writer import write_mp4

    frames = []
    for name in ("Pan_Left", "Zoom_In"):
        generate_dataset(tmp_path / name, 1, 3, size=(160, 120), fps=12.0, seconds=2.0, progress=False,
                         primitives=[name], max_combo=1, distractors=0.0, recipes=["single"], effects=False)
        (clip,) = (tmp_path / name / "clips").glob("*.mp4")
        with av.open(str(clip)) as c:
            frames += [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    videos = tmp_path / "videos"
    videos.mkdir()
    write_mp4(videos / "two.mp4", frames, 12.0)
    res = cli("label", str(videos), "--out", str(tmp_path / "lab"), "--quiet")
    assert res.returncode == 0, res.stderr
    shots = [json.loads(x) for x in (tmp_path / "lab" / "labels.jsonl").read_text().splitlines()]
    assert [s["shot"] for s in shots] == [0, 1] and abs(shots[1]["start"] - 2.0) <= 0.2
    assert shots[0]["primitives"]["Pan_Left"] and shots[1]["primitives"]["Zoom_In"]
    suite = tmp_path / "suite"
    res = cli("suite", "build", "--labels", str(tmp_path / "lab" / "labels.jsonl"), "--video-root", str(videos),
              "--out", str(suite), "--sft", "0", "--rl", "30", "--augment", "none", "--no-progress")
    assert res.returncode == 0, res.stderr
    from camreasoner.suite.build import iter_rows

    measured: dict[str, dict] = {}
    for row in iter_rows(suite, "rl"):
        assert row["clip"] == "two.mp4"  # both shots of the video share its split
        measured[row["video"]] = json.loads(row["measured"])
    assert len(measured) == 2  # one suite clip per shot, each cut to its span
    pan, zoom = (measured[v] for v in sorted(measured))
    assert pan["Pan_Left"] and not pan["Zoom_In"] and zoom["Zoom_In"] and not zoom["Pan_Left"]


@pytest.mark.slow
def test_ray_local_with_a_backend_gives_the_in_process_rows(library, tmp_path):
    videos = [str(library["a"]), str(library["cut"])]
    ref = tmp_path / "local"
    assert run_label(videos, ref, LabelOptions(backend="always-no", progress=False)).failed == 0
    ray = cli("label", *videos, "--out", str(tmp_path / "ray"), "--backend", "always-no", "--ray-address", "local",
              "--workers", "2", "--quiet")
    assert ray.returncode == 0, ray.stderr
    rows = _rows(ref)
    assert len(rows) == 3 and {r["backend"] for r in rows} == {"always-no"}
    assert _rows(tmp_path / "ray") == rows  # each Ray task builds the backend from the run's options
    assert json.loads((tmp_path / "ray" / "work" / "run.json").read_text()) == json.loads(
        (ref / "work" / "run.json").read_text())
