"""Evaluation metrics (conventions.md, "Scores and metrics"), built on scikit-learn's functions.

Binary items carry ``primitive``, ``truth`` (Yes = True), ``pred`` (True / False / None when the
backend gave no readable answer or failed) and ``score`` (P(Yes) or None when the backend failed).

- accuracy, balanced accuracy and F1 come from the hard answers; a missing answer counts as wrong.
- AP and ROC-AUC come from the scores, over the items that have one (``n_scored``), as
  CameraBench's official evaluator does (it leaves out entries whose ``error`` is set). As there,
  a primitive whose scored items hold one class only (every positive, or every negative, failed)
  has AP 0.0, and one with no scored item has no AP.
- ``ap_strict`` gives every item without a score (a failed item) the lowest score, 0: failing on
  hard positives cannot raise it.
- ``mean_ap`` / ``mean_ap_strict``: means of per-primitive AP over primitives with at least one Yes.
- ``balanced_accuracy`` / ``mean_roc_auc``: means over primitives that have both answers.
- ``macro_f1``: mean per-primitive F1 of the Yes class over primitives with at least one Yes.
- ``majority_baseline_accuracy``: accuracy of always giving the file's most common answer.

The bootstrap resamples clips (every question of a drawn clip comes along: CameraBench asks
about one clip several times, and those answers are correlated); ``unit="item"`` resamples
questions within each primitive instead. Resamples are per-unit counts, and a vectorised weighted AP that equals ``sklearn.metrics.average_precision_score(..., sample_weight=w)``
(tests check this): scikit-learn's per-call cost would make 1000 resamples x 15 primitives slow.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from camreasoner.core.taxonomy import PRIMITIVES

LOWEST_SCORE = 0.0


@dataclass(frozen=True)
class BinaryItem:
    """One scored binary answer."""

    primitive: str
    truth: bool
    pred: bool | None
    score: float | None
    clip: str = ""

    @property
    def strict_score(self) -> float:
        """The score, or the lowest score (0) for an item that has none."""
        return LOWEST_SCORE if self.score is None else self.score


@dataclass(frozen=True)
class ChoiceItem:
    """One multiple-choice (VQA) answer: the right letter and the chosen one (None if none)."""

    skill: str
    question: str
    options: tuple[str, ...]
    truth: str
    pred: str | None
    clip: str = ""
    pair: str | None = None


def _hard(truth: np.ndarray, pred: Sequence[bool | None]) -> np.ndarray:
    """Hard predictions where a missing answer becomes the wrong one."""
    return np.array([(not t) if p is None else bool(p) for t, p in zip(truth, pred, strict=True)])


def primitive_metrics(items: Sequence[BinaryItem]) -> dict[str, Any]:
    """n, n_yes, accuracy, balanced_accuracy, ap, roc_auc, f1 of one primitive's items.

    ``balanced_accuracy`` and ``roc_auc`` are None unless both answers occur; ``ap`` and ``f1``
    are None when there is no Yes (AP is undefined then). ``ap`` follows CameraBench's evaluator
    over the scored items: None when none is scored, 0.0 when they hold one class only.
    """
    # Imported here: scikit-learn takes ~1 s to import; a parallel run pre-imports it meanwhile.
    from sklearn.metrics import average_precision_score, balanced_accuracy_score, f1_score, roc_auc_score

    truth = np.array([it.truth for it in items], dtype=bool)
    hard = _hard(truth, [it.pred for it in items])
    n_yes = int(truth.sum())
    both = 0 < n_yes < len(items)
    scored = [(it.truth, it.score) for it in items if it.score is not None]
    s_truth = np.array([t for t, _ in scored], dtype=bool)
    s_score = np.array([s for _, s in scored], dtype=float)
    s_both = len(scored) > 0 and 0 < s_truth.sum() < len(scored)
    strict = np.array([it.strict_score for it in items], dtype=float)
    return {
        "n": len(items),
        "n_yes": n_yes,
        "n_scored": len(scored),
        "n_failed": len(items) - len(scored),
        "accuracy": float((hard == truth).mean()) if len(items) else None,
        "balanced_accuracy": float(balanced_accuracy_score(truth, hard)) if both else None,
        "ap": _official_ap(s_truth, s_score) if n_yes > 0 and len(scored) else None,
        "ap_strict": float(average_precision_score(truth, strict)) if n_yes > 0 else None,
        "roc_auc": float(roc_auc_score(s_truth, s_score)) if s_both else None,
        "f1": float(f1_score(truth, hard, zero_division=0.0)) if n_yes > 0 else None,
    }


def _official_ap(truth: np.ndarray, score: np.ndarray) -> float:
    """AP as CameraBench's binary evaluator computes it: 0.0 when only one class is present."""
    from sklearn.metrics import average_precision_score

    if truth.all() or not truth.any():
        return 0.0
    return float(average_precision_score(truth, np.where(np.isfinite(score), score, -1e10)))


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def majority_baseline_accuracy(truths: Sequence[Any]) -> float | None:
    """Accuracy of always giving the most common answer in ``truths``."""
    if not truths:
        return None
    return Counter(truths).most_common(1)[0][1] / len(truths)


