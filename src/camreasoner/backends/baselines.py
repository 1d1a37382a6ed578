"""Trivial baselines that every result should be compared with; they never open a video.

- ``always-no`` / ``always-yes``: the same answer to every binary question (P(Yes) = 0 or 1).
- ``prior``: P(Yes) = the primitive's Yes rate in a labels or question file given as ``model``
  (``--model FILE``; also CameraBench's binary_classification folder); the answer is Yes when
  that rate is above one half.

On multiple-choice (VQA) items the constant baselines choose option A with uniform
probabilities; ``prior`` chooses the letter most often right for that skill in its file.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from camreasoner.backends.base import BackendItem, BackendResponse
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import format_ota
from camreasoner.core.taxonomy import (
    BINARY_OPTIONS,
    NO_LETTER,
    QUESTION_TO_PRIMITIVE,
    YES_LETTER,
    skill_of,
    split_option,
)


def _letters(options: Sequence[str]) -> list[str]:
    return [split_option(o)[0] for o in options]


def _response(letter: str, probs: dict[str, float], why: str) -> BackendResponse:
    text = format_ota(
        "No video was looked at: this is a baseline that ignores the video.",
        why,
        letter,
    )
    return BackendResponse(text=text, letter=letter, option_probs=probs)


def _uniform(item: BackendItem) -> dict[str, float]:
    letters = _letters(item.options)
    return {letter: 1.0 / len(letters) for letter in letters}


class ConstantBackend:
    """Answers Yes (or No) to every binary question; option A to every other question."""

    needs_video = False

    def __init__(self, yes: bool, **_: Any) -> None:
        self.yes = yes
        self.name = "always-yes" if yes else "always-no"

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """One constant response per item."""
        out = []
        for item in items:
            if tuple(item.options) == BINARY_OPTIONS:
                letter = YES_LETTER if self.yes else NO_LETTER
                p_yes = 1.0 if self.yes else 0.0
                probs = {NO_LETTER: 1.0 - p_yes, YES_LETTER: p_yes}
                out.append(
                    _response(letter, probs, f"The baseline always answers {'Yes' if self.yes else 'No'}.")
                )
            else:
                out.append(_response("A", _uniform(item), "The baseline always chooses the first option."))
        return out


def always_no(**options: Any) -> ConstantBackend:
    """The ``always-no`` backend."""
    return ConstantBackend(yes=False, **options)


def always_yes(**options: Any) -> ConstantBackend:
    """The ``always-yes`` backend."""
    return ConstantBackend(yes=True, **options)


def _is_labels_file(path: Path) -> bool:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                if line.lstrip().startswith("["):
                    return False
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(rec, dict) and "primitives" in rec
    return False


def yes_rates(path: str | Path) -> tuple[dict[str, float], dict[str, Counter[str]]]:
    """Per-primitive Yes rates and per-skill counts of right letters in a labels or question file."""
    path = Path(path)
    if not path.exists():
        raise CamReasonerError(f"{path}: no such file (the prior backend reads Yes rates from it)")
    yes: Counter[str] = Counter()
    known: Counter[str] = Counter()
    letters: dict[str, Counter[str]] = {}
    if path.is_file() and _is_labels_file(path):
        from camreasoner.formats.labels import read_labels

        for clip in read_labels(path):
            for name, value in clip.primitives.items():
                if value is not None:
                    known[name] += 1
                    yes[name] += bool(value)
    else:
        from camreasoner.formats.official import read_bench

        for q in read_bench(path):
            if q.answer is None:
                continue
            if q.is_binary and q.primitive:
                known[q.primitive] += 1
                yes[q.primitive] += q.answer == YES_LETTER
            else:
                letters.setdefault(skill_of(q.problem_id), Counter())[q.answer] += 1
    if not known and not letters:
        raise CamReasonerError(f"{path}: no known answers to take Yes rates from")
    return {name: yes[name] / known[name] for name in known}, letters


class PriorBackend:
    """P(Yes) = the primitive's Yes rate in a reference file; ignores the video."""

    needs_video = False
    name = "prior"

    def __init__(self, model: str | None = None, **_: Any) -> None:
        if not model:
            raise CamReasonerError(
                "backend 'prior' needs --model FILE: a labels or question file to take Yes rates from"
            )
        self.source = str(model)
        self.rates, self.letters = yes_rates(model)

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """One prior-based response per item."""
        out = []
        for item in items:
            if tuple(item.options) == BINARY_OPTIONS:
                primitive = QUESTION_TO_PRIMITIVE.get(item.question.strip())
                if primitive is None or primitive not in self.rates:
                    out.append(
                        BackendResponse("", None, {}, error=f"no Yes rate for question {item.question!r}")
                    )
                    continue
                p = self.rates[primitive]
                letter = YES_LETTER if p > 0.5 else NO_LETTER
                why = f"{primitive} holds in {p:.1%} of the clips of {Path(self.source).name}."
                out.append(_response(letter, {NO_LETTER: 1.0 - p, YES_LETTER: p}, why))
            else:
                counts = self.letters.get(skill_of(item.id), Counter()) if item.id else Counter()
                valid = _letters(item.options)
                total = sum(counts[v] for v in valid)
                if total == 0:
                    out.append(
                        _response(valid[0], _uniform(item), "No prior for this skill: the first option.")
                    )
                    continue
                probs = {v: counts[v] / total for v in valid}
                letter = max(valid, key=lambda v: (probs[v], -valid.index(v)))
                out.append(_response(letter, probs, "The letter most often right for this skill."))
        return out
