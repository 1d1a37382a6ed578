"""The O-T-A response format: building, strict parsing (the format reward) and lenient parsing.

``<observation>…</observation><think>…</think><answer>X</answer>``, in that order, nothing outside
the blocks but whitespace; ``X`` is one option letter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from camreasoner.core.taxonomy import split_option

_STRICT = re.compile(
    r"^\s*<observation>(?P<observation>.*?)</observation>\s*"
    r"<think>(?P<think>.*?)</think>\s*"
    r"<answer>(?P<answer>.*?)</answer>\s*$",
    flags=re.S,
)
_ANSWER_BLOCK = re.compile(r"<answer>(.*?)</answer>", flags=re.S)
_BLOCK = re.compile(r"<observation>(.*?)</observation>", flags=re.S)
_LETTER = re.compile(r"^\s*\(?([A-Z])\)?\s*(?:[.):].*)?$", flags=re.S)
_BARE = re.compile(r"^\s*\(?([A-Z])\)?\s*(?:[.):]\s*(?P<rest>.*?))?\s*$", flags=re.S)
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
    """The letter an ``<answer>`` block holds (``B``, ``(B)``, ``B.``, ``B. Yes``), or None."""
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


def _option_texts(options: str | Sequence[str] | None) -> tuple[str | None, dict[str, str]]:
    """Valid letters and letter -> option text from ``"AB"`` or ``["A. No", "B. Yes"]``."""
    if options is None:
        return None, {}
    if isinstance(options, str):
        return options, {}
    texts: dict[str, str] = {}
    for option in options:
        try:
            letter, text = split_option(str(option))
        except ValueError:
            continue
        texts[letter] = text
    return "".join(texts), texts


def _bare_letter(text: str, valid: str | None, texts: dict[str, str]) -> str | None:
    """The letter of a response that is only a letter, optionally followed by its option text."""
    match = _BARE.match(text)
    if not match:
        return None
    letter, rest = match.group(1), match.group("rest")
    if valid is not None and letter not in valid:
        return None
    if rest is None or not rest.strip():
        return letter
    rest = rest.strip().rstrip(".").strip()
    if letter in texts:
        return letter if rest.casefold() == texts[letter].rstrip(".").strip().casefold() else None
    return letter if "\n" not in rest else None


def extract_letter(text: str, options: str | Sequence[str] | None = None) -> str | None:
    """The one answer reader: the first ``<answer>`` block's letter, or a response that is only a letter.

    Accepted bare responses: ``B``, ``B.``, ``(B)``, ``B. Yes`` (the letter and its option text;
    when only the letters are known, one line after ``B.``). A capital letter inside prose is no
    answer. ``options`` is the item's letters (``"AB"``) or options (``["A. No", "B. Yes"]``); a
    letter outside them is no answer.
    """
    valid, texts = _option_texts(options)
    block = _ANSWER_BLOCK.search(text)
    if block is not None:
        return _letter_of(block.group(1), valid)
    return _bare_letter(text, valid, texts)


def extract_observation(text: str) -> str | None:
    """The first ``<observation>`` block's text, or None."""
    match = _BLOCK.search(text)
    return match.group(1).strip() if match else None