def weighted_ap(truth: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision for each row of ``weights`` (B, n), like scikit-learn's with sample_weight.

    truth (n,) bool, score (n,) float. Ties in ``score`` form one threshold, as in scikit-learn.
    Rows whose weighted Yes count is 0 give NaN.
    """
    order = np.argsort(-score, kind="mergesort")
    s = score[order]
    y = truth[order].astype(float)
    w = weights[:, order]
    # Last index of each group of equal scores: the thresholds.
    ends = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1]
    tp = np.cumsum(w * y, axis=1)[:, ends]
    fp = np.cumsum(w * (1.0 - y), axis=1)[:, ends]
    pos = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 0.0)
        recall = tp / pos
        d_recall = np.diff(np.concatenate([np.zeros((len(w), 1)), recall], axis=1), axis=1)
        ap = np.sum(d_recall * precision, axis=1)
    ap[pos[:, 0] <= 0] = np.nan
    return ap


def weighted_balanced_accuracy(truth: np.ndarray, hard: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Balanced accuracy for each row of ``weights`` (B, n); NaN where a class is absent."""
    pos = truth.astype(float)
    neg = 1.0 - pos
    ok = (hard == truth).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tpr = (weights * pos * ok).sum(1) / (weights * pos).sum(1)
        tnr = (weights * neg * ok).sum(1) / (weights * neg).sum(1)
    return (tpr + tnr) / 2.0


def resample_counts(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """(n_boot, n) counts of each item in ``n_boot`` resamples of ``n`` items with replacement."""
    idx = rng.integers(0, n, size=(n_boot, n)) + (np.arange(n_boot) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=n_boot * n).reshape(n_boot, n).astype(float)


def _unit_counts(
    rng: np.random.Generator, by_primitive: dict[str, list[BinaryItem]], n_boot: int, unit: str
) -> dict[str, np.ndarray]:
    """Per primitive, (n_boot, n_items) counts: how often each item is drawn in each resample.

    ``unit="clip"`` draws clips with replacement over all primitives at once (an item counts as
    often as its clip was drawn); ``unit="item"`` draws each primitive's items independently.
    """
    names = sorted(by_primitive)
    if unit == "item":
        return {name: resample_counts(rng, len(by_primitive[name]), n_boot) for name in names}
    if unit != "clip":
        raise ValueError(f"bootstrap unit must be 'clip' or 'item', got {unit!r}")
    clip_ids: dict[str, int] = {}
    index = {
        name: np.array([clip_ids.setdefault(it.clip or f"item:{name}:{k}", len(clip_ids))
                        for k, it in enumerate(by_primitive[name])], dtype=int)
        for name in names
    }
    counts = resample_counts(rng, len(clip_ids), n_boot)
    return {name: counts[:, idx] for name, idx in index.items()}


def _interval(cols: list[np.ndarray], level: float) -> list[float] | None:
    """The percentile interval of the per-replicate mean over columns (NaN columns drop out)."""
    if not cols:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        means = np.nanmean(np.stack(cols, axis=1), axis=1)
    means = means[~np.isnan(means)]
    if not len(means):
        return None
    alpha = (1.0 - level) / 2.0
    return [float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))]


