"""EMA-GRPO advantages: group-mean centring, scaled by a per-task-type moving reward std.

CamReasoner trains with EasyR1's ``ema_grpo`` estimator. For completion ``i`` of a group::

    advantage_i = (r_i - mean of its group) / max(ema_std[task type], floor)

The scale is not the group's own std (which blows up a group whose rewards barely differ, and
weights easy and hard prompts alike) but a running std of the rewards of the prompt's task type:

- ``ema_std`` comes from exponential moving averages of the first and second moments of the
  rewards, ``m1 <- decay*m1 + (1-decay)*mean(r)`` and ``m2 <- decay*m2 + (1-decay)*mean(r**2)``,
  over all scored completions of that type in the batch (the batch std of the type's rewards, not
  the mean of its groups' stds), and ``ema_std = sqrt(max(m2 - m1**2, 0))``.
- A type's moments start at its first batch's moments, and each batch updates them before its
  own advantages are computed (so the first batch is scaled by its own batch std).
- Unscored completions (reward NaN: every reward None, or a group dropped by online filtering)
  take no part in the statistics and get advantage 0.

The task type of a row is its ``problem_type`` column when it has one (EasyR1 rows), else its
``kind`` column (the suite's RL rows: ``binary`` or the question's skill), else ``all``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_DECAY = 0.99
DEFAULT_FLOOR = 1e-3


@dataclass
class EmaRewardStd:
    """The per-task-type moving moments of the reward (the estimator's whole state)."""

    decay: float = DEFAULT_DECAY
    floor: float = DEFAULT_FLOOR
    moments: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Task type -> (moving mean of r, moving mean of r**2)."""

    def update(self, task: str, rewards: np.ndarray) -> None:
        """Fold one batch's rewards of ``task`` (finite values only) into its moments."""
        if rewards.size == 0:
            return
        batch = (float(rewards.mean()), float((rewards * rewards).mean()))
        old = self.moments.get(task)
        if old is None:
            self.moments[task] = batch
            return
        d = self.decay
        self.moments[task] = (d * old[0] + (1 - d) * batch[0], d * old[1] + (1 - d) * batch[1])

    def std(self, task: str) -> float:
        """The moving std of ``task``'s reward, at least ``floor`` (``floor`` for an unseen type)."""
        m = self.moments.get(task)
        if m is None:
            return self.floor
        return max(math.sqrt(max(m[1] - m[0] * m[0], 0.0)), self.floor)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (saved in checkpoints)."""
        return {"decay": self.decay, "floor": self.floor, "moments": {k: list(v) for k, v in self.moments.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EmaRewardStd:
        moments = {str(k): (float(v[0]), float(v[1])) for k, v in data.get("moments", {}).items()}
        return cls(decay=float(data["decay"]), floor=float(data["floor"]), moments=moments)


def ema_advantages(
    rewards: Sequence[float] | np.ndarray, group_size: int, task_types: Sequence[str], state: EmaRewardStd
) -> np.ndarray:
    """EMA-GRPO advantages of one batch; updates ``state`` with the batch's rewards.

    ``rewards`` holds one (weighted, summed) reward per completion, the ``group_size`` completions
    of each prompt next to each other, NaN where a completion is unscored; ``task_types`` gives
    each completion's task type.
    """
    r = np.asarray(rewards, dtype=np.float64)
    if r.ndim != 1 or group_size < 1 or r.size % group_size:
        raise ValueError(f"{r.size} rewards do not split into groups of {group_size}")
    if len(task_types) != r.size:
        raise ValueError(f"{len(task_types)} task types for {r.size} rewards")
    types = np.asarray([str(t) for t in task_types], dtype=object)
    groups = r.reshape(-1, group_size)
    scored = ~np.isnan(groups)
    counts = scored.sum(axis=1)
    sums = np.where(scored, groups, 0.0).sum(axis=1)
    means = np.divide(sums, counts, out=np.full(len(counts), np.nan), where=counts > 0)
    centred = r - np.repeat(means, group_size)
    finite = ~np.isnan(r)
    for task in sorted(set(types)):
        state.update(task, r[(types == task) & finite])
    scale = np.array([state.std(t) for t in types])
    return np.nan_to_num(centred / scale, nan=0.0)


def task_type(row: Mapping[str, Any]) -> str:
    """A row's task type: ``problem_type``, else ``kind``, else ``all``."""
    for key in ("problem_type", "kind"):
        value = row.get(key)
        if isinstance(value, str) and value:
            return value
    return "all"
