"""`camreasoner eval` end to end with the real baseline backends: files, resume, errors, workers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from camreasoner.cli.app import app
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.evaluate.runner import EvalConfig, run_eval
from camreasoner.formats.labels import ClipLabel, write_labels
from camreasoner.formats.predictions import read_predictions
from camreasoner.formats.questions import binary_question, write_questions
from camreasoner.testing.sample_clips import available_clips

CAMRE = str(Path(sys.executable).with_name("camreasoner"))


@pytest.fixture
def bench(tmp_path):
    """Six clips x 15 binary questions; videos are real sample clips linked under tmp/videos."""
    clips = list(available_clips().values())
    assert clips, "no sample clips on this machine"
    root = tmp_path / "videos"
    (root / "clips").mkdir(parents=True)
    labels, questions = [], []
    for c in range(6):
        rel = f"clips/c{c}{clips[c % len(clips)].suffix}"
        os.symlink(clips[c % len(clips)], root / rel)
        truth = {p: False for p in PRIMITIVES}
        truth[PRIMITIVES[1 + c % 14]] = True
        labels.append(ClipLabel(rel, truth))
        questions += [binary_question(p, rel, truth[p], len(questions) + 1) for p in PRIMITIVES]
    write_questions(tmp_path / "bench.json", questions)
    write_labels(tmp_path / "labels.jsonl", labels)
    return tmp_path


def cfg(b, out, backend="always-no", **kw):
    return EvalConfig(bench=str(b / "bench.json"), out=str(b / out), backend=backend,
                      video_root=str(b / "videos"), n_boot=50, **kw)


def by_key(out):
    recs = read_predictions(Path(out) / "predictions.jsonl")
    keys = [r["key"] for r in recs]
    assert len(keys) == len(set(keys)), "duplicated items"
    return {r["key"]: r for r in recs}


SAME = ("letter", "score", "correct", "error", "option_probs", "answer", "video")


def test_outputs_and_keys(bench):
    res = run_eval(cfg(bench, "no"))
    out = bench / "no"
    m = json.loads((out / "metrics.json").read_text())
    for key in ("n", "n_errors", "accuracy", "balanced_accuracy", "macro_f1", "mean_ap", "mean_roc_auc",
                "majority_baseline_accuracy", "format_error_rate", "mean_ap_ci", "balanced_accuracy_ci",
                "per_primitive"):
        assert key in m
    assert set(m["per_primitive"]["Pan_Left"]) >= {"n", "n_yes", "accuracy", "balanced_accuracy", "ap", "roc_auc", "f1"}
    assert m["n"] == 90 and m["n_errors"] == 0 and m["accuracy"] == pytest.approx(84 / 90)
    assert m["accuracy"] == m["majority_baseline_accuracy"] and m["format_error_rate"] == 0.0
    scores = json.loads((out / "scores.json").read_text())
    assert scores["metadata"]["num_samples"] == 90
    e = scores["scores"][0]
    assert set(e) == {"sample_id", "video_path", "question", "ground_truth_label", "score", "error"}
    assert e["ground_truth_label"] in ("Yes", "No") and e["score"] == 0.0
    report = (out / "report.md").read_text()
    assert "majority baseline" in report and "Cam-Motion-7B" in report
    assert (out / "report.html").read_text().count("data:image/png;base64") == 3
    assert res.n_answered == 90


def test_limit_then_resume_equals_uninterrupted_run(bench):
    full = run_eval(cfg(bench, "full", backend="prior", backend_options={"model": str(bench / "labels.jsonl")}))
    part = run_eval(cfg(bench, "part", backend="prior", backend_options={"model": str(bench / "labels.jsonl")}, limit=20))
    assert part.metrics["n"] == 20 and len(by_key(bench / "part")) == 20
    # Simulate a kill in the middle of writing a record: a torn last line.
    with open(bench / "part" / "predictions.jsonl", "a") as fh:
        fh.write('{"key": "77:Pan_Le')
    again = run_eval(cfg(bench, "part", backend="prior", backend_options={"model": str(bench / "labels.jsonl")}, resume=True))
    assert again.n_done_before == 20 and again.n_answered == 70
    a, b = by_key(bench / "full"), by_key(bench / "part")
    assert a.keys() == b.keys() and len(a) == 90
    for k in a:
        assert {f: a[k][f] for f in SAME} == {f: b[k][f] for f in SAME}, k
    ma, mb = full.metrics, again.metrics
    for key in ("accuracy", "mean_ap", "balanced_accuracy", "mean_ap_ci", "per_primitive"):
        assert ma[key] == mb[key]
    # A second resume has nothing left to do and duplicates nothing.
    assert run_eval(cfg(bench, "part", backend="prior", backend_options={"model": str(bench / "labels.jsonl")}, resume=True)).n_answered == 0
    assert len(by_key(bench / "part")) == 90


def test_existing_output_needs_resume_and_same_bench(bench):
    run_eval(cfg(bench, "o", limit=5))
    with pytest.raises(CamReasonerError, match="--resume"):
        run_eval(cfg(bench, "o"))
    with pytest.raises(CamReasonerError, match="different run"):
        run_eval(cfg(bench, "o", backend="always-yes", resume=True))


def test_missing_video_is_counted_and_listed(bench):
    os.unlink(bench / "videos" / "clips" / sorted(os.listdir(bench / "videos" / "clips"))[0])
    res = run_eval(cfg(bench, "miss"))
    assert res.metrics["n"] == 90 and res.metrics["n_errors"] == 15
    errs = [r for r in by_key(bench / "miss").values() if r["error"]]
    assert len(errs) == 15 and all("missing video" in r["error"] for r in errs)
    assert all(r["correct"] is False for r in errs)
    assert "Failed items (15 items, 1 videos)" in (bench / "miss" / "report.md").read_text()


def test_workers_give_the_same_items(bench):
    one = run_eval(cfg(bench, "w1", backend="always-yes"))
    two = run_eval(cfg(bench, "w2", backend="always-yes", workers=2))
    a, b = by_key(bench / "w1"), by_key(bench / "w2")
    assert a.keys() == b.keys()
    for k in a:
        assert {f: a[k][f] for f in SAME} == {f: b[k][f] for f in SAME}
    assert one.metrics["per_primitive"] == two.metrics["per_primitive"]
    assert one.metrics["mean_ap"] == pytest.approx(one.metrics["mean_yes_rate"])


def test_no_video_root_only_for_backends_that_ignore_videos(bench):
    res = run_eval(EvalConfig(bench=str(bench / "bench.json"), out=str(bench / "nv"), backend="always-no", n_boot=20))
    assert res.metrics["n_errors"] == 0
    with pytest.raises(CamReasonerError, match="--video-root"):
        run_eval(EvalConfig(bench=str(bench / "bench.json"), out=str(bench / "nv2"), backend="geometric"))


def run_cli(*args):
    return subprocess.run([CAMRE, *args], capture_output=True, text=True, timeout=120)


def test_cli_wrong_video_root_and_malformed_item_fail_in_one_line(bench, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    p = run_cli("eval", "run", "--bench", str(bench / "bench.json"), "--video-root", str(empty),
                "--backend", "always-no", "--out", str(tmp_path / "x"))
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1 and "matches none of the 6 videos" in p.stderr
    assert not (tmp_path / "x").exists()
    items = json.loads((bench / "bench.json").read_text())
    del items[3]["options"]
    (tmp_path / "bad.json").write_text(json.dumps(items))
    p = run_cli("eval", "run", "--bench", str(tmp_path / "bad.json"), "--backend", "always-no", "--out", str(tmp_path / "y"))
    assert p.returncode == 2 and p.stderr.count("\n") == 1
    assert "item 3" in p.stderr and "'options'" in p.stderr and "Traceback" not in p.stderr


def test_cli_eval_and_compare(bench):
    r = CliRunner()
    for backend in ("always-no", "always-yes"):
        res = r.invoke(app, ["eval", "run", "--bench", str(bench / "bench.json"), "--video-root", str(bench / "videos"),
                             "--backend", backend, "--out", str(bench / backend), "--bootstrap", "20", "--no-report"])
        assert res.exit_code == 0, res.output
        assert "majority baseline" in res.output
    res = r.invoke(app, ["eval", "compare", str(bench / "always-no"), str(bench / "always-yes")])
    assert res.exit_code == 0, res.output
    assert "always-no" in res.output and "always-yes" in res.output and "mean AP" in res.output
    assert "mean AP strict" in res.output and "failed binary items" in res.output
    assert "93.3%" in res.output and "6.7%" in res.output  # accuracy of always-no / always-yes
    res = r.invoke(app, ["eval", "run", "--bench", str(bench / "bench.json")])
    assert res.exit_code == 2 and "--backend" in res.output  # a usage error
    res = r.invoke(app, ["eval", "run", "--bench", str(bench / "bench.json"), "--backend", "nope", "--out", "x"])
    assert res.exit_code == 2 and "always-no" in res.output  # the choices come from the registry
    res = r.invoke(app, ["eval"])
    assert "run" in res.output and "compare" in res.output  # bare eval prints help


def test_camerabench_jsonl_test_format(bench, tmp_path):
    lines = [{"image": "clips/c0.mp4", "question": "Does the camera pan to the left?\nAnswer Yes or No.",
              "label": "Yes", "task": "binary", "label_name": "Pan_Left"},
             {"image": "clips/c1.mp4", "question": "Does the camera pan to the left?", "label": "No",
              "task": "binary", "label_name": "Pan_Left"},
             {"image": "clips/c1.mp4", "question": "Does the camera zoom in?", "label": 0, "task": "binary",
              "label_name": "Zoom_In"}]
    (tmp_path / "test.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    res = run_eval(EvalConfig(bench=str(tmp_path / "test.jsonl"), out=str(tmp_path / "j"), backend="always-no",
                              video_root=str(bench / "videos"), n_boot=20))
    m = res.metrics
    assert m["n"] == 3 and m["accuracy"] == pytest.approx(2 / 3)
    assert set(m["per_primitive"]) == {"Pan_Left", "Zoom_In"} and m["per_primitive"]["Pan_Left"]["n_yes"] == 1
