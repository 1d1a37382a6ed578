"""The translations' ranking forests: exported faithfully, never changing a decision, lifting the No
side by the evidence, mirror-symmetric (their file's schema errors: test_observer_calibration.py)."""

import json

import numpy as np
import pytest

from camreasoner.core.taxonomy import OPPOSITES, PRIMITIVES
from camreasoner.observer.geometry import ClipCues
from camreasoner.observer.ranking import (
    RANKED,
    RANKING_VERSION,
    forest_from_sklearn,
    forest_log_odds,
    load_ranking,
    merge_ranks,
    no_side,
    rank_cues,
    ranked_scores,
    ranking_path,
)
from camreasoner.observer.scoring import decide, score_cues

# A shot's measured cues, in share of the frame (truck, pedestal, dolly) and degrees / percent.
MEASURED = {"duration": 2.5, "pairs": 10, "valid_pairs": 10}


def test_exported_forest_gives_scikit_learns_log_odds():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(3)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + 0.5 * x[:, 1] * x[:, 2] + 0.3 * rng.normal(size=400)) > 0.4
    model = HistGradientBoostingClassifier(max_iter=30, max_depth=3, early_stopping=False).fit(x, y)
    forest = forest_from_sklearn(model, [f"f{i}" for i in range(5)])
    fresh = rng.normal(size=(200, 5))
    ours = np.array([forest_log_odds(forest, list(row)) for row in fresh])
    assert np.allclose(ours, model.decision_function(fresh), atol=1e-9)
    assert json.loads(json.dumps(forest)) == forest  # plain JSON


def test_shipped_ranking_is_versioned_and_covers_the_translations():
    data = json.loads(ranking_path().read_text(encoding="utf-8"))
    assert data["version"] == RANKING_VERSION
    assert set(load_ranking()) == set(RANKED) == {p for p in PRIMITIVES if p.startswith("Move_")}


CASES = [
    {"pedestal": -0.0174, "parallax_share": 0.18},  # a slow pedestal down, parallax in few pairs
    {"truck": -0.017, "parallax_share": 0.45},  # a slow truck left
    {"dolly": -0.0046, "zoom_pct": -3.3, "parallax_share": 0.45, "parallax_ratio": 1.26},  # a weak dolly out
    {"tilt_deg": -10.0},  # a tilt alone
    {"pan_deg": 20.0, "zoom_pct": 30.0},  # a pan and a zoom
    {"truck": 0.05, "parallax_share": 0.9, "parallax_ratio": 2.0},  # a clear truck right
    {},  # still
]


@pytest.mark.parametrize("case", CASES)
def test_ranking_never_changes_a_decision(case):
    """Scores at or over 0.5 are kept, scores under it stay under it and never fall, so every
    decision (and the opposite and look-alike rules built on the scores) is the calibrated maps'."""
    cues = ClipCues(**MEASURED, **case)
    scores = score_cues(cues)
    ranked = ranked_scores(cues, scores)
    assert decide(ranked, cues.parallax_share) == decide(scores, cues.parallax_share)
    for p in PRIMITIVES:
        if p not in RANKED or scores[p] >= 0.5:
            assert ranked[p] == scores[p]
        else:
            assert scores[p] <= ranked[p] < 0.5


def test_a_slow_translation_said_no_ranks_above_clips_without_it():
    """A slow pedestal down over a far backdrop (parallax in few pairs) is said No, but ranks above
    a tilt down, a still view and a pedestal up on Move_Down's list; likewise a slow truck."""
    def ranked(**cues) -> dict[str, float]:
        c = ClipCues(**MEASURED, **cues)
        return ranked_scores(c, score_cues(c))

    slow_down = ranked(pedestal=-0.0174, parallax_share=0.18)
    assert score_cues(ClipCues(**MEASURED, pedestal=-0.0174, parallax_share=0.18))["Move_Down"] < 0.5
    for other in (ranked(tilt_deg=-10.0), ranked(), ranked(pedestal=0.0174, parallax_share=0.18)):
        assert slow_down["Move_Down"] > other["Move_Down"]
    slow_left = ranked(truck=-0.017, parallax_share=0.45)
    for other in (ranked(pan_deg=-15.0), ranked(), ranked(truck=0.017, parallax_share=0.45)):
        assert slow_left["Move_Left"] > other["Move_Left"]


def test_mirrored_cues_get_mirrored_ranks():
    case = {"truck": -0.012, "pedestal": 0.008, "dolly": -0.004, "pan_deg": -6.0, "tilt_deg": 3.0,
            "roll_deg": 5.0, "zoom_pct": -8.0, "parallax_share": 0.4, "parallax_ratio": 0.8, "subject_share": 0.05}
    mirror = {k: -v if k in ("truck", "pan_deg", "roll_deg") else v for k, v in case.items()}
    flip = {k: -v if k in ("pedestal", "tilt_deg", "roll_deg") else v for k, v in case.items()}
    ranks = rank_cues(ClipCues(**MEASURED, **case))
    for other, axis in ((mirror, ("Move_Left", "Move_Right")), (flip, ("Move_Up", "Move_Down"))):
        theirs = rank_cues(ClipCues(**MEASURED, **other))
        for p in RANKED:
            q = OPPOSITES[p] if p in axis else p
            assert theirs[q] == pytest.approx(ranks[p], abs=1e-12), (p, q)


def test_merge_keeps_yes_and_lifts_no_by_rank_never_lowers_it():
    scores = {"Move_Left": 0.8, "Move_Right": 0.1, "Move_Up": 0.3, "Move_Down": 0.2, "Move_In": 0.01, "Pan_Left": 0.2}
    ranks = {"Move_Left": 0.1, "Move_Right": 0.9, "Move_Up": 0.02, "Move_Down": 1.0, "Move_In": 0.03}
    priors = {p: 0.05 for p in ranks}
    merged = merge_ranks(scores, ranks, priors)
    assert merged["Move_Left"] == 0.8 and merged["Pan_Left"] == 0.2  # a Yes, and an unranked primitive
    assert merged["Move_Up"] == 0.3  # the forest says less: the calibrated score stands
    assert merged["Move_In"] == 0.03  # under the prior: the forest's probability itself
    assert merged["Move_Right"] == pytest.approx(0.05 + 0.45 * 0.85 / 0.95)  # above it: compressed
    assert merged["Move_Right"] < merged["Move_Down"] < 0.5  # a certain forest still says No
    assert no_side(0.05, 0.05) == 0.05 and no_side(0.5, 0.05) < no_side(0.6, 0.05)


def test_a_clip_too_thin_to_measure_keeps_its_priors():
    cues = ClipCues(duration=2.5, pairs=10, valid_pairs=3, pedestal=-0.02)
    scores = score_cues(cues)
    assert ranked_scores(cues, scores) == scores
