"""The human-readable report: official and strict mean AP side by side, VQA-pair figures, anchors by metric."""

import json
import re

import pytest
from eval_backends import reset, table_key, write_noisy_bench
from test_eval_pairs import write_pairs

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.evaluate.report import SAME_METRIC, anchor_rows, ap_anchors, load_anchors
from camreasoner.evaluate.runner import EvalConfig, run_eval

PRIMS = PRIMITIVES[1:5]


def table_after(report: str, heading: str, nth: int = 0) -> list[list[str]]:
    """The cells of the ``nth`` Markdown table after ``heading`` (header row first)."""
    tables: list[list[list[str]]] = [[]]
    for line in report.split(heading, 1)[1].splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|") and not line.startswith("|---"):
            tables[-1].append([c.strip() for c in line.strip("|").split(" | ")])
        elif tables[-1] and not line.startswith("|"):
            tables.append([])
    return tables[nth]


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


@pytest.fixture
def failing_run(tmp_path):
    """30 clips x 4 binary questions; the backend fails on the lower-scored half of the positives."""
    truth = write_noisy_bench(tmp_path, 30, PRIMS, seed=3, yes_rate=0.35, signal=0.3)
    fail = {key for key, (yes, score) in truth.items() if yes and score < 0.6}
    reset(fail=fail)
    res = run_eval(EvalConfig(bench=str(tmp_path / "bench.json"), out=str(tmp_path / "run"), backend="scripted",
                              backend_options={"model": str(tmp_path / "table.json")}, n_boot=100,
                              max_error_rate=1.0))
    reset()
    return res, (tmp_path / "run" / "report.md").read_text()


def test_report_shows_mean_ap_and_strict_side_by_side_with_the_failed_count(failing_run):
    res, report = failing_run
    m = res.metrics
    assert m["n_binary_failed"] > 0 and m["mean_ap_strict"] < m["mean_ap"]
    head, row = table_after(report, "## Mean AP, official and strict")
    assert head[0].startswith("mean AP (failed items left out") and head[1].startswith("mean AP strict")
    assert row[0].startswith(pct(m["mean_ap"]) + " (95% CI")
    assert row[1].startswith(pct(m["mean_ap_strict"]) + " (95% CI")
    assert row[2:] == [str(m["n_binary_failed"]), str(m["n_binary"])]
    assert f"Mean AP leaves the {m['n_binary_failed']} failed binary items out" in report
    assert f"(mean AP strict) it is {pct(m['mean_ap_strict'])}%" in report
    per = {r[0]: r for r in table_after(report, "## Per primitive")}
    head = per.pop("primitive")
    for p in PRIMS:
        cells = dict(zip(head, per[p], strict=True))
        pm = m["per_primitive"][p]
        assert (cells["failed"], cells["AP"], cells["AP strict"]) == (str(pm["n_failed"]), pct(pm["ap"]),
                                                                      pct(pm["ap_strict"]))


def test_an_accuracy_anchor_never_sits_beside_an_ap_and_an_ap_never_beside_an_accuracy(failing_run):
    res, report = failing_run
    m = res.metrics
    assert m["mean_ap"] != m["binary_accuracy"]
    rows = table_after(report, "## Published anchors")
    head = rows.pop(0)
    assert head == ["task", "metric", "model", "published", "this run", "source"]
    anchors = load_anchors()["anchors"]
    assert len(rows) == len(anchors)
    for a in anchors:
        (row,) = [r for r in rows if r[2] == a["model"] and r[3] == f"{a['value']:.1f}" and r[0] == a["task"]]
        label, figure = SAME_METRIC[(a["task"], a["metric"])]
        assert row[1] == label
        ours = figure(m)
        assert row[4] == ("–" if ours is None else pct(ours))
        if a["metric"] == "accuracy":
            assert "AP" not in row[1] and row[4] != pct(m["mean_ap"])
        if a["metric"] == "ap":
            assert "accuracy" not in row[1] and row[4] == pct(m["mean_ap"])
    camreasoner = [r for r in rows if r[2] == "CamReasoner-7B"]
    assert {r[3] for r in camreasoner} == {"78.4", "74.5"} and all("accuracy" in r[1] for r in camreasoner)
    # The per-primitive table holds AP anchors only; CamReasoner published accuracies, not per-primitive AP.
    per_head = table_after(report, "## Per primitive")[0]
    assert [h for h in per_head if h.endswith("*")] == [f"AP {model}*" for model in ap_anchors(load_anchors())]
    assert "CamReasoner" not in " ".join(per_head)
    # The paper that sets its accuracy beside AP-style figures is named in a note.
    assert re.search(r"Note \(CamReasoner-7B, binary accuracy\): CamReasoner's Table 1 .*different metrics", report)


