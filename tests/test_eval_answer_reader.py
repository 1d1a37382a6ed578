"""The one strict answer reader: a letter in prose is no answer, and the accuracy reward agrees."""

import pytest

from camreasoner.core.ota import extract_letter
from camreasoner.train.rewards import accuracy_reward

BINARY = ["A. No", "B. Yes"]


@pytest.mark.parametrize("text", ["B", "B.", "(B)", "B. Yes", " B. yes. ", "B)", "<answer>B</answer>",
                                  "<observation>x</observation><think>y</think><answer>B. Yes</answer>"])
def test_each_accepted_form_reads_b(text):
    assert extract_letter(text) == "B"
    assert extract_letter(text, "AB") == "B"
    assert extract_letter(text, BINARY) == "B"


@pytest.mark.parametrize("text", [
    "A camera that moves is what I see here.",
    "A camera slides left, so the answer is yes.",
    "The answer is B.",
    "I would say B",
    "A or B",
    "B. Yes\nbecause the content slides left",
    "<answer>A camera pans</answer>",
    "",
])
def test_a_capital_letter_inside_prose_is_no_answer(text):
    assert extract_letter(text) is None
    assert extract_letter(text, "AB") is None
    assert extract_letter(text, BINARY) is None


def test_a_letter_outside_the_options_is_no_answer():
    assert extract_letter("C", "AB") is None
    assert extract_letter("<answer>C</answer>", BINARY) is None
    assert extract_letter("C") == "C"  # no options given: any letter


def test_option_text_must_be_the_letters_own():
    assert extract_letter("B. No", BINARY) is None
    assert extract_letter("A. No", BINARY) == "A"


def test_accuracy_reward_on_prose_is_zero():
    prose = ["A camera that moves is what I see here."]
    assert accuracy_reward(prose, answer=["A"], options=[BINARY]) == [0.0]
    assert accuracy_reward(["<answer>A</answer>"], answer=["A"], options=[BINARY]) == [1.0]
