"""Accuracy of the geometric observer on synthetic clips of exactly known camera motion.

Generates clips with the synthetic renderer (``camreasoner synth``), runs the observer, and prints
mean AP and balanced accuracy over the 15 primitives (scikit-learn), plus pan-vs-truck and
zoom-vs-dolly discrimination on clips built to confuse them (the renderer's ``confusable`` recipe:
a rotation or zoom and its translation look-alike with the same image motion at the near depth).

    nice .venv/bin/python bench/bench_observer_accuracy.py --clips 150 --seed 1000
    nice .venv/bin/python bench/bench_observer_accuracy.py --fit --fit-only --clips 200 --confusable 60
    nice .venv/bin/python bench/bench_observer_accuracy.py --fit-ranking --fit-only --clips 800 --confusable 200

``--fit`` fits the calibration on the calibration sets only: rendered clips of ``--fit-seed`` (and
its confusable sets) plus ``--fit-realcam`` semi-real clips of vtest.avi of the calibration seed
1101 of bench/bench_real_footage.py (never its report seeds), and writes
src/camreasoner/data/observer_calibration.json. Opposite primitives share one logistic map (fitted
on both members' clips, each on its own signed cue), so a mirrored clip gets mirrored scores; each
primitive's ``prior`` is its Yes rate in CameraBench's official binary files (``--priors``). Never fit
on the seed you evaluate on. ``--fit-ranking`` fits the translations' ranking forests
(camreasoner.observer.ranking) on the same seeds and writes src/camreasoner/data/observer_ranking.json
(the shipped calibration came from 200 clips of seed 7 and 60 per confusable set, the shipped
forests from 800 and 200: 360 and 1,240 clips with the 40 semi-real ones). The printed mean AP is of the scores as the observer gives them (the No side of
the translations ordered by the forests).
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import numpy as np

from camreasoner.core.io import write_json_atomic
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import read_labels
from camreasoner.observer.geometry.cues import ClipCues
from camreasoner.observer.ranking import (
    RANKED,
    RANKING_FILE,
    RANKING_VERSION,
    feature_names,
    forest_from_sklearn,
    forest_log_odds,
    load_ranking,
    ranked_scores,
    ranking_features,
)
from camreasoner.observer.reading import ObserverOptions, measure_video
from camreasoner.observer.scoring import (
    CALIBRATION_FILE,
    CALIBRATION_VERSION,
    FEATURES,
    context_values,
    decide,
    feature_value,
    load_calibration,
    score_cues,
)
from camreasoner.synth import generate_dataset

PAIRS = {"pan vs truck": ("Pan_Left", "Move_Left", "Pan_Right", "Move_Right"),
         "zoom vs dolly": ("Zoom_In", "Move_In", "Zoom_Out", "Move_Out")}


def measure_set(root: Path, keep: dict[str, tuple[ClipCues, dict]] | None = None
                ) -> list[tuple[dict[str, bool | None], ClipCues]]:
    """Run the observer on every clip of a synthetic set: (labels, cues) per clip; ``keep`` gets
    path -> (cues, measurements)."""
    out = []
    for label in read_labels(root / "labels.jsonl"):
        cues, measurements, _, _ = measure_video(root / label.path, ObserverOptions())
        out.append((label.primitives, cues))
        if keep is not None:
            keep[label.path] = (cues, measurements)
    return out


def vqa_and_consistency(root: Path, kept: dict[str, tuple[ClipCues, dict]]) -> dict[str, object]:
    """Accuracy on the set's multiple-choice VQA items (vqa.json) against chance and the majority
    letter, and the share of clips whose own observation scores 1.0 on check_observation."""
    from collections import Counter, defaultdict

    from camreasoner.observer.answer import answer_question
    from camreasoner.observer.reading import reading_from_cues
    from camreasoner.qa.consistency import check_observation

    readings = {path: reading_from_cues(path, cues, m, []) for path, (cues, m) in kept.items()}
    items = json.loads((root / "vqa.json").read_text())
    right: dict[str, list[bool]] = defaultdict(list)
    gold = []
    chance = 0.0
    for it in items:
        letter = it["solution"].split("<answer>")[1][0]
        gold.append(letter)
        chance += 1 / len(it["options"])
        resp = answer_question(readings[it["path"]], it["problem"], it["options"])
        right[it["skill"]].append(resp.letter == letter)
    consistent = [check_observation(r.observation, r.primitives).score == 1.0 for r in readings.values()]
    return {"items": len(items), "accuracy": sum(map(sum, right.values())) / len(items),
            "chance": chance / len(items), "majority": Counter(gold).most_common(1)[0][1] / len(items),
            "by_skill": {k: round(sum(v) / len(v), 3) for k, v in right.items()},
            "consistent_share": sum(consistent) / len(consistent)}


def make_set(base: Path, name: str, clips: int, seed: int, **kw) -> Path:
    root = base / name
    generate_dataset(root, clips, seed, progress=False, workers=1, **kw)
    return root


def metrics(rows: list[tuple[dict[str, bool | None], ClipCues]], cal) -> dict[str, float]:
    """Mean AP and balanced accuracy over the primitives, as conventions.md defines them."""
    from sklearn.metrics import average_precision_score, balanced_accuracy_score

    aps, baccs, per = [], [], {}
    scored = [(labels, ranked_scores(cues, score_cues(cues, cal), None, cal), cues) for labels, cues in rows]
    decided = [(labels, scores, decide(scores, cues.parallax_share)) for labels, scores, cues in scored]
    for p in PRIMITIVES:
        ys = [(bool(lab[p]), sc[p], dec[p]) for lab, sc, dec in decided if lab[p] is not None]
        y = np.array([a for a, _, _ in ys])
        s = np.array([b for _, b, _ in ys])
        d = np.array([c for _, _, c in ys])
        if y.any():
            aps.append(average_precision_score(y, s))
            per[p] = round(float(aps[-1]), 3)
        if y.any() and (~y).any():
            baccs.append(balanced_accuracy_score(y, d))
    return {"mean_ap": float(np.mean(aps)), "balanced_accuracy": float(np.mean(baccs)), "per_primitive_ap": per}


def confusion(rows, cal) -> dict[str, float]:
    """Share of single-motion clips of a confusable pair read as the right member and not the other."""
    out = {}
    for name, prims in PAIRS.items():
        right = total = 0
        for labels, cues in rows:
            truth = [p for p in prims if labels.get(p)]
            if len(truth) != 1:
                continue
            dec = decide(score_cues(cues, cal), cues.parallax_share)
            twin = {prims[0]: prims[1], prims[1]: prims[0], prims[2]: prims[3], prims[3]: prims[2]}[truth[0]]
            total += 1
            right += dec[truth[0]] and not dec[twin]
        out[name] = right / total if total else float("nan")
        out[f"{name} clips"] = total
    return out


# Unweighted: each class counts as often as the calibration sets hold it, so a weak cue says No
# (precision first: a Yes that did not happen costs more than a miss).
CLASS_WEIGHT: str | None = None
UNITS = {"Static": 0.5, "Zoom_In": 2.0, "Zoom_Out": 2.0}  # others 1.0: degrees, % of the frame


def camerabench_priors(folder: Path) -> dict[str, float]:
    """Each primitive's Yes rate in CameraBench's official binary files (``<Primitive>.jsonl``, one
    ``label`` per line); opposite primitives get their mean (the calibration is symmetric)."""
    from camreasoner.core.io import json_lines
    from camreasoner.core.taxonomy import OPPOSITES

    rate = {}
    for p in PRIMITIVES:
        path = folder / f"{p}.jsonl"
        if not path.is_file():
            raise SystemExit(f"error: {path}: no CameraBench binary file; pass --priors DIR")
        with path.open(encoding="utf-8") as f:
            labels = [str(row["label"]).lower() == "yes" for _, row in json_lines(f, path)]
        rate[p] = sum(labels) / len(labels)
    return {p: round((rate[p] + rate[OPPOSITES[p]]) / 2 if p in OPPOSITES else rate[p], 4) for p in PRIMITIVES}


def fit_calibration(rows, priors: dict[str, float]) -> dict[str, dict[str, float]]:
    """One class-balanced logistic map on asinh(cue / unit) and the context cues per primitive, shared
    by opposite primitives: both members' labelled clips are pooled, each on its own signed cue
    (the mirror of a clip showing the other), so the two get the same coefficients."""
    from sklearn.linear_model import LogisticRegression

    from camreasoner.core.taxonomy import OPPOSITES

    fitted: dict[str, dict] = {}
    for p in PRIMITIVES:
        if p in fitted:
            continue
        members = (p, OPPOSITES[p]) if p in OPPOSITES else (p,)
        unit = UNITS.get(p, 1.0)
        x, y = [], []
        for m in members:
            for lab, c in rows:
                if lab[m] is not None:
                    x.append([math.asinh(feature_value(m, c) / unit), *context_values(m, c)])
                    y.append(bool(lab[m]))
        if all(y) or not any(y):
            raise SystemExit(f"error: the calibration sets have no {'No' if all(y) else 'Yes'} label for {p}")
        model = LogisticRegression(class_weight=CLASS_WEIGHT, C=1.0, max_iter=1000).fit(np.array(x), np.array(y))
        coef = [float(v) for v in model.coef_[0]]
        for m in members:
            fitted[m] = {"unit": unit, "a": coef[0], "b": float(model.intercept_[0]), "context": coef[1:],
                         "prior": priors[m]}
    return {p: fitted[p] for p in PRIMITIVES}


def realcam_rows(base: Path, clips: int) -> list[tuple[dict[str, bool | None], ClipCues]]:
    """Semi-real clips of vtest.avi of the calibration seed (bench_real_footage.py's, never a report seed)."""
    from camreasoner.synth.realcam import generate_realcam_dataset
    from camreasoner.testing.sample_clips import sample_clip

    root = base / f"vtest_{REALCAM_CALIBRATION_SEED}"
    generate_realcam_dataset(root, [sample_clip("vtest")], clips, REALCAM_CALIBRATION_SEED, progress=False)
    return measure_set(root)


REALCAM_CALIBRATION_SEED = 1101
# The fits write the checkout's package data (beside this bench), not an installed copy's.
PACKAGE_DATA = Path(__file__).resolve().parents[1] / "src" / "camreasoner" / "data"


def calibration_rows(base: Path, args) -> tuple[list[tuple[dict[str, bool | None], ClipCues]], int]:
    """The calibration sets' (labels, cues) rows and how many of them are rendered: rendered clips of
    ``--fit-seed`` and its two confusable sets, then ``--fit-realcam`` semi-real vtest clips."""
    rows = measure_set(make_set(base, f"fit_{args.fit_seed}", args.clips, args.fit_seed))
    for i, name in enumerate(PAIRS):
        rows += measure_set(make_set(base, f"fitpairs_{i}_{args.fit_seed}", args.confusable, args.fit_seed + 1 + i,
                                     primitives=list(PAIRS[name]), recipes=["confusable"]))
    rendered = len(rows)
    if args.fit_realcam:
        rows += realcam_rows(base, args.fit_realcam)
    return rows, rendered


# The ranking forests' settings (scikit-learn's defaults but for the depth; no early stopping, so the
# fit is deterministic).
RANKING_FOREST = {"max_iter": 100, "learning_rate": 0.1, "max_depth": 3, "early_stopping": False}


def fit_ranking(rows: list[tuple[dict[str, bool | None], ClipCues]]) -> dict[str, dict]:
    """One gradient-boosted forest per translation axis on :func:`ranking_features`, both opposite
    primitives' labelled clips pooled (each on its own signed features), exported as plain JSON and
    checked against scikit-learn's own log-odds."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from camreasoner.core.taxonomy import OPPOSITES

    forests = {}
    for p in RANKED:
        axis = FEATURES[p][0]
        if axis in forests:
            continue
        x = np.array([ranking_features(m, c) for m in (p, OPPOSITES[p]) for lab, c in rows if lab[m] is not None])
        y = np.array([bool(lab[m]) for m in (p, OPPOSITES[p]) for lab, c in rows if lab[m] is not None])
        model = HistGradientBoostingClassifier(**RANKING_FOREST).fit(x, y)
        forest = forest_from_sklearn(model, feature_names(p))
        ours = np.array([forest_log_odds(forest, list(row)) for row in x])
        if not np.allclose(ours, model.decision_function(x), atol=1e-9):
            raise SystemExit(f"error: the exported {axis} forest disagrees with scikit-learn's")
        forests[axis] = forest
    return forests


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=150)
    ap.add_argument("--confusable", type=int, default=60,
                    help="clips per confusable set (even): matched pairs, e.g. a pan and a truck with the "
                         "same image motion at the near depth, told apart only by parallax")
    ap.add_argument("--seed", type=int, default=1000, help="evaluation seed")
    ap.add_argument("--fit", action="store_true", help="fit and write the calibration (uses --fit-seed)")
    ap.add_argument("--fit-seed", type=int, default=7)
    ap.add_argument("--fit-realcam", type=int, default=40,
                    help="semi-real vtest clips of the calibration seed added to the fit (0: none)")
    ap.add_argument("--priors", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "camerabench" / "official"
                    / "binary_classification",
                    help="CameraBench's official binary_classification folder (each primitive's Yes rate)")
    ap.add_argument("--work", type=Path, default=None, help="keep generated clips here")
    ap.add_argument("--fit-ranking", action="store_true",
                    help="fit and write the translations' ranking forests (observer_ranking.json; uses --fit-seed)")
    ap.add_argument("--fit-only", action="store_true", help="with --fit or --fit-ranking: write the file(s) and stop")
    args = ap.parse_args()
    base = args.work or Path(tempfile.mkdtemp(prefix="obs_acc_"))
    t0 = time.perf_counter()
    if args.fit or args.fit_ranking:
        if args.fit_seed == args.seed:
            raise SystemExit("error: --fit-seed must differ from the evaluation --seed")
        rows, rendered = calibration_rows(base, args)
        fitted_on = (f"camreasoner synth seeds {args.fit_seed}-{args.fit_seed + 2} ({rendered} clips) and "
                     f"{len(rows) - rendered} semi-real vtest clips of seed {REALCAM_CALIBRATION_SEED}")
        if args.fit:
            cal = fit_calibration(rows, camerabench_priors(args.priors))
            path = PACKAGE_DATA / CALIBRATION_FILE
            write_json_atomic(path, {"version": CALIBRATION_VERSION,
                                     "fitted_on": f"{fitted_on}, bench/bench_observer_accuracy.py --fit; opposite "
                                     "primitives share their coefficients; priors: CameraBench's binary Yes rates",
                                     "primitives": cal})
            load_calibration.cache_clear()
            print(f"calibration fitted on {len(rows)} clips (seed {args.fit_seed}) -> {path}")
        if args.fit_ranking:
            path = PACKAGE_DATA / RANKING_FILE
            write_json_atomic(path, {"version": RANKING_VERSION,
                                     "fitted_on": f"{fitted_on}, bench/bench_observer_accuracy.py --fit-ranking; "
                                     f"scikit-learn HistGradientBoostingClassifier({RANKING_FOREST}) per axis, "
                                     "opposite primitives pooled",
                                     "forests": fit_ranking(rows)}, indent=None)
            load_ranking.cache_clear()
            print(f"ranking forests fitted on {len(rows)} clips (seed {args.fit_seed}) -> {path}")
        if args.fit_only:
            return
    cal = load_calibration()
    kept: dict[str, tuple[ClipCues, dict]] = {}
    root = make_set(base, f"eval_{args.seed}", args.clips, args.seed)
    rows = measure_set(root, kept)
    res = metrics(rows, cal)
    vqa = vqa_and_consistency(root, kept)
    conf_rows = []
    for i, name in enumerate(PAIRS):
        conf_rows += measure_set(make_set(base, f"pairs_{i}_{args.seed}", args.confusable, args.seed + 1 + i,
                                          primitives=list(PAIRS[name]), recipes=["confusable"]))
    res.update(confusion(conf_rows, cal))
    print(f"evaluation seed {args.seed}: {len(rows)} clips (+{len(conf_rows)} confusable), "
          f"{time.perf_counter() - t0:.0f} s")
    print(f"mean AP            {res['mean_ap']:.3f}   (target >= 0.95)")
    print(f"balanced accuracy  {res['balanced_accuracy']:.3f}   (target >= 0.90)")
    for name in PAIRS:
        print(f"{name:<18} {res[name]:.3f}   on {res[name + ' clips']} clips (target >= 0.90)")
    print("per-primitive AP   " + json.dumps(res["per_primitive_ap"]))
    print(f"VQA (vqa.json)     {vqa['accuracy']:.3f} on {vqa['items']} items (chance {vqa['chance']:.3f}, "
          f"majority letter {vqa['majority']:.3f}); by skill {json.dumps(vqa['by_skill'])}")
    print(f"observation vs own decisions: check_observation = 1.0 on {vqa['consistent_share']:.1%} of clips")


if __name__ == "__main__":
    main()