def test_every_anchor_names_its_metric_task_and_source():
    anchors = load_anchors()
    for a in anchors["anchors"]:
        assert a["metric"] in anchors["metrics"] and a["task"] in anchors["tasks"], a
        assert (a["task"], a["metric"]) in SAME_METRIC and a["source"].strip() and a["model"] in anchors["models"]
    by = {(a["model"], a["task"], a["metric"]): a["value"] for a in anchors["anchors"]}
    assert by[("CamReasoner-7B", "binary", "accuracy")] == 78.4
    assert by[("CamReasoner-7B", "vqa_choice", "accuracy")] == 74.5
    assert by[("Cam-Motion-7B", "binary", "ap")] == 59.3
    bad = {"anchors": [{"model": "X", "task": "binary", "metric": "f1", "value": 1.0, "source": "s"}]}
    with pytest.raises(ValueError, match="no figure of ours for task 'binary', metric 'f1'"):
        anchor_rows({}, bad)


def test_report_of_a_vqa_pair_bench_shows_the_pair_metrics(tmp_path):
    vqa = tmp_path / "vqa_and_retrieval"
    write_pairs(vqa, "has_motion", "has_pan_left", [("a.mp4", "b.mp4", "Pan left?", "No pan left?"),
                                                    ("c.mp4", "d.mp4", "Pan left?", "No pan left?")])
    # pair 1: all four right; pair 2: the negative question fools the backend on c.
    table = {("a.mp4", "Pan left?"): 0.9, ("b.mp4", "Pan left?"): 0.2, ("a.mp4", "No pan left?"): 0.1,
             ("b.mp4", "No pan left?"): 0.8, ("c.mp4", "Pan left?"): 0.7, ("d.mp4", "Pan left?"): 0.3,
             ("c.mp4", "No pan left?"): 0.6, ("d.mp4", "No pan left?"): 0.9}
    (tmp_path / "table.json").write_text(json.dumps({table_key(v, q): p for (v, q), p in table.items()}))
    reset()
    res = run_eval(EvalConfig(bench=str(vqa), out=str(tmp_path / "o"), backend="scripted",
                              backend_options={"model": str(tmp_path / "table.json")}, n_boot=20))
    report = (tmp_path / "o" / "report.md").read_text()
    assert "## VQA pairs (percent; 2 pairs in 1 task files, 0 failed)" in report
    rows = {r[0]: r[1:] for r in table_after(report, "## VQA pairs")}
    assert rows["binary accuracy (each of the 4 answers)"] == ["87.5", "87.5"]
    assert rows["Q-Acc (a question right on both videos)"] == ["75.0", "75.0"]
    assert rows["text score"][0] == rows["image score"][0] == rows["group score"][0] == "100.0"
    per = table_after(report, "## VQA pairs", nth=1)
    (task,) = [r for r in per if r[0] == "has_motion/has_pan_left"]
    assert task == ["has_motion/has_pan_left", "2", "0", "87.5", "75.0", "100.0", "100.0", "100.0"]
    anchors = {(r[1], r[2]): r[4] for r in table_after(report, "## Published anchors")[1:]}
    assert anchors[("pair binary accuracy", "Cam-Motion-7B")] == "87.5"
    assert anchors[("pair Q-Acc", "Cam-Motion-7B")] == "75.0"
    assert anchors[("mean AP", "Cam-Motion-7B")] == "–"  # no binary questions, so no AP of ours
    assert res.metrics["pairs"]["question_acc"] == 0.75
