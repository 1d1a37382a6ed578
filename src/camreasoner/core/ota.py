"""The O-T-A response format: building, strict parsing (the format reward) and lenient parsing.

``<observation>…</observation><think>…</think><answer>X</answer>``, in that order, nothing outside
the blocks but whitespace; ``X`` is one option letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STRICT = re.compile(
    r"^\s*<observation>(?P<observation>.*?)</observation>\s*"
    r"<think>(?P<think>.*?)</think>\s*"
    r"<answer>(?P<answer>.*?)</answer>\s*$",
    flags=re.S,
)
_ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", flags=re.S)
_BLOCK = re.compile(r"<observation>(.*?)</observation>", flags=re.S)
_LETTER = re.compile(r"^\s*\(?([A-Z])\)?\s*(?:[.):].*)?$", flags=re.S)
_LONE_LETTER = re.compile(r"(?<![A-Za-z])([A-Z])(?![A-Za-z])")
_TAGS = ("observation", "think", "answer")


@dataclass(frozen=True)
class OTA:
    """One parsed response: the three blocks' texts and the answer letter (None if unreadable)."""

    observation: str
    think: str
    answer: str
    letter: str | None


def format_ota(observation: str, think: str, answer: str) -> str:
    """Join the three blocks into one response string."""
    return (
        f"<observation>{observation.strip()}</observation>\n"
        f"<think>{think.strip()}</think>\n"
        f"<answer>{answer.strip()}</answer>"
    )


def _letter_of(answer_text: str, valid: str | None) -> str | None:
    match = _LETTER.match(answer_text)
    if not match:
        return None
    letter = match.group(1)
    if valid is not None and letter not in valid:
        return None
    return letter


def parse_strict(text: str, valid_letters: str | None = None) -> OTA | None:
    """Parse a response that follows the format exactly; None if it does not.

    The answer block must hold one option letter (optionally followed by ". text"), and each tag
    must appear exactly once.
    """
    if any(text.count(f"<{t}>") != 1 or text.count(f"</{t}>") != 1 for t in _TAGS):
        return None
    match = _STRICT.match(text)
    if not match:
        return None
    letter = _letter_of(match.group("answer"), valid_letters)
    if letter is None:
        return None
    return OTA(
        observation=match.group("observation").strip(),
        think=match.group("think").strip(),
        answer=match.group("answer").strip(),
        letter=letter,
    )


def is_strict_format(text: str, valid_letters: str | None = None) -> bool:
    """Whether ``text`` follows the O-T-A format exactly (what the format reward demands)."""
    return parse_strict(text, valid_letters) is not None


def extract_letter(text: str, valid_letters: str | None = None) -> str | None:
    """Lenient answer extraction: the first ``<answer>`` block's letter, else a lone option letter.

    A lone letter is taken only when exactly one distinct valid letter stands alone in the text.
    """
    block = _ANSWER_BLOCK.search(text)
    if block is not None:
        return _letter_of(block.group(1), valid_letters)
    candidates = {m.group(1) for m in _LONE_LETTER.finditer(text)}
    if valid_letters is not None:
        candidates &= set(valid_letters)
    if len(candidates) == 1:
        return candidates.pop()
    return None


def extract_observation(text: str) -> str | None:
    """The first ``<observation>`` block's text, or None."""
    match = _BLOCK.search(text)
    return match.group(1).strip() if match else None
