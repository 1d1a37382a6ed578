"""Reward hygiene: the accuracy reward reads answers as evaluation does (``ota.extract_letter``), so
a policy cannot earn reward with prose, hedged answers or letters outside the options."""

from __future__ import annotations

from camreasoner.core.ota import extract_letter
from camreasoner.train.rewards import accuracy_reward, format_reward, weighted_reward

BINARY = ["A. No", "B. Yes"]
CHAIN = "<observation>The picture slides left.</observation>\n<think>A pan right.</think>\n"


def _accuracy(completions: list[str], answer: str, options=BINARY) -> list[float]:
    n = len(completions)
    return accuracy_reward(completions, answer=[answer] * n, options=[options] * n)


def test_prose_that_starts_with_the_right_letter_scores_zero():
    assert _accuracy(["A camera that moves is what I see here."], "A") == [0.0]
    assert _accuracy(["B is my answer because the camera pans."], "B") == [0.0]


def test_accepted_bare_answers():
    bare = ["B", "B.", "(B)", "B)", " B \n", "B. Yes", "B: yes", "(B) Yes."]
    assert _accuracy(bare, "B") == [1.0] * len(bare)
    wrong_text = ["B. No", "Yes", "b", "B\nYes, because it pans"]
    assert _accuracy(wrong_text, "B") == [0.0] * len(wrong_text)
    assert format_reward(bare, options=[BINARY] * len(bare)) == [0.0] * len(bare)  # not O-T-A


def test_several_answer_blocks_the_first_counts_and_format_is_zero():
    """Rule: like evaluation, only the first block is read, so hedging cannot win a second chance;
    the strict format wants each block once, so a hedged response never gets the format reward."""
    right_then_wrong = CHAIN + "<answer>B</answer>\n<answer>A</answer>"
    wrong_then_right = CHAIN + "<answer>A</answer>\n<answer>B</answer>"
    single = CHAIN + "<answer>B</answer>"
    assert _accuracy([right_then_wrong, wrong_then_right, single], "B") == [1.0, 0.0, 1.0]
    assert extract_letter(right_then_wrong, BINARY) == "B"  # the same reader
    assert format_reward([right_then_wrong, wrong_then_right, single], options=[BINARY] * 3) == [0.0, 0.0, 1.0]
    hedged, clean = weighted_reward([right_then_wrong, single], answer=["B"] * 2, options=[BINARY] * 2)
    assert hedged == 0.9 and clean == 1.0


def test_a_letter_outside_the_options_scores_zero_without_error():
    for text in (CHAIN + "<answer>E</answer>", "E", "<answer>E</answer>"):
        assert _accuracy([text], "B") == [0.0]
        assert format_reward([text], options=[BINARY]) == [0.0]
    # even when the answer column itself names the outside letter, it is never read as an answer
    assert _accuracy([CHAIN + "<answer>E</answer>"], "E") == [0.0]


def test_options_given_as_letters_work_too():
    assert accuracy_reward(["<answer>B</answer>", "C"], answer=["B", "C"], options=["AB", "AB"]) == [1.0, 0.0]
