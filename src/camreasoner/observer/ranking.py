"""The translations' ranking model: how the clips the observer does not say Yes to are ordered.

The calibrated maps (:mod:`.scoring`) decide, precision first: a translation's weak cue says No,
because on real footage walkers and leaves give such cues. Weak cues still carry evidence on the No
side: a slow pedestal over a far backdrop, or a translation beside a zoom and a roll, scores near 0
while its cues differ from a still or rotating camera's. A small gradient-boosted forest per
translation axis, fitted on the calibration sets (``bench/bench_observer_accuracy.py
--fit-ranking``), weighs the translation cue with its context. Below 0.5 a translation's score is
raised to the forest's probability where that is higher, compressed above the prior to stay under
0.5 (:func:`merge_ranks`). So the Yes answers (and every decision) stay the calibrated maps', and
the forest lifts the No side's likely translations (mean AP).

The forests are plain JSON (``observer_ranking.json``: version, per axis the feature names, the
baseline log-odds and each tree's nodes), checked when loaded; no pickle, no scikit-learn at run time.

    ranks = rank_shot(cues, rank_windows(windows))                    # the twins of score_windows and
    scores = ranked_scores(cues, score_shot(cues, windows), ranks)    # combine_windows (scoring.score_shot)
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import read_versioned_json
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.observer.geometry import ClipCues
from camreasoner.observer.scoring import (
    CONTEXT,
    FEATURES,
    combine_windows,
    context_values,
    feature_value,
    is_number,
    load_calibration,
    shrink_to_prior,
    shrink_weights,
    sigmoid,
)

RANKING_FILE = "observer_ranking.json"
RANKING_VERSION = 1

# The ranked primitives: the translations, read from the truck, pedestal and dolly cues. Opposite
# primitives share their axis's forest, each on features signed its own way.
RANKED: tuple[str, ...] = tuple(p for p in PRIMITIVES if FEATURES[p][0] in ("truck", "pedestal", "dolly"))

# primitive -> the rotation or zoom that moves the image as it does (signed the primitive's way).
LOOK_ALIKE: dict[str, tuple[str, float]] = {
    "Move_Left": ("pan_deg", -1.0), "Move_Right": ("pan_deg", 1.0),
    "Move_Up": ("tilt_deg", 1.0), "Move_Down": ("tilt_deg", -1.0),
    "Move_In": ("zoom_pct", 1.0), "Move_Out": ("zoom_pct", -1.0),
}

# Cues every translation's forest sees beside its own cue, context and look-alike.
SHARED_CUES = ("subject_share", "abs_roll_deg", "abs_zoom_pct", "abs_pan_deg", "abs_tilt_deg", "rigid_share",
               "camera_share")


def feature_names(primitive: str) -> list[str]:
    """The names of :func:`ranking_features`' values, in order (stored in the ranking file)."""
    return ["cue", *(f"context.{n}" for n in CONTEXT[primitive]), "look_alike", *SHARED_CUES]


def ranking_features(primitive: str, cues: ClipCues) -> list[float]:
    """The forest's inputs for ``primitive``: its signed cue (asinh-compressed at 0.1 % of the frame),
    its context cues (:func:`~.scoring.context_values`), the signed look-alike and the shared cues.
    A mirrored clip gives the opposite primitive the same values."""
    name, sign = LOOK_ALIKE[primitive]
    shared = {"subject_share": cues.subject_share, "rigid_share": cues.rigid_share,
              "camera_share": cues.camera_share}
    for field in ("roll_deg", "zoom_pct", "pan_deg", "tilt_deg"):
        shared[f"abs_{field}"] = abs(getattr(cues, field))
    return [math.asinh(feature_value(primitive, cues) / 0.1), *context_values(primitive, cues),
            sign * getattr(cues, name), *(shared[k] for k in SHARED_CUES)]


