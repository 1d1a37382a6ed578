"""CameraBench's official formats in and out: per-primitive score files its evaluator agrees with, VQA pairs."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from eval_backends import reset, table_key
from sklearn.metrics import average_precision_score

from camreasoner.core.errors import CamReasonerError
from camreasoner.evaluate.metrics import PairScores, pair_metrics
from camreasoner.evaluate.runner import EvalConfig, run_eval
from camreasoner.formats.official import read_bench
from camreasoner.testing.sample_clips import available_clips

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "camerabench" / "official"
BINARY = OFFICIAL / "binary_classification"
VQA = OFFICIAL / "vqa_and_retrieval"
needs_official = pytest.mark.skipif(not BINARY.is_dir(), reason="../shared/camerabench/official is absent")


def official_ap(score_dir: Path) -> dict[str, float]:
    """AP per score file as CameraBench's binary evaluator computes it, keyed by metadata.split_name.

    Over the entries whose ``error`` is null; a file with one class only gives 0.0; a file without
    such an entry is left out (the official tool reports "No valid scores found" and skips it).
    """
    out = {}
    for f in sorted(score_dir.glob("*.json")):
        data = json.loads(f.read_text())
        ok = [e for e in data["scores"] if e["error"] is None]
        if not ok:
            continue
        labels = np.array([1 if e["ground_truth_label"].lower() == "yes" else 0 for e in ok])
        scores = np.array([e["score"] for e in ok], dtype=float)
        name = data["metadata"]["split_name"]
        out[name] = float(average_precision_score(labels, scores)) if len(set(labels)) == 2 else 0.0
    return out


def yes_rates(folder: Path) -> dict[str, float]:
    rates = {}
    for f in folder.glob("*.jsonl"):
        labels = [json.loads(line)["label"] for line in f.read_text().splitlines() if line.strip()]
        rates[f.stem] = labels.count("Yes") / len(labels)
    return rates


@needs_official
@pytest.mark.parametrize("backend", ["always-no", "prior"])
def test_official_binary_folder_agrees_with_the_official_rules(backend, tmp_path):
    options = {"model": str(BINARY)} if backend == "prior" else {}
    res = run_eval(EvalConfig(bench=str(BINARY), out=str(tmp_path / backend), backend=backend,
                              backend_options=options, n_boot=50, report=False))
    m = res.metrics
    assert m["n"] == 7679 and m["n_errors"] == 0
    theirs = official_ap(tmp_path / backend / "scores")
    rates = yes_rates(BINARY)
    assert set(theirs) == set(rates) == set(m["per_primitive"])  # one file per primitive, named by it
    for name, ap in theirs.items():
        assert m["per_primitive"][name]["ap"] == pytest.approx(ap, abs=1e-12), name
        assert ap == pytest.approx(rates[name])  # a constant score's AP is the Yes rate
    assert m["mean_ap"] == pytest.approx(np.mean(list(theirs.values())), abs=1e-12)
    assert m["mean_ap"] == pytest.approx(np.mean(list(rates.values())))  # = the mean Yes rate
    assert m["mean_ap_strict"] == m["mean_ap"]
    meta = json.loads((tmp_path / backend / "scores" / "Pan_Left.json").read_text())["metadata"]
    assert meta["split_name"] == "Pan_Left" and meta["num_samples"] == sum(1 for _ in open(BINARY / "Pan_Left.jsonl"))


def test_one_primitive_file_with_clips_relative_to_the_video_root(tmp_path):
    clips = list(available_clips().values())
    root = tmp_path / "videos"
    root.mkdir()
    lines = []
    for k in range(4):
        os.symlink(clips[k % len(clips)], root / f"v{k}.mp4")
        lines.append({"image": f"v{k}.mp4", "question": "Does the camera pan to the left?",
                      "label": "Yes" if k == 0 else "No", "task": "Pan Left",
                      "label_name": "cam_motion.camera_centric_movement.pan_left.has_pan_left"})
    (tmp_path / "Pan_Left.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    qs = read_bench(tmp_path / "Pan_Left.jsonl")
    assert [q.primitive for q in qs] == ["Pan_Left"] * 4 and qs[0].answer == "B" and qs[1].answer == "A"
    res = run_eval(EvalConfig(bench=str(tmp_path / "Pan_Left.jsonl"), out=str(tmp_path / "o"), backend="always-no",
                              video_root=str(root), n_boot=20, report=False))
    assert res.metrics["n_errors"] == 0 and res.metrics["per_primitive"]["Pan_Left"]["ap"] == 0.25
    recs = [json.loads(line) for line in (tmp_path / "o" / "predictions.jsonl").read_text().splitlines()]
    assert recs[0]["video_path"] == str(root / "v0.mp4")
    with pytest.raises(CamReasonerError, match="matches none of the 4 videos"):
        run_eval(EvalConfig(bench=str(tmp_path / "Pan_Left.jsonl"), out=str(tmp_path / "o2"), backend="always-no",
                            video_root=str(tmp_path)))


def write_pairs(folder: Path, skill: str, task: str, pairs: list[tuple[str, str, str, str]]) -> None:
    (folder / skill).mkdir(parents=True, exist_ok=True)
    lines = [{"skill": skill, "task": task, "pos_video": pv, "neg_video": nv, "pos_question": pq,
              "neg_question": nq, "images": [pv, nv], "texts": [pq, nq]} for pv, nv, pq, nq in pairs]
    (folder / skill / f"{task}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_vqa_pairs_scored_as_camerabench_scores_them(tmp_path):
    vqa = tmp_path / "vqa_and_retrieval"
    write_pairs(vqa, "has_motion", "has_pan_left", [("a.mp4", "b.mp4", "Pan left?", "No pan left?"),
                                                    ("c.mp4", "d.mp4", "Pan left?", "No pan left?")])
    write_pairs(vqa, "confusable_motion", "pan_vs_truck", [("e.mp4", "f.mp4", "Pan?", "Truck?")])
    # P(Yes) per (video, question): pair 1 all right; pair 2 fools the negative question on c;
    # pair 3 is right on text retrieval but wrong on image retrieval.
    table = {("a.mp4", "Pan left?"): 0.9, ("b.mp4", "Pan left?"): 0.2,
             ("a.mp4", "No pan left?"): 0.1, ("b.mp4", "No pan left?"): 0.8,
             ("c.mp4", "Pan left?"): 0.7, ("d.mp4", "Pan left?"): 0.3,
             ("c.mp4", "No pan left?"): 0.6, ("d.mp4", "No pan left?"): 0.9,
             ("e.mp4", "Pan?"): 0.6, ("f.mp4", "Pan?"): 0.7,
             ("e.mp4", "Truck?"): 0.4, ("f.mp4", "Truck?"): 0.8}
    (tmp_path / "table.json").write_text(json.dumps({table_key(v, q): p for (v, q), p in table.items()}))
    reset()
    res = run_eval(EvalConfig(bench=str(vqa), out=str(tmp_path / "o"), backend="scripted",
                              backend_options={"model": str(tmp_path / "table.json")}, n_boot=20))
    p = res.metrics["pairs"]
    assert res.metrics["n"] == 12 and p["n_pairs"] == 3 and p["n_tasks"] == 2
    pan = p["per_task"]["has_motion/has_pan_left"]
    assert pan["binary_acc"] == 7 / 8 and pan["question_acc"] == 3 / 4
    assert pan["text"] == 1.0 and pan["image"] == 1.0 and pan["group"] == 1.0
    conf = p["per_task"]["confusable_motion/pan_vs_truck"]
    # e/Pan? 0.6 yes (right), f/Pan? 0.7 yes (wrong), e/Truck? 0.4 no (right), f/Truck? 0.8 yes (right)
    assert conf["binary_acc"] == 3 / 4 and conf["question_acc"] == 1 / 2
    assert conf["text"] == 1.0 and conf["image"] == 0.0 and conf["group"] == 0.0
    assert p["binary_acc"] == pytest.approx((7 / 8 + 3 / 4) / 2)  # the mean over task files
    assert p["group"] == 0.5
    # The official VQA score files carry the four P(Yes) and P(No) = 1 - P(Yes).
    entry = json.loads((tmp_path / "o" / "vqa_scores" / "has_motion__has_pan_left.json").read_text())["scores"][1]
    assert entry["yes_scores"] == {"pos_text_pos_image": 0.7, "pos_text_neg_image": 0.3,
                                   "neg_text_pos_image": 0.6, "neg_text_neg_image": 0.9}
    assert entry["no_scores"]["pos_text_pos_image"] == pytest.approx(0.3) and entry["error"] is None


def test_a_failed_pair_is_left_out_officially_and_wrong_strictly():
    good = {"pos_text_pos_image": 0.9, "pos_text_neg_image": 0.1, "neg_text_pos_image": 0.1, "neg_text_neg_image": 0.9}
    m = pair_metrics([PairScores("s", "t", good), PairScores("s", "t", None)])
    assert m["n_pairs_failed"] == 1
    assert m["group"] == 1.0 and m["group_strict"] == 0.5
    assert m["binary_acc"] == 1.0 and m["binary_acc_strict"] == 0.5


@needs_official
def test_official_vqa_folder_reads_every_pair(tmp_path):
    qs = read_bench(VQA)
    n_lines = sum(len(f.read_text().splitlines()) for f in VQA.glob("*/*.jsonl"))
    assert len(qs) == 4 * n_lines and all(q.is_binary for q in qs)
    first = [q for q in qs if q.extra["pair"] == qs[0].extra["pair"]]
    assert [q.answer for q in first] == ["B", "A", "A", "B"]
    assert first[0].path == first[2].path != first[1].path == first[3].path
