"""Pass rates of a model on RL prompts, and the prompts worth a GRPO step.

A GRPO group whose completions all score the same carries no gradient (its advantages are 0; online
filtering drops it). After a good SFT most prompts are such groups. Offline difficulty filtering
samples ``samples`` answers per prompt from the starting model (the GRPO prompt, the same video
sampling, the ``hf`` backend's generation), scores each with the accuracy reward (the strict answer
reader), and keeps the prompts whose pass rate lies in ``[low, high]``: those the model sometimes
gets wrong. ``camreasoner train pass-rate`` writes them as a parquet file for ``data.train_file``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.train.configs import Recipe, VideoConfig, check_model_dir
from camreasoner.train.data import RL_COLUMNS, read_split, resolve_splits, video_paths
from camreasoner.train.rewards import accuracy_reward


@dataclass(frozen=True)
class PassRateOptions:
    """How pass rates are estimated and which prompts are kept."""

    samples: int = 8
    """Sampled answers per prompt (a GRPO group's size is the natural choice)."""
    temperature: float = 1.0
    """Sampling temperature (the recipe's ``grpo.temperature`` by default in the command)."""
    max_new_tokens: int = 144
    low: float = 0.01
    """Keep prompts whose pass rate is at least this ..."""
    high: float = 0.99
    """... and at most this (the online filter's bounds by default)."""
    max_prompts: int | None = None
    """Estimate on a random subset of this many prompts (None: all of them)."""
    batch_size: int = 16
    seed: int = 0

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise CamReasonerError(f"pass rates need at least 1 sample per prompt, got {self.samples}")
        if not 0.0 <= self.low <= self.high <= 1.0:
            raise CamReasonerError(f"pass-rate bounds need 0 <= low <= high <= 1, got {self.low}, {self.high}")


def pass_rates(model_dir: str | Path, rows: list[dict[str, Any]], video: VideoConfig,
               opts: PassRateOptions) -> list[float]:
    """Share of ``opts.samples`` sampled answers per row that the accuracy reward scores 1.

    ``rows`` hold ``video`` (a path), ``problem``, ``options`` and ``answer``. A row whose answers
    all failed to generate (an unreadable clip) gets NaN.
    """
    from camreasoner.backends.base import BackendItem
    from camreasoner.backends.hf import HFBackend

    backend = HFBackend(model=str(model_dir), fps=video.fps, max_frames=video.max_frames,
                        max_pixels=video.max_pixels, temperature=opts.temperature,
                        max_new_tokens=opts.max_new_tokens, batch_size=opts.batch_size, seed=opts.seed)
    items = [BackendItem(str(r["video"]), str(r["problem"]), tuple(r["options"]), f"{r.get('id', i)}#{s}")
             for i, r in enumerate(rows) for s in range(opts.samples)]
    responses = backend.answer(items)
    return score_samples([r.text for r in responses], [bool(r.error) for r in responses], rows, opts.samples)


def score_samples(texts: list[str], failed: list[bool], rows: list[dict[str, Any]], samples: int) -> list[float]:
    """Per-row pass rates of ``samples`` consecutive texts per row (row-major), by the accuracy
    reward; failed generations are left out and a row with none left gets NaN."""
    if len(texts) != len(rows) * samples or len(failed) != len(texts):
        raise ValueError(f"{len(texts)} texts for {len(rows)} rows x {samples} samples")
    scores = accuracy_reward(texts, answer=[r["answer"] for r in rows for _ in range(samples)],
                             options=[list(r["options"]) for r in rows for _ in range(samples)])
    rates = []
    for i in range(len(rows)):
        valid = [scores[j] for j in range(i * samples, (i + 1) * samples) if not failed[j] and scores[j] is not None]
        rates.append(sum(valid) / len(valid) if valid else math.nan)
    return rates


def keep(rate: float, opts: PassRateOptions) -> bool:
    """Whether a prompt with this pass rate is kept (NaN never is)."""
    return not math.isnan(rate) and opts.low <= rate <= opts.high


def select_prompts(recipe: Recipe, out: Path, opts: PassRateOptions) -> dict[str, Any]:
    """Estimate pass rates of the recipe's model on its RL training split (the rows GRPO would read:
    ``data.kinds``, ``data.max_train_samples``; a random ``opts.max_prompts`` of them); write the kept rows
    (every column, ``video`` as in the split, plus ``pass_rate``) to ``out`` (parquet, atomically).

    Returns counts and the mean pass rate; no kept prompt is a one-line error and writes nothing.
    """
    from camreasoner.core.io import atomic_path

    if recipe.stage != "grpo":
        raise CamReasonerError(f"{recipe.source}: pass rates are for GRPO recipes (stage is {recipe.stage!r})")
    check_model_dir(recipe.model.name_or_path, recipe.source)
    splits = resolve_splits(recipe.data, "grpo", recipe.source)
    df = read_split(splits.train, RL_COLUMNS, recipe.data.kinds, recipe.data.max_train_samples).to_pandas()
    if opts.max_prompts is not None and len(df) > opts.max_prompts:
        df = df.sample(n=opts.max_prompts, random_state=opts.seed)
    df = df.reset_index(drop=True)
    resolved = video_paths(splits.train, df["video"], splits.video_root)
    rows = [{**r, "video": resolved[r["video"]]} for r in df.to_dict("records")]
    rates = pass_rates(recipe.model.name_or_path, rows, recipe.video, opts)
    df["pass_rate"] = rates
    kept = df[[keep(x, opts) for x in rates]]
    if kept.empty:
        raise CamReasonerError(f"{splits.train}: no prompt has a pass rate in [{opts.low}, {opts.high}] "
                               f"({len(df)} estimated)")
    with atomic_path(out, suffix=".parquet") as tmp:
        kept.to_parquet(tmp, index=False)
    finite = [x for x in rates if not math.isnan(x)]
    return {"estimated": len(df), "kept": len(kept), "failed": len(df) - len(finite),
            "mean_pass_rate": sum(finite) / len(finite) if finite else None,
            "all_right": sum(x == 1.0 for x in finite), "all_wrong": sum(x == 0.0 for x in finite)}