def bootstrap_cis(
    by_primitive: dict[str, list[BinaryItem]],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    unit: str = "clip",
) -> dict[str, list[float] | None]:
    """Percentile bootstrap intervals of ``mean_ap``, ``mean_ap_strict`` and ``balanced_accuracy``.

    Each replicate resamples clips (or items, see :func:`_unit_counts`); a primitive whose
    replicate lacks Yes (or a class) drops out of that replicate's mean, as in the point estimate.
    """
    rng = np.random.default_rng(seed)
    weights = _unit_counts(rng, by_primitive, n_boot, unit)
    cols: dict[str, list[np.ndarray]] = {"mean_ap_ci": [], "mean_ap_strict_ci": [], "balanced_accuracy_ci": []}
    for name in sorted(by_primitive):
        items = by_primitive[name]
        truth = np.array([it.truth for it in items], dtype=bool)
        if not truth.any():
            continue
        w = weights[name]
        scored = np.array([it.score is not None for it in items])
        if scored.any() and truth[scored].any() and not truth[scored].all():
            score = np.array([it.score for it in items if it.score is not None], dtype=float)
            cols["mean_ap_ci"].append(weighted_ap(truth[scored], score, w[:, scored]))
        elif scored.any():  # the scored items hold one class: AP 0.0, as in the point estimate
            cols["mean_ap_ci"].append(np.zeros(len(w)))
        strict = np.array([it.strict_score for it in items], dtype=float)
        cols["mean_ap_strict_ci"].append(weighted_ap(truth, strict, w))
        if not truth.all():
            hard = _hard(truth, [it.pred for it in items])
            cols["balanced_accuracy_ci"].append(weighted_balanced_accuracy(truth, hard, w))
    return {key: _interval(c, level) for key, c in cols.items()}


