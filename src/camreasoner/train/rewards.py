"""Reward functions for GRPO, as plain functions with TRL's signature, and a name registry.

Every reward takes ``completions`` (strings, or TRL's conversational form: one list of messages per
completion) and the dataset's columns as keyword lists aligned with ``completions``, and returns one
float per completion:

- ``format``: 1.0 when the response is exactly ``<observation>…</observation><think>…</think>
  <answer>X</answer>`` with ``X`` one of the item's option letters (:func:`ota.is_strict_format`;
  each block exactly once, so a response with several answer blocks scores 0.0).
- ``accuracy``: 1.0 when the answer letter (:func:`ota.extract_letter`, the reader evaluation
  uses) equals the ``answer`` column.
- ``consistency``: how far the directions claimed in ``<observation>`` agree with the geometric
  observer's measurements (the ``measured`` column, a JSON string of primitive -> bool), scored by
  :func:`camreasoner.qa.consistency.check_observation`.

CamReasoner's reward is ``0.9 * accuracy + 0.1 * format`` (:data:`DEFAULT_WEIGHTS`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import extract_letter, extract_observation, is_strict_format
from camreasoner.core.taxonomy import split_option

RewardFunc = Callable[..., list[float]]

DEFAULT_WEIGHTS: dict[str, float] = {"accuracy": 0.9, "format": 0.1}


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or the last message's content in TRL's chat form."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        content = completion[-1].get("content", "")
        if isinstance(content, str):
            return content
        # Content blocks: join the text parts.
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    if isinstance(completion, Mapping):
        return str(completion.get("content", ""))
    return str(completion)


def _letters(options: Any) -> str | None:
    """The option letters of one item (``"AB"``), or None when the options are unknown."""
    if options is None:
        return None
    try:
        return "".join(split_option(str(o))[0] for o in options)
    except ValueError:
        return None


def _reader_options(options: Any) -> str | list[str] | None:
    """One item's ``options`` as :func:`extract_letter` takes them: letters (``"AB"``) or option strings."""
    if options is None or isinstance(options, str):
        return options
    return [str(o) for o in options]


def _column(columns: Mapping[str, Any], name: str, n: int) -> list[Any]:
    values = columns.get(name)
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise CamReasonerError(f"reward column {name!r} has {len(values)} values for {n} completions")
    return values


def format_reward(completions: Sequence[Any], **columns: Any) -> list[float]:
    """1.0 for a response in the strict O-T-A format (answer one of the item's letters), else 0.0."""
    options = _column(columns, "options", len(completions))
    return [
        1.0 if is_strict_format(completion_text(c), _letters(o)) else 0.0
        for c, o in zip(completions, options, strict=True)
    ]


def _answer_letter(answer: Any) -> str | None:
    """The right letter from the ``answer`` column: ``"B"`` or ``"<answer>B</answer>"``."""
    if answer is None:
        return None
    text = str(answer).strip()
    if len(text) == 1:
        return text.upper()
    return extract_letter(text)


def accuracy_reward(completions: Sequence[Any], **columns: Any) -> list[float]:
    """1.0 when the response's answer letter equals ``answer``, else 0.0.

    The letter is read by evaluation's reader, :func:`camreasoner.core.ota.extract_letter`: the
    first ``<answer>`` block (a second block changes nothing), else a response that is only a
    letter (``B``, ``B.``, ``(B)``, ``B. Yes`` with the item's option text). Prose that starts with a
    letter and a letter outside the item's options score 0.0. A row whose ``answer`` is missing
    gets None (TRL leaves such rows out of the reward).
    """
    n = len(completions)
    answers = _column(columns, "answer", n)
    options = _column(columns, "options", n)
    out: list[float] = []
    for c, a, o in zip(completions, answers, options, strict=True):
        truth = _answer_letter(a)
        if truth is None:
            out.append(None)  # type: ignore[arg-type]
            continue
        letter = extract_letter(completion_text(c), _reader_options(o))
        out.append(1.0 if letter == truth else 0.0)
    return out


def parse_measured(measured: Any) -> dict[str, bool]:
    """The ``measured`` column of one row: a JSON string (or a dict) of primitive -> bool."""
    if measured is None:
        return {}
    if isinstance(measured, Mapping):
        return {str(k): bool(v) for k, v in measured.items() if v is not None}
    try:
        value = json.loads(measured)
    except (TypeError, json.JSONDecodeError) as exc:
        raise CamReasonerError(f"reward column 'measured' is not a JSON object: {exc}") from None
    if not isinstance(value, dict):
        raise CamReasonerError("reward column 'measured' is not a JSON object")
    return {str(k): bool(v) for k, v in value.items() if v is not None}


def consistency_reward(completions: Sequence[Any], **columns: Any) -> list[float]:
    """Agreement in [0, 1] of the ``<observation>`` block with the observer's ``measured`` primitives.

    A response without an observation block scores 0.0; a row without measurements gets None.
    """
    from camreasoner.qa.consistency import check_observation

    n = len(completions)
    measured = _column(columns, "measured", n)
    out: list[float] = []
    for c, m in zip(completions, measured, strict=True):
        if m is None:
            out.append(None)  # type: ignore[arg-type]
            continue
        observation = extract_observation(completion_text(c))
        if observation is None:
            out.append(0.0)
            continue
        out.append(float(check_observation(observation, parse_measured(m)).score))
    return out


REWARDS: dict[str, RewardFunc] = {
    "format": format_reward,
    "accuracy": accuracy_reward,
    "consistency": consistency_reward,
}


def reward_names() -> list[str]:
    """The names the registry knows."""
    return sorted(REWARDS)


def get_reward(name: str) -> RewardFunc:
    """The reward function called ``name``; an unknown name is a one-line error."""
    if name not in REWARDS:
        raise CamReasonerError(f"unknown reward {name!r}; choose from {', '.join(reward_names())}")
    return REWARDS[name]


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Validate a name -> weight mapping (known names, finite non-negative weights, not all zero)."""
    out: dict[str, float] = {}
    for name, w in weights.items():
        get_reward(name)
        try:
            value = float(w)
        except (TypeError, ValueError):
            raise CamReasonerError(f"reward weight for {name!r} must be a number, got {w!r}") from None
        if not value >= 0 or value == float("inf"):
            raise CamReasonerError(f"reward weight for {name!r} must be a finite number >= 0, got {w!r}")
        out[name] = value
    if not out or sum(out.values()) == 0:
        raise CamReasonerError("reward weights must name at least one reward with a weight above 0")
    return out


def weighted_reward(
    completions: Sequence[Any], weights: Mapping[str, float] | None = None, **columns: Any
) -> list[float]:
    """The weighted sum of the named rewards per completion (a missing reward counts as 0)."""
    weights = check_weights(weights or DEFAULT_WEIGHTS)
    total = [0.0] * len(completions)
    for name, w in weights.items():
        if w == 0:
            continue
        for i, r in enumerate(get_reward(name)(completions, **columns)):
            total[i] += w * (r if r is not None else 0.0)
    return total
