"""Figures no backend can game: strict AP, clip bootstrap, resume that retries failures, runs that fail loudly."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from eval_backends import reset, write_noisy_bench
from sklearn.metrics import average_precision_score
from test_eval_pairs import official_ap

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.evaluate.metrics import BinaryItem, binary_metrics, bootstrap_cis
from camreasoner.evaluate.runner import EvalConfig, run_eval
from camreasoner.formats.predictions import read_predictions
from camreasoner.formats.questions import binary_question, write_questions

CAMRE = str(Path(sys.executable).with_name("camreasoner"))
PRIMS = PRIMITIVES[1:9]  # 8 questions per clip, as CameraBench asks about a clip several times


@pytest.fixture
def scripted(tmp_path):
    """40 clips x 8 binary questions, and a table of noisy P(Yes) for the scripted backend."""
    truth = write_noisy_bench(tmp_path, 40, PRIMS, seed=5, yes_rate=0.3, signal=0.35)
    table = (tmp_path / "table.json").read_text()
    (tmp_path / "table2.json").write_text(table)
    reset()
    return tmp_path, truth


def cfg(b, out, **kw):
    return EvalConfig(bench=str(b / "bench.json"), out=str(b / out), backend="scripted",
                      backend_options=kw.pop("backend_options", {"model": str(b / "table.json")}), n_boot=200,
                      report=False, **kw)


def test_failing_on_half_the_positives_may_raise_mean_ap_but_lowers_mean_ap_strict(scripted):
    b, truth = scripted
    clean = run_eval(cfg(b, "clean")).metrics
    # Fail on the half of each primitive's positives that the backend scores lowest (the hard ones).
    fail = set()
    for q in {q for _, q in truth}:
        pos = sorted((s, v) for (v, qq), (y, s) in truth.items() if qq == q and y)
        fail |= {(v, q) for _, v in pos[: len(pos) // 2]}
    reset(fail=fail)
    gamed = run_eval(cfg(b, "gamed", max_error_rate=1.0))
    m = gamed.metrics
    assert m["n_errors"] == m["n_binary_failed"] == len(fail) > 0
    assert m["mean_ap"] > clean["mean_ap"]  # leaving errors out rewards failing on hard positives
    assert m["mean_ap_strict"] < clean["mean_ap_strict"] == clean["mean_ap"]
    # The official evaluator's rules on our score files give our mean_ap (errors left out).
    theirs = official_ap(b / "gamed" / "scores")
    assert set(theirs) == set(PRIMS)
    for name, ap in theirs.items():
        assert m["per_primitive"][name]["ap"] == pytest.approx(ap, abs=1e-12)
    assert m["mean_ap"] == pytest.approx(np.mean(list(theirs.values())), abs=1e-12)
    # Strict AP: the failed items scored 0, recomputed with scikit-learn.
    recs = [r for r in read_predictions(b / "gamed" / "predictions.jsonl") if r["primitive"] == PRIMS[0]]
    y = [r["answer"] == "B" for r in recs]
    s = [0.0 if r["score"] is None else r["score"] for r in recs]
    assert m["per_primitive"][PRIMS[0]]["ap_strict"] == pytest.approx(average_precision_score(y, s))
    report = gamed.out / "metrics.json"
    assert json.loads(report.read_text())["mean_ap_strict"] == m["mean_ap_strict"]


def test_a_primitive_whose_failures_leave_one_class_scores_as_the_official_tool_scores_it(scripted):
    """All positives of one primitive fail, all negatives of another, every item of a third: the
    official rule gives AP 0.0 to the first two and leaves the third out; so does our mean_ap."""
    b, truth = scripted
    no_pos, no_neg, gone = (binary_question(p, "clips/c0.mp4", True, 0).question for p in PRIMS[:3])
    fail = {(v, q) for (v, q), (yes, _) in truth.items()
            if (q == no_pos and yes) or (q == no_neg and not yes) or q == gone}
    reset(fail=fail)
    m = run_eval(cfg(b, "one_class", max_error_rate=1.0)).metrics
    theirs = official_ap(b / "one_class" / "scores")
    per = m["per_primitive"]
    assert per[PRIMS[0]]["ap"] == theirs[PRIMS[0]] == 0.0 and per[PRIMS[1]]["ap"] == theirs[PRIMS[1]] == 0.0
    assert per[PRIMS[2]]["ap"] is None and PRIMS[2] not in theirs
    assert m["mean_ap"] == pytest.approx(np.mean(list(theirs.values())), abs=1e-12)
    assert m["mean_ap_ci"][0] <= m["mean_ap"] <= m["mean_ap_ci"][1]
    # Strict: a failed item scores 0, a score any backend could have given, so failing never beats answering.
    recs = read_predictions(b / "one_class" / "predictions.jsonl")
    for p in PRIMS[:3]:
        rs = [r for r in recs if r["primitive"] == p]
        y, s = [r["answer"] == "B" for r in rs], [r["score"] or 0.0 for r in rs]
        assert per[p]["ap_strict"] == pytest.approx(average_precision_score(y, s), abs=1e-12)


def correlated_items(n_clips=120, seed=0):
    """CameraBench-shaped data: 8 questions per clip whose scores share a strong per-clip offset."""
    rng = np.random.default_rng(seed)
    items = []
    for c in range(n_clips):
        offset = rng.normal(0.0, 0.3)  # how the backend sees this clip: all its answers move together
        for p in PRIMS:
            yes = bool(rng.random() < 0.25)
            score = 0.3 * yes + offset + 0.1 * rng.normal()
            items.append(BinaryItem(p, yes, score > 0.3, float(score), clip=f"c{c}"))
    return items


def test_clip_bootstrap_is_wider_than_item_bootstrap_on_correlated_questions():
    items = correlated_items()
    by = {}
    for it in items:
        by.setdefault(it.primitive, []).append(it)
    clip = bootstrap_cis(by, n_boot=1000, seed=0, unit="clip")
    item = bootstrap_cis(by, n_boot=1000, seed=0, unit="item")
    for key in ("mean_ap_ci", "balanced_accuracy_ci"):
        w_clip = clip[key][1] - clip[key][0]
        w_item = item[key][1] - item[key][0]
        assert w_clip > 1.15 * w_item, (key, w_clip, w_item)
    # metrics.json's intervals (and so the report's verdict) are the clip ones.
    m = binary_metrics(items, n_boot=1000, seed=0)
    assert m["ci_unit"] == "clip" and m["n_clips"] == 120
    assert m["mean_ap_ci"] == clip["mean_ap_ci"] and m["balanced_accuracy_ci"] == clip["balanced_accuracy_ci"]


def test_stopped_run_then_failures_then_resume_retries_the_failed_items(scripted):
    b, truth = scripted
    full = run_eval(cfg(b, "full"))
    # 1. The run stops after 100 answers (as a killed process would): 96 records (whole groups).
    reset(stop_after=100)
    with pytest.raises(KeyboardInterrupt):
        run_eval(cfg(b, "cut"))
    first = read_predictions(b / "cut" / "predictions.jsonl")
    assert 0 < len(first) < 320 and not (b / "cut" / "metrics.json").exists()
    # 2. Resumed while the server fails on part of the items: they are recorded as errors.
    flaky = {k for k in list(truth)[::7]}
    reset(fail=flaky)
    second = run_eval(cfg(b, "cut", resume=True))
    assert second.n_done_before == len(first)
    n_failed = second.metrics["n_errors"]
    assert 0 < n_failed and second.problem is None  # under --max-error-rate 0.5
    # 3. Resumed with the server back: exactly the failed items are answered again.
    reset()
    third = run_eval(cfg(b, "cut", resume=True))
    assert third.n_answered == n_failed and third.n_done_before == 320 - n_failed
    recs = read_predictions(b / "cut" / "predictions.jsonl")
    assert len(recs) == len({r["key"] for r in recs}) == 320
    a = {r["key"]: r for r in read_predictions(b / "full" / "predictions.jsonl")}
    for r in recs:
        assert (r["score"], r["letter"], r["error"]) == (a[r["key"]]["score"], a[r["key"]]["letter"], None)
    assert third.metrics["per_primitive"] == full.metrics["per_primitive"]
    assert third.metrics["mean_ap_ci"] == full.metrics["mean_ap_ci"]


def test_resume_with_another_model_or_option_is_refused_in_one_line(scripted):
    b, _ = scripted
    run_eval(cfg(b, "o", limit=10))
    with pytest.raises(CamReasonerError, match="model was"):
        run_eval(cfg(b, "o", resume=True, backend_options={"model": str(b / "table2.json")}))
    with pytest.raises(CamReasonerError, match="option temperature was None, now 0.7"):
        run_eval(cfg(b, "o", resume=True, backend_options={"model": str(b / "table.json"), "temperature": 0.7}))
    (b / "v" / "clips").mkdir(parents=True)
    for c in range(40):
        (b / "v" / "clips" / f"c{c}.mp4").write_bytes(b"")  # the scripted backend never opens them
    with pytest.raises(CamReasonerError, match="video_root was None"):
        run_eval(cfg(b, "o", resume=True, video_root=str(b / "v")))
    # Transport options may change.
    run_eval(cfg(b, "o", resume=True, backend_options={"model": str(b / "table.json"), "timeout": 5}))
    # From the command line: one line, exit 2, nothing answered.
    labels = b / "labels.json"
    write_questions(labels, [binary_question("Move_In", "clips/c0.mp4", True, 0)])
    args = ["eval", "run", "--bench", str(b / "bench.json"), "--backend", "prior", "--out", str(b / "p"),
            "--bootstrap", "20", "--no-report", "--max-error-rate", "1"]
    assert subprocess.run([CAMRE, *args, "--model", str(labels), "--limit", "5"], capture_output=True).returncode == 0
    p = subprocess.run([CAMRE, *args, "--model", str(b / "bench.json"), "--resume"], capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "--resume of a different run (model was" in p.stderr


def test_exit_1_when_no_item_succeeded_or_too_many_failed(scripted):
    b, _ = scripted
    only_pan = b / "pan.json"  # the prior knows Move_In only: the other primitives' items fail
    write_questions(only_pan, [binary_question("Move_In", "clips/c0.mp4", True, 0)])
    args = ["eval", "run", "--bench", str(b / "bench.json"), "--backend", "prior", "--model", str(only_pan),
            "--bootstrap", "20", "--no-report"]
    p = subprocess.run([CAMRE, *args, "--out", str(b / "x")], capture_output=True, text=True)
    assert p.returncode == 1 and "280 of 320 items failed (87.5%), more than --max-error-rate 50%" in p.stderr
    assert (b / "x" / "metrics.json").is_file()  # the figures are still written
    p = subprocess.run([CAMRE, *args, "--out", str(b / "y"), "--max-error-rate", "0.9"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    write_questions(only_pan, [binary_question("Static", "clips/c0.mp4", True, 0)])
    p = subprocess.run([CAMRE, *args, "--out", str(b / "z"), "--max-error-rate", "1"], capture_output=True, text=True)
    assert p.returncode == 1 and "no item succeeded: all 320 of 320 items failed" in p.stderr