def _balanced_accuracy_columns(items: Sequence[BinaryItem], weights: dict[str, np.ndarray],
                               index: dict[str, np.ndarray]) -> np.ndarray:
    """Per replicate (rows of ``weights``), balanced accuracy averaged over primitives with both answers."""
    cols = []
    for name, idx in index.items():
        truth = np.array([items[i].truth for i in idx], dtype=bool)
        if truth.all() or not truth.any():
            continue
        hard = _hard(truth, [items[i].pred for i in idx])
        cols.append(weighted_balanced_accuracy(truth, hard, weights[name]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        return np.nanmean(np.stack(cols, axis=1), axis=1)


def paired_gain(base: Sequence[BinaryItem], runs: Sequence[Sequence[BinaryItem]], n_boot: int = 1000,
                seed: int = 0, level: float = 0.95) -> dict[str, Any]:
    """Balanced accuracy of ``runs`` (several models on the same questions, e.g. seeds) minus that of
    ``base``: the mean over runs of the gain and a paired clip-bootstrap interval of it.

    Every run must hold the same questions as ``base`` in the same order (primitive, truth and clip
    alike). Each replicate draws clips once and scores ``base`` and every run on that one draw, so
    the interval is of the difference, not of two independent estimates.
    """
    if not runs:
        raise ValueError("paired_gain needs at least one run")
    for k, run in enumerate(runs):
        if len(run) != len(base) or any((a.primitive, a.truth, a.clip) != (b.primitive, b.truth, b.clip)
                                        for a, b in zip(base, run, strict=True)):
            raise ValueError(f"run {k} does not hold the base's questions in the same order")
    by_primitive: dict[str, list[int]] = {}
    for i, it in enumerate(base):
        by_primitive.setdefault(it.primitive, []).append(i)
    index = {name: np.array(ids) for name, ids in sorted(by_primitive.items())}
    grouped = {name: [base[i] for i in ids] for name, ids in index.items()}
    point = {name: np.ones((1, len(ids))) for name, ids in index.items()}
    base_ba = _balanced_accuracy_columns(base, point, index)[0]
    gains = [float(_balanced_accuracy_columns(run, point, index)[0] - base_ba) for run in runs]
    weights = _unit_counts(np.random.default_rng(seed), grouped, n_boot, "clip")
    draws = np.mean([_balanced_accuracy_columns(run, weights, index) for run in runs], axis=0)
    draws = draws - _balanced_accuracy_columns(base, weights, index)
    draws = draws[~np.isnan(draws)]
    alpha = (1.0 - level) / 2.0
    ci = [float(np.quantile(draws, alpha)), float(np.quantile(draws, 1.0 - alpha))] if len(draws) else None
    return {"base_balanced_accuracy": float(base_ba), "gains": gains, "mean_gain": float(np.mean(gains)),
            "mean_gain_ci": ci, "n_runs": len(runs), "n_clips": len({it.clip for it in base}), "ci_unit": "clip"}


def binary_metrics(items: Sequence[BinaryItem], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """The binary keys of metrics.json over ``items`` (see the module docstring)."""
    by_primitive: dict[str, list[BinaryItem]] = {}
    for it in items:
        by_primitive.setdefault(it.primitive, []).append(it)
    order = [p for p in PRIMITIVES if p in by_primitive] + sorted(set(by_primitive) - set(PRIMITIVES))
    per = {name: primitive_metrics(by_primitive[name]) for name in order}
    truth = np.array([it.truth for it in items], dtype=bool)
    hard = _hard(truth, [it.pred for it in items])
    out: dict[str, Any] = {
        "n_binary": len(items),
        "binary_accuracy": float((hard == truth).mean()) if len(items) else None,
        "balanced_accuracy": _mean(m["balanced_accuracy"] for m in per.values()),
        "macro_f1": _mean(m["f1"] for m in per.values()),
        "mean_ap": _mean(m["ap"] for m in per.values()),
        "mean_ap_strict": _mean(m["ap_strict"] for m in per.values()),
        "n_binary_failed": sum(m["n_failed"] for m in per.values()),
        "mean_roc_auc": _mean(m["roc_auc"] for m in per.values()),
        "yes_rate": float(truth.mean()) if len(items) else None,
        "mean_yes_rate": _mean(m["n_yes"] / m["n"] for m in per.values() if m["n_yes"] > 0),
    }
    out.update(bootstrap_cis(by_primitive, n_boot=n_boot, seed=seed))
    out["ci_unit"] = "clip"
    out["n_clips"] = len({it.clip for it in items})
    out["per_primitive"] = per
    return out


def q_acc(items: Sequence[ChoiceItem]) -> tuple[float | None, int]:
    """CameraBench's Q-Acc: a question pair scores only if both of its videos are answered right.

    ``items`` in file order. Pairs are items sharing ``pair`` (a question item's ``pair_id``
    field); items without one pair with the next item when both ask the same question with the
    same options about two different videos and their right answers differ, which is how
    CameraBench's VQA files list them (NaturalBench order: q0-v0, q0-v1, q1-v0, q1-v1). Returns
    (Q-Acc, number of pairs); (None, 0) when there is no pair.
    """
    pairs: list[list[ChoiceItem]] = []
    by_id: dict[str, list[ChoiceItem]] = {}
    loose = [it for it in items if not it.pair]
    for it in items:
        if it.pair:
            by_id.setdefault(it.pair, []).append(it)
    pairs += [g for g in by_id.values() if len(g) == 2]
    i = 0
    while i + 1 < len(loose):
        a, b = loose[i], loose[i + 1]
        if (a.skill, a.question, a.options) == (b.skill, b.question, b.options) and a.clip != b.clip \
                and a.truth != b.truth:
            pairs.append([a, b])
            i += 2
        else:
            i += 1
    if not pairs:
        return None, 0
    right = sum(all(it.pred == it.truth for it in g) for g in pairs)
    return right / len(pairs), len(pairs)


def choice_metrics(items: Sequence[ChoiceItem]) -> dict[str, Any]:
    """VQA keys: n_vqa, vqa_accuracy, per_skill {skill: n, accuracy}, q_acc, n_pairs."""
    per_skill: dict[str, dict[str, Any]] = {}
    for skill in sorted({it.skill for it in items}):
        group = [it for it in items if it.skill == skill]
        qa, npairs = q_acc(group)
        per_skill[skill] = {
            "n": len(group),
            "accuracy": sum(it.pred == it.truth for it in group) / len(group),
            "q_acc": qa,
            "n_pairs": npairs,
        }
    qa, npairs = q_acc(items)
    return {
        "n_vqa": len(items),
        "vqa_accuracy": (sum(it.pred == it.truth for it in items) / len(items)) if items else None,
        "per_skill": per_skill,
        "q_acc": qa,
        "n_pairs": npairs,
    }


@dataclass(frozen=True)
class PairScores:
    """One CameraBench VQA / retrieval pair: P(Yes) of its four (question, video) combinations.

    ``yes`` maps ``pos_text_pos_image``, ``pos_text_neg_image``, ``neg_text_pos_image`` and
    ``neg_text_neg_image`` to P(Yes); None when any of the four failed.
    """

    skill: str
    task: str
    yes: dict[str, float] | None


def _pair_counts(yes: dict[str, float]) -> dict[str, int]:
    """Right answers of one pair, as CameraBench counts them (an answer is Yes when P(Yes) > P(No))."""
    def says_yes(combo: str) -> bool:
        return yes[combo] > 1.0 - yes[combo]

    right = {
        "pos_text_pos_image": says_yes("pos_text_pos_image"),
        "pos_text_neg_image": not says_yes("pos_text_neg_image"),
        "neg_text_pos_image": not says_yes("neg_text_pos_image"),
        "neg_text_neg_image": says_yes("neg_text_neg_image"),
    }
    text = yes["pos_text_pos_image"] > yes["neg_text_pos_image"] and yes["neg_text_neg_image"] > yes["pos_text_neg_image"]
    image = yes["pos_text_pos_image"] > yes["pos_text_neg_image"] and yes["neg_text_neg_image"] > yes["neg_text_pos_image"]
    return {
        "binary": sum(right.values()),
        "question": int(right["pos_text_pos_image"] and right["pos_text_neg_image"])
        + int(right["neg_text_pos_image"] and right["neg_text_neg_image"]),
        "text": int(text),
        "image": int(image),
        "group": int(text and image),
    }


PAIR_KEYS = ("binary_acc", "question_acc", "text", "image", "group")


def _task_scores(pairs: Sequence[PairScores]) -> dict[str, Any]:
    """One task file's figures: over its pairs without failure (official), and strict (failed = wrong)."""
    ok = [_pair_counts(p.yes) for p in pairs if p.yes is not None]
    n, n_ok = len(pairs), len(ok)
    sums = {k: sum(c[k] for c in ok) for k in ("binary", "question", "text", "image", "group")}
    per_pair = {"binary_acc": ("binary", 4), "question_acc": ("question", 2), "text": ("text", 1),
                "image": ("image", 1), "group": ("group", 1)}
    out: dict[str, Any] = {"n_pairs": n, "n_failed": n - n_ok}
    for key, (count, per) in per_pair.items():
        out[key] = sums[count] / (per * n_ok) if n_ok else None
        out[f"{key}_strict"] = sums[count] / (per * n) if n else None
    return out


def pair_metrics(pairs: Sequence[PairScores]) -> dict[str, Any]:
    """CameraBench's VQA and retrieval figures per task file and their means over task files.

    Per task file: binary accuracy (each of the 4 answers), Q-Acc (a question is right only when
    it is right on both videos), and the text, image and group retrieval scores (text: on each
    video the right question scores higher; image: for each question the right video scores
    higher; group: both). The headline figures are means over task files, as the official tool's
    model average; ``*_strict`` count a failed pair as wrong instead of leaving it out.
    """
    by_task: dict[str, list[PairScores]] = {}
    for p in pairs:
        by_task.setdefault(f"{p.skill}/{p.task}", []).append(p)
    per_task = {name: _task_scores(group) for name, group in sorted(by_task.items())}
    out: dict[str, Any] = {
        "n_pairs": len(pairs),
        "n_pairs_failed": sum(p.yes is None for p in pairs),
        "n_tasks": len(per_task),
    }
    for key in PAIR_KEYS:
        out[key] = _mean(t[key] for t in per_task.values())
        out[f"{key}_strict"] = _mean(t[f"{key}_strict"] for t in per_task.values())
    out["per_task"] = per_task
    return out
