"""P(option letter) at the answer position of an O-T-A response.

After generation, each response is cut just before its first ``<answer>`` (or, when the model broke
the format and wrote none, ``<answer>`` is forced after its whole text). For every option letter
``L`` the text ``prefix + "<answer>" + L`` is tokenised; the tokens shared by all letters are fed to
the model with the prompt and video, and the log-probability of each letter's remaining tokens is
read from the logits (one forward pass when, as usual, the letters differ in one token; a byte-level
BPE may fuse the letter with ``>``, e.g. ``">B"``, which this handles). The letter probabilities are
renormalised to sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from camreasoner.model.prompt import ANSWER_OPEN


@dataclass(frozen=True)
class AnswerPrefix:
    """The response text up to the answer position, and whether ``<answer>`` had to be forced."""

    text: str
    forced: bool


def answer_prefix(response: str) -> AnswerPrefix:
    """The response up to (not including) its first ``<answer>``; the whole text if there is none."""
    idx = response.find(ANSWER_OPEN)
    if idx >= 0:
        return AnswerPrefix(response[:idx], forced=False)
    body = response.rstrip()
    return AnswerPrefix(body + "\n" if body else "", forced=True)


@dataclass(frozen=True)
class LetterContinuations:
    """Token ids shared by every letter's continuation, and each letter's own remaining ids."""

    common: list[int]
    suffixes: dict[str, list[int]]


def letter_continuations(tokenizer, prefix_text: str, letters: Sequence[str]) -> LetterContinuations:
    """Tokenise ``prefix + "<answer>" + L`` for each letter and split off the shared leading ids."""
    ids = {
        letter: tokenizer(prefix_text + ANSWER_OPEN + letter, add_special_tokens=False)["input_ids"]
        for letter in letters
    }
    seqs = list(ids.values())
    n = 0
    while all(len(s) > n for s in seqs) and len({s[n] for s in seqs}) == 1:
        n += 1
    common = seqs[0][:n]
    suffixes = {letter: s[n:] for letter, s in ids.items()}
    for letter, suffix in suffixes.items():
        if not suffix:  # cannot happen for distinct letters; guard anyway
            raise ValueError(f"letter {letter!r} adds no token after the answer tag")
    return LetterContinuations(common=common, suffixes=suffixes)


def normalise(logps: dict[str, float]) -> dict[str, float]:
    """Softmax over the letters' log-probabilities: probabilities that sum to 1."""
    top = max(logps.values())
    exp = {k: math.exp(v - top) for k, v in logps.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}
