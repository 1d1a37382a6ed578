"""camreasoner's rewards for verl and EasyR1 (the RL frameworks CamReasoner was trained with).

verl calls ``compute_score(data_source, solution_str, ground_truth, extra_info)`` once per response
(``custom_reward_function.path=.../verl_reward.py``, ``custom_reward_function.name=compute_score``);
EasyR1's batch reward manager calls ``compute_score_batch(reward_inputs)`` with dicts holding
``response`` and ``ground_truth``. Both give ``0.9 * accuracy + 0.1 * format`` by default, plus the
parts as extra metrics. ``extra_info`` may carry ``options`` (lettered), ``measured`` (the
observer's primitives, JSON) and ``reward_weights`` (name -> weight) to change the mix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from camreasoner.train.rewards import DEFAULT_WEIGHTS, REWARDS, check_weights


def _score(response: str, ground_truth: Any, extra: Mapping[str, Any]) -> dict[str, float]:
    weights = check_weights(extra.get("reward_weights") or DEFAULT_WEIGHTS)
    columns: dict[str, list[Any]] = {"answer": [ground_truth]}
    if extra.get("options") is not None:
        columns["options"] = [list(extra["options"])]
    if extra.get("measured") is not None:
        columns["measured"] = [extra["measured"]]
    parts: dict[str, float] = {}
    total = 0.0
    for name in sorted(set(weights) | {"format", "accuracy"}):
        if name == "consistency" and "measured" not in columns:
            continue
        value = REWARDS[name]([response], **columns)[0]
        value = 0.0 if value is None else float(value)
        parts[name] = value
        total += weights.get(name, 0.0) * value
    return {"score": total, **parts}


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: Mapping[str, Any] | None = None
) -> dict[str, float]:
    """verl's custom reward: ``{"score": weighted reward, "format": .., "accuracy": .., ...}``.

    ``ground_truth`` is the right letter (``"B"``) or ``"<answer>B</answer>"``.
    """
    del data_source  # one scoring rule for every camreasoner source
    return _score(solution_str, ground_truth, extra_info or {})


def compute_score_batch(reward_inputs: list[Mapping[str, Any]], **extra: Any) -> list[dict[str, float]]:
    """EasyR1's batch reward: each input has ``response`` and ``ground_truth`` (and optional extras)."""
    out = []
    for item in reward_inputs:
        info = {**extra, **{k: v for k, v in item.items() if k not in ("response", "ground_truth")}}
        out.append(_score(str(item["response"]), item["ground_truth"], info))
    return out
