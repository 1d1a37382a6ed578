"""Supervised fine-tuning on O-T-A chains with TRL's SFTTrainer and Qwen2.5-VL video inputs.

Reads top to bottom: recipe checks, data, model (full or LoRA, vision frozen or not), trainer,
train (resuming if asked), save. The loss covers only the assistant's O-T-A response.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from camreasoner.train.common import (
    CheckpointResumeMixin,
    common_trl_kwargs,
    load_model_and_processor,
    prepare,
    recipe_intervals_callback,
    save_final,
    time_budget_callback,
    trainable_parameters,
)
from camreasoner.train.configs import Recipe
from camreasoner.train.data import SFT_COLUMNS, VideoSFTCollator, bare_prompt_callback, load_rows

log = logging.getLogger("camreasoner.train")


def sft_kwargs(prep: Any) -> dict[str, Any]:
    """The SFTConfig fields the recipe sets (see :data:`camreasoner.train.configs.SFT_TRL_FIELDS`)."""
    return {
        **common_trl_kwargs(prep),
        "max_length": None,  # the collator enforces train.max_length on the expanded video tokens
        "dataset_kwargs": {"skip_prepare_dataset": True},
    }


def build_trainer(recipe: Recipe) -> tuple[Any, Any, Any]:
    """Check the recipe and build ``(trainer, processor, prepared)`` without training."""
    prep = prepare(recipe)  # every start-up check, before the heavy imports
    from trl import SFTConfig, SFTTrainer

    d = recipe.data
    train_ds = load_rows(prep.splits.train, SFT_COLUMNS, prep.splits.video_root, d.kinds, d.max_train_samples)
    eval_ds = None
    if prep.splits.eval is not None and recipe.train.eval_steps:
        eval_ds = load_rows(prep.splits.eval, SFT_COLUMNS, prep.splits.video_root, d.kinds, d.max_eval_samples)
    model, processor = load_model_and_processor(prep)
    trainable, total = trainable_parameters(model)
    log.info("SFT: %d rows, %d/%d trainable parameters", len(train_ds), trainable, total)
    args = SFTConfig(**sft_kwargs(prep), **recipe.trl)
    class VideoSFTTrainer(CheckpointResumeMixin, SFTTrainer):
        """TRL's SFTTrainer with full-model resume fixed for Qwen2.5-VL's renamed keys."""

    collator = VideoSFTCollator(processor, recipe.video, recipe.train.max_length)
    trainer = VideoSFTTrainer(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        data_collator=collator,
        processing_class=processor,
    )
    trainer.add_callback(recipe_intervals_callback())
    if d.bare_prompt_steps:
        trainer.add_callback(bare_prompt_callback(collator, d.bare_prompt_steps))
    if recipe.train.max_minutes:
        trainer.add_callback(time_budget_callback(recipe.train.max_minutes))
    return trainer, processor, prep


def run_sft(recipe: Recipe) -> Path:
    """Train as the recipe says; return the directory of the final model."""
    trainer, processor, prep = build_trainer(recipe)
    trainer.train(resume_from_checkpoint=prep.resume or None)
    return save_final(trainer, processor, prep.output_dir)