def forest_log_odds(forest: dict[str, Any], x: list[float]) -> float:
    """The forest's log-odds of Yes for inputs ``x``: the baseline plus one leaf value per tree (a
    node sends ``x[feature] <= threshold`` left; a leaf has ``left == -1``)."""
    z = forest["baseline"]
    for tree in forest["trees"]:
        node = 0
        left, right = tree["left"], tree["right"]
        while left[node] != -1:
            node = left[node] if x[tree["feature"][node]] <= tree["threshold"][node] else right[node]
        z += tree["value"][node]
    return z


def forest_from_sklearn(model: Any, features: list[str]) -> dict[str, Any]:
    """A fitted binary ``sklearn.ensemble.HistGradientBoostingClassifier`` as a ranking-file forest
    (scikit-learn has no stable export of its trees; this reads their node arrays)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append({"feature": [int(v) for v in nodes["feature_idx"]],
                      "threshold": [0.0 if f else float(v) for v, f in zip(nodes["num_threshold"], leaf, strict=True)],
                      "left": [-1 if f else int(v) for v, f in zip(nodes["left"], leaf, strict=True)],
                      "right": [-1 if f else int(v) for v, f in zip(nodes["right"], leaf, strict=True)],
                      "value": [float(v) if f else 0.0 for v, f in zip(nodes["value"], leaf, strict=True)]})
    return {"features": list(features), "baseline": float(model._baseline_prediction.ravel()[0]), "trees": trees}


def check_ranking(data: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """Each ranked primitive's forest, after checking the document's schema (its version checked on
    reading, see :func:`load_ranking`): a forest per translation axis with the expected
    ``features``, a numeric ``baseline`` and trees whose node lists agree in length, whose children
    point forward inside the tree and whose features exist. Raises one-line ``CamReasonerError``
    naming ``source``."""
    def bad(problem: str) -> CamReasonerError:
        return CamReasonerError(f"{source}: bad observer ranking: {problem}")

    forests = data.get("forests")
    if not isinstance(forests, dict):
        raise bad("no 'forests' object")
    out = {}
    for p in RANKED:
        axis = FEATURES[p][0]
        forest = forests.get(axis)
        if not isinstance(forest, dict):
            raise bad(f"no forest for the {axis} axis")
        if forest.get("features") != feature_names(p):
            raise bad(f"{axis}.features must be {feature_names(p)}")
        if not is_number(forest.get("baseline")):
            raise bad(f"{axis}.baseline must be a number")
        trees = forest.get("trees")
        if not isinstance(trees, list) or not trees:
            raise bad(f"{axis}.trees must be a non-empty list")
        for i, tree in enumerate(trees):
            _check_tree(tree, len(feature_names(p)), lambda problem, where=f"{axis}.trees[{i}]": bad(f"{where}: {problem}"))
        out[p] = forest
    return out


def _check_tree(tree: Any, features: int, bad) -> None:
    """Raise ``bad(problem)`` unless ``tree`` is a well-formed tree over ``features`` inputs."""
    keys = ("feature", "threshold", "left", "right", "value")
    if not isinstance(tree, dict) or not all(isinstance(tree.get(k), list) for k in keys):
        raise bad(f"must be an object of lists {', '.join(keys)}")
    size = len(tree["left"])
    if size == 0 or any(len(tree[k]) != size for k in keys):
        raise bad("its node lists differ in length")
    for node in range(size):
        left, right = tree["left"][node], tree["right"][node]
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (left, right)):
            raise bad(f"node {node}: children must be integers")
        value, threshold = tree["value"][node], tree["threshold"][node]
        if not (is_number(value) and is_number(threshold)):
            raise bad(f"node {node}: value and threshold must be numbers")
        if left == -1:
            continue
        if not (node < left < size and node < right < size):
            raise bad(f"node {node}: children must point forward inside the tree")
        feature = tree["feature"][node]
        if not isinstance(feature, int) or not 0 <= feature < features:
            raise bad(f"node {node}: feature must be an index below {features}")


@lru_cache(maxsize=4)
def load_ranking(path: str | None = None) -> dict[str, dict[str, Any]]:
    """The ranked primitives' forests from ``path`` (the packaged file by default), version and
    schema checked."""
    if path is None:
        path = str(ranking_path())
    return check_ranking(read_versioned_json(path, "observer ranking", RANKING_VERSION), path)


def ranking_path() -> Path:
    """The packaged ranking file."""
    return Path(__file__).parents[1] / "data" / RANKING_FILE


def rank_cues(cues: ClipCues, calibration: dict[str, dict] | None = None,
              ranking: dict[str, dict[str, Any]] | None = None) -> dict[str, float]:
    """The forest's probability of Yes for each ranked primitive, shrunk toward the calibration's
    priors exactly as its scores are (:func:`~.scoring.shrink_weights`)."""
    cal = calibration or load_calibration()
    forests = ranking or load_ranking()
    shrink = shrink_weights(cues)
    return {p: sigmoid(shrink_to_prior(forest_log_odds(forests[p], ranking_features(p, cues)), cal[p]["prior"],
                                       shrink[p]))
            for p in RANKED}


def rank_windows(windows: list[ClipCues] | None, calibration: dict[str, dict] | None = None,
                 ranking: dict[str, dict[str, Any]] | None = None) -> list[tuple[ClipCues, dict[str, float]]]:
    """Each measured scoring window and its ranks (the twin of :func:`~.scoring.score_windows`)."""
    return [(w, rank_cues(w, calibration, ranking)) for w in windows or () if w.valid_pairs]


def rank_shot(cues: ClipCues, ranked: list[tuple[ClipCues, dict[str, float]]],
              calibration: dict[str, dict] | None = None,
              ranking: dict[str, dict[str, Any]] | None = None) -> dict[str, float]:
    """A shot's ranks from its windows' (:func:`rank_windows`), combined as its scores are
    (:func:`~.scoring.combine_windows`)."""
    return combine_windows(cues, ranked, calibration, lambda c, cal: rank_cues(c, cal, ranking))


def no_side(rank: float, prior: float) -> float:
    """A rank as a score on the No side: the forest's probability up to the prior, above it
    compressed linearly into (prior, 0.5), so that it stays under 0.5 and the prior maps to itself."""
    if rank <= prior:
        return rank
    return min(prior + (0.5 - prior) * (rank - prior) / (1.0 - prior), math.nextafter(0.5, 0.0))


def merge_ranks(scores: dict[str, float], ranks: dict[str, float], priors: dict[str, float]) -> dict[str, float]:
    """``scores`` with each ranked primitive under 0.5 raised to its rank (:func:`no_side`) where that
    is higher: the Yes side (and so every decision) is unchanged; on the No side the forest adds
    evidence for a translation, never against it (on real footage its No is less sure than the
    calibrated map's: a lone real truck it scored under shots that score their priors)."""
    return {p: scores[p] if p not in ranks or scores[p] >= 0.5 else max(scores[p], no_side(ranks[p], priors[p]))
            for p in scores}


def ranked_scores(cues: ClipCues, scores: dict[str, float], ranks: dict[str, float] | None = None,
                  calibration: dict[str, dict] | None = None,
                  ranking: dict[str, dict[str, Any]] | None = None) -> dict[str, float]:
    """A shot's (or window's) scores with the No side raised by the forest (:func:`merge_ranks`):
    ``ranks`` from :func:`rank_shot` (default: :func:`rank_cues` of ``cues``, a shot of one window);
    a clip too thinly measured to read keeps its priors."""
    if not cues.measured:
        return dict(scores)
    cal = calibration or load_calibration()
    if ranks is None:
        ranks = rank_cues(cues, cal, ranking)
    return merge_ranks(scores, ranks, {p: cal[p]["prior"] for p in RANKED})
