"""Every reward function on hand-written good and bad responses, and the verl/EasyR1 adapters."""

from __future__ import annotations

import json

import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.train.rewards import (
    DEFAULT_WEIGHTS,
    accuracy_reward,
    check_weights,
    consistency_reward,
    format_reward,
    get_reward,
    weighted_reward,
)
from camreasoner.train.verl_reward import compute_score, compute_score_batch

BINARY = ["A. No", "B. Yes"]
GOOD_B = (
    "<observation>The whole picture slides left between frames; near and far things shift by the "
    "same amount.</observation>\n<think>Uniform sliding without parallax is a pan; content moving "
    "left means the camera pans right.</think>\n<answer>B</answer>"
)
GOOD_A = GOOD_B.replace("<answer>B</answer>", "<answer>A</answer>")
BAD_FORMATS = [
    "B",  # a bare letter
    "<answer>B</answer>",  # answer only
    "<think>pan</think><observation>slides</observation><answer>B</answer>",  # wrong order
    "Sure! " + GOOD_B,  # text outside the blocks
    GOOD_B + "\n<answer>A</answer>",  # two answers
    GOOD_B.replace("<answer>B</answer>", "<answer>Yes</answer>"),  # not a letter
    GOOD_B.replace("<answer>B</answer>", "<answer>D</answer>"),  # not one of the options
    GOOD_B.replace("</think>", ""),  # unclosed block
]


def test_format_reward_good_and_bad():
    good = format_reward([GOOD_B, GOOD_A, GOOD_B.replace("\n", "  ")], options=[BINARY] * 3)
    assert good == [1.0, 1.0, 1.0]
    bad = format_reward(BAD_FORMATS, options=[BINARY] * len(BAD_FORMATS))
    assert bad == [0.0] * len(BAD_FORMATS)


def test_format_reward_reads_trl_conversational_completions():
    chat = [[{"role": "assistant", "content": GOOD_B}], [{"role": "assistant", "content": "B"}]]
    assert format_reward(chat) == [1.0, 0.0]


def test_accuracy_reward_good_and_bad():
    completions = [GOOD_B, GOOD_A, "<answer>B. Yes</answer>", "no answer here at all", GOOD_B]
    answers = ["B", "B", "B", "B", "<answer>A</answer>"]
    assert accuracy_reward(completions, answer=answers, options=[BINARY] * 5) == [1.0, 0.0, 1.0, 0.0, 0.0]


def test_accuracy_reward_uses_the_first_answer_block_and_multi_choice_letters():
    options = ["A. Pan left", "B. Pan right", "C. Tilt up", "D. Zoom in"]
    two = "<answer>C</answer> wait <answer>D</answer>"
    assert accuracy_reward([two, two], answer=["C", "D"], options=[options, options]) == [1.0, 0.0]
    # A letter that is not an option is never right.
    assert accuracy_reward(["<answer>E</answer>"], answer=["E"], options=[options]) == [0.0]


def test_accuracy_reward_missing_answer_is_none():
    assert accuracy_reward([GOOD_B], answer=[None]) == [None]


def test_consistency_reward_agrees_and_contradicts():
    measured = json.dumps({"Pan_Right": True, "Pan_Left": False, "Static": False})
    agree = GOOD_B
    contradict = (
        "<observation>The whole picture slides right between frames, all depths alike."
        "</observation><think>Content moving right means the camera pans left.</think><answer>A</answer>"
    )
    scores = consistency_reward([agree, contradict, "<answer>B</answer>"], measured=[measured] * 3)
    assert scores[0] > scores[1]
    assert scores[2] == 0.0
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert consistency_reward([agree], measured=[None]) == [None]


def test_weighted_reward_is_camreasoner_mix_by_default():
    assert DEFAULT_WEIGHTS == {"accuracy": 0.9, "format": 0.1}
    got = weighted_reward([GOOD_B, GOOD_A, "<answer>B</answer>", "nothing"], answer=["B"] * 4, options=[BINARY] * 4)
    assert got == pytest.approx([1.0, 0.1, 0.9, 0.0])
    custom = weighted_reward([GOOD_A], weights={"format": 1.0}, answer=["B"], options=[BINARY])
    assert custom == [1.0]


def test_registry_and_weight_validation():
    assert get_reward("format") is format_reward
    with pytest.raises(CamReasonerError, match="unknown reward 'fromat'"):
        get_reward("fromat")
    with pytest.raises(CamReasonerError, match=">= 0"):
        check_weights({"accuracy": -1})
    with pytest.raises(CamReasonerError, match="at least one"):
        check_weights({"accuracy": 0})


def test_column_length_mismatch_is_an_error():
    with pytest.raises(CamReasonerError, match="'answer' has 1 values for 2"):
        accuracy_reward([GOOD_B, GOOD_A], answer=["B"])


def test_verl_compute_score():
    good = compute_score("camreasoner", GOOD_B, "B", {"options": BINARY})
    assert good["score"] == pytest.approx(1.0) and good["format"] == 1.0 and good["accuracy"] == 1.0
    wrong = compute_score("camreasoner", GOOD_A, "<answer>B</answer>")
    assert wrong["score"] == pytest.approx(0.1)
    broken = compute_score("camreasoner", "B", "B")
    assert broken["score"] == pytest.approx(0.9) and broken["format"] == 0.0
    mixed = compute_score(
        "camreasoner",
        GOOD_B,
        "B",
        {"measured": json.dumps({"Pan_Right": True}), "reward_weights": {"consistency": 1.0}},
    )
    assert 0.0 <= mixed["score"] <= 1.0 and "consistency" in mixed
    # verl hands extra_info over as stored in the suite's parquet export: options as a numpy array
    import numpy as np

    exported = compute_score("camreasoner-suite", GOOD_B, "A", {"options": np.array(BINARY, dtype=object)})
    assert exported["score"] == pytest.approx(0.1) and exported["accuracy"] == 0.0
    batch = compute_score_batch([{"response": GOOD_B, "ground_truth": "B"}, {"response": "x", "ground_truth": "A"}])
    assert [b["score"] for b in batch] == pytest.approx([1.0, 0.0])
