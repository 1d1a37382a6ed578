"""Metric code against scikit-learn on constructed cases, and the always-No semantics of binary.json."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    roc_auc_score,
)

from camreasoner.evaluate.metrics import (
    BinaryItem,
    ChoiceItem,
    binary_metrics,
    bootstrap_cis,
    choice_metrics,
    majority_baseline_accuracy,
    paired_gain,
    primitive_metrics,
    q_acc,
    resample_counts,
    weighted_ap,
    weighted_balanced_accuracy,
)
from camreasoner.evaluate.summary import compute_metrics
from camreasoner.formats.questions import read_questions

SHARED_BINARY = Path(__file__).resolve().parents[1] / ".." / "shared" / "camerabench" / "binary.json"


def items(name, truth, score, pred=None):
    pred = [s >= 0.5 for s in score] if pred is None else pred
    return [BinaryItem(name, bool(t), p, s) for t, s, p in zip(truth, score, pred, strict=True)]


def test_ties_match_sklearn():
    truth = [1, 0, 1, 1, 0, 0, 1, 0]
    score = [0.7, 0.7, 0.7, 0.2, 0.2, 0.9, 0.5, 0.5]  # three tie groups mixing both classes
    m = primitive_metrics(items("Pan_Left", truth, score))
    hard = [s >= 0.5 for s in score]
    assert m["ap"] == pytest.approx(average_precision_score(truth, score))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(truth, score))
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(truth, hard))
    assert m["f1"] == pytest.approx(f1_score(truth, hard))
    assert m["accuracy"] == pytest.approx(np.mean(np.array(hard) == np.array(truth, bool)))
    assert (m["n"], m["n_yes"]) == (8, 4)


def test_primitive_without_positives_is_left_out_of_means():
    no_yes = items("Zoom_In", [0, 0, 0], [0.1, 0.8, 0.3])
    normal = items("Pan_Left", [1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6])
    m = binary_metrics(no_yes + normal, n_boot=50)
    z = m["per_primitive"]["Zoom_In"]
    assert z["ap"] is None and z["roc_auc"] is None and z["balanced_accuracy"] is None and z["f1"] is None
    assert z["accuracy"] == pytest.approx(2 / 3)
    p = m["per_primitive"]["Pan_Left"]
    assert m["mean_ap"] == pytest.approx(p["ap"]) == pytest.approx(average_precision_score([1, 0, 1, 0], [0.9, 0.2, 0.4, 0.6]))
    assert m["balanced_accuracy"] == pytest.approx(p["balanced_accuracy"])
    assert m["binary_accuracy"] == pytest.approx((2 + 2) / 7)


def test_all_correct_and_all_wrong():
    truth = [1, 0, 0, 1, 0]
    good = binary_metrics(items("Tilt_Up", truth, [0.9, 0.1, 0.2, 0.8, 0.3]), n_boot=100)
    assert good["binary_accuracy"] == 1.0 and good["balanced_accuracy"] == 1.0
    assert good["mean_ap"] == 1.0 and good["mean_roc_auc"] == 1.0 and good["macro_f1"] == 1.0
    assert good["mean_ap_ci"] == [1.0, 1.0] and good["balanced_accuracy_ci"] == [1.0, 1.0]
    score = [0.1, 0.9, 0.8, 0.2, 0.7]
    bad = binary_metrics(items("Tilt_Up", truth, score), n_boot=100)
    assert bad["binary_accuracy"] == 0.0 and bad["balanced_accuracy"] == 0.0 and bad["macro_f1"] == 0.0
    assert bad["mean_roc_auc"] == 0.0
    assert bad["mean_ap"] == pytest.approx(average_precision_score(truth, score))


def test_missing_answer_counts_wrong_and_failed_item_has_no_score():
    its = [BinaryItem("Static", True, None, None), BinaryItem("Static", False, None, 0.4),
           BinaryItem("Static", True, True, 0.9), BinaryItem("Static", False, False, 0.1)]
    m = primitive_metrics(its)
    assert m["accuracy"] == 0.5 and m["balanced_accuracy"] == 0.5
    assert m["n_scored"] == 3
    assert m["ap"] == pytest.approx(average_precision_score([0, 1, 0], [0.4, 0.9, 0.1]))


def test_weighted_ap_and_balanced_accuracy_equal_sklearn_with_weights():
    rng = np.random.default_rng(0)
    for _ in range(100):
        n = int(rng.integers(2, 30))
        y = rng.random(n) < 0.3
        y[0] = True
        s = np.round(rng.random(n), 1)  # many ties
        hard = rng.random(n) < 0.5
        w = rng.multinomial(n, np.full(n, 1 / n), size=4).astype(float)
        ap = weighted_ap(y, s, w)
        ba = weighted_balanced_accuracy(y, hard, w)
        for k in range(4):
            if (w[k] * y).sum() == 0:
                assert np.isnan(ap[k])
                continue
            assert ap[k] == pytest.approx(average_precision_score(y, s, sample_weight=w[k]), abs=1e-12)
            if (w[k] * ~y).sum() > 0:
                assert ba[k] == pytest.approx(balanced_accuracy_score(y, hard, sample_weight=w[k]), abs=1e-12)


def test_resample_counts_are_draws_with_replacement():
    w = resample_counts(np.random.default_rng(0), 7, 4000)
    assert w.shape == (4000, 7) and (w.sum(1) == 7).all()
    assert np.allclose(w.mean(0), 1.0, atol=0.06)  # each item drawn once per resample on average


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(3)
    truth = rng.random(300) < 0.3
    score = np.clip(truth * 0.3 + rng.random(300) * 0.7, 0, 1)
    by = {"Pan_Left": items("Pan_Left", truth, score)}
    a = bootstrap_cis(by, n_boot=300, seed=1)
    assert a == bootstrap_cis(by, n_boot=300, seed=1)
    assert a != bootstrap_cis(by, n_boot=300, seed=2)
    point = binary_metrics(by["Pan_Left"], n_boot=10)
    lo, hi = a["mean_ap_ci"]
    assert lo < point["mean_ap"] < hi and hi - lo < 0.3
    lo, hi = a["balanced_accuracy_ci"]
    assert lo < point["balanced_accuracy"] < hi


def test_majority_baseline_and_q_acc():
    assert majority_baseline_accuracy(["A", "A", "B", "A"]) == 0.75
    assert majority_baseline_accuracy([]) is None
    opts = ("A. Left", "B. Right")
    its = [
        ChoiceItem("Dir", "Which way?", opts, "A", "A", clip="v1"),
        ChoiceItem("Dir", "Which way?", opts, "B", "B", clip="v2"),  # pair 1: both right
        ChoiceItem("Dir", "Which way up?", opts, "A", "A", clip="v3"),
        ChoiceItem("Dir", "Which way up?", opts, "B", "A", clip="v4"),  # pair 2: one wrong
        ChoiceItem("Dir", "Lonely?", opts, "A", "A", clip="v5"),  # no pair
    ]
    assert q_acc(its) == (0.5, 2)
    m = choice_metrics(its)
    assert m["vqa_accuracy"] == 0.8 and m["q_acc"] == 0.5 and m["per_skill"]["Dir"]["n"] == 5
    assert q_acc(its[4:]) == (None, 0)
    # CameraBench's layout: q0-v0, q0-v1, q1-v0, q1-v1, and the same questions again on other videos.
    yn = ("A. Yes", "B. No")
    block = [("pan left?", "v1", "A", "A"), ("pan left?", "v2", "B", "B"), ("pan right?", "v1", "B", "B"),
             ("pan right?", "v2", "A", "B"), ("pan left?", "v3", "A", "A"), ("pan left?", "v4", "B", "B")]
    cb = [ChoiceItem("pan_left_vs_pan_right", q, yn, t, p, clip=c) for q, c, t, p in block]
    assert q_acc(cb) == (pytest.approx(2 / 3), 3)
    # Explicit pair ids win over position.
    tagged = [ChoiceItem("S", "q", yn, "A", "A", clip="a", pair="p1"), ChoiceItem("S", "other", yn, "B", "A", clip="b"),
              ChoiceItem("S", "q", yn, "B", "B", clip="c", pair="p1")]
    assert q_acc(tagged) == (1.0, 1)


def _constant_records(questions, p_yes):
    return [
        {"key": str(i), "id": q.id, "kind": "binary", "primitive": q.primitive, "problem_id": q.problem_id,
         "answer": q.answer, "letter": "B" if p_yes > 0.5 else "A", "score": p_yes,
         "correct": ("B" if p_yes > 0.5 else "A") == q.answer, "strict_format": True, "error": None,
         "video": q.path, "question": q.question, "options": q.options}
        for i, q in enumerate(questions)
    ]


@pytest.mark.skipif(not SHARED_BINARY.is_file(), reason="../shared/camerabench/binary.json is absent")
def test_always_no_on_camerabench_binary_semantics():
    questions = read_questions(SHARED_BINARY)
    m = compute_metrics(_constant_records(questions, 0.0), n_boot=200)
    assert m["n"] == 7679 and m["accuracy"] == pytest.approx(0.8773, abs=1e-4)
    assert m["majority_baseline_accuracy"] == pytest.approx(m["accuracy"])
    assert m["balanced_accuracy"] == 0.5 and m["mean_roc_auc"] == 0.5 and m["macro_f1"] == 0.0
    for name, pm in m["per_primitive"].items():
        assert pm["ap"] == pytest.approx(pm["n_yes"] / pm["n"]), name  # AP of a constant = Yes rate
    assert m["mean_ap"] == pytest.approx(m["mean_yes_rate"])
    lo, hi = m["mean_ap_ci"]
    assert lo < m["mean_ap"] < hi


def _clip_items(preds):
    """Two primitives on 20 clips (one Yes and one No question each); ``preds`` per item."""
    out = []
    for c in range(20):
        for name, truth in (("Pan_Left", c % 2 == 0), ("Tilt_Up", c % 3 == 0)):
            out.append(BinaryItem(name, truth, None, None, clip=f"clip{c}"))
    return [BinaryItem(it.primitive, it.truth, p, None, it.clip) for it, p in zip(out, preds(out), strict=True)]


def test_paired_gain_of_runs_over_a_base():
    always_no = _clip_items(lambda its: [False] * len(its))
    right = _clip_items(lambda its: [it.truth for it in its])
    half = _clip_items(lambda its: [it.truth if k % 4 < 2 else not it.truth for k, it in enumerate(its)])
    same = paired_gain(always_no, [always_no, always_no], n_boot=200)
    assert same["gains"] == [0.0, 0.0] and same["mean_gain_ci"] == [0.0, 0.0]
    assert same["base_balanced_accuracy"] == 0.5
    up = paired_gain(always_no, [right, half], n_boot=500)
    ba_half = binary_metrics(half, n_boot=0)["balanced_accuracy"]
    assert up["gains"] == pytest.approx([0.5, ba_half - 0.5])
    assert up["mean_gain"] == pytest.approx((0.5 + ba_half - 0.5) / 2)
    lo, hi = up["mean_gain_ci"]
    assert lo <= up["mean_gain"] <= hi and hi - lo < 0.5
    # paired: a run identical to the base in every replicate has a zero-width interval even though
    # the base's own balanced accuracy varies between replicates
    assert paired_gain(half, [half], n_boot=200)["mean_gain_ci"] == [0.0, 0.0]
    with pytest.raises(ValueError, match="same order"):
        paired_gain(always_no, [list(reversed(right))])
