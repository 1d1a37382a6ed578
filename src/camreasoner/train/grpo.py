"""GRPO on the suite's RL split: video prompts, O-T-A rewards, online filtering of groups.

Reads top to bottom: recipe checks, data (prompts with the clip), model, reward functions with
their weights, :class:`VideoGRPOTrainer`, train (resuming if asked), save.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.train.common import (
    common_trl_kwargs,
    load_model_and_processor,
    prepare,
    recipe_intervals_callback,
    save_final,
    time_budget_callback,
    trainable_parameters,
)
from camreasoner.train.configs import Recipe
from camreasoner.train.data import RL_COLUMNS, VideoInputs, load_rows, prompt_messages
from camreasoner.train.rewards import get_reward

log = logging.getLogger("camreasoner.train")


def check_rollout_engine(recipe: Recipe) -> None:
    """vLLM rollouts need vLLM installed, a GPU, and colocate mode (video); fail before any compute."""
    g = recipe.grpo
    if not g.use_vllm:
        return
    if g.vllm_mode != "colocate":
        raise CamReasonerError(
            f"{recipe.source}: grpo.vllm_mode 'server' cannot send video (TRL's vLLM client sends image "
            "features only); use vllm_mode: colocate"
        )
    if g.vllm_tensor_parallel_size != 1:
        raise CamReasonerError(
            f"{recipe.source}: grpo.vllm_tensor_parallel_size must be 1 for video rollouts (7B fits one GPU)"
        )
    if importlib.util.find_spec("vllm") is None:
        raise CamReasonerError(f"{recipe.source}: grpo.use_vllm is true but vllm is not installed")
    import torch

    if not torch.cuda.is_available():
        raise CamReasonerError(f"{recipe.source}: grpo.use_vllm is true but no GPU is visible")


def with_prompts(ds: Any) -> Any:
    """Add the conversational ``prompt`` column (video entry + question text) TRL's GRPO reads."""
    return ds.map(lambda row: {"prompt": prompt_messages(row)})


def grpo_kwargs(recipe: Recipe, prep: Any) -> dict[str, Any]:
    """The GRPOConfig fields the recipe's ``train`` and ``grpo`` sections set (see
    :data:`camreasoner.train.configs.GRPO_TRL_FIELDS`)."""
    g = recipe.grpo
    names = list(g.rewards)
    return dict(
        **common_trl_kwargs(prep),
        num_generations=g.num_generations,
        temperature=g.temperature,
        top_p=g.top_p,
        max_completion_length=g.max_completion_length,
        beta=g.beta,
        epsilon=g.epsilon,
        num_iterations=g.num_iterations,
        loss_type=g.loss_type,
        # EMA-GRPO replaces TRL's advantages after it computed its group-scaled ones
        scale_rewards="group" if g.scale_rewards == "ema" else g.scale_rewards,
        reward_weights=[g.rewards[n] for n in names],
        use_vllm=g.use_vllm,
        vllm_mode=g.vllm_mode,
        vllm_server_host=g.vllm_server_host,
        vllm_server_port=g.vllm_server_port,
        vllm_gpu_memory_utilization=g.vllm_gpu_memory_utilization,
        vllm_tensor_parallel_size=g.vllm_tensor_parallel_size,
    )


def grpo_args(recipe: Recipe, prep: Any) -> Any:
    """TRL's GRPOConfig from the recipe's ``train``, ``grpo`` and ``trl`` sections."""
    from trl import GRPOConfig

    return GRPOConfig(**grpo_kwargs(recipe, prep), **recipe.trl)


def build_trainer(recipe: Recipe) -> tuple[Any, Any, Any]:
    """Check the recipe and build ``(trainer, processor, prepared)`` without training."""
    check_rollout_engine(recipe)
    t = recipe.train
    g = recipe.grpo
    if (t.per_device_train_batch_size * t.gradient_accumulation_steps) % g.num_generations:
        raise CamReasonerError(
            f"{recipe.source}: train.per_device_train_batch_size x gradient_accumulation_steps "
            f"must be a multiple of grpo.num_generations ({g.num_generations})"
        )
    prep = prepare(recipe)  # every start-up check, before the heavy imports
    from camreasoner.train.advantages import EmaRewardStd
    from camreasoner.train.video_grpo import OnlineFilter, VideoGRPOTrainer

    d = recipe.data
    train_ds = with_prompts(
        load_rows(prep.splits.train, RL_COLUMNS, prep.splits.video_root, d.kinds, d.max_train_samples)
    )
    eval_ds = None
    if prep.splits.eval is not None and t.eval_steps:
        eval_ds = with_prompts(
            load_rows(prep.splits.eval, RL_COLUMNS, prep.splits.video_root, d.kinds, d.max_eval_samples)
        )
    model, processor = load_model_and_processor(prep)
    trainable, total = trainable_parameters(model)
    log.info("GRPO: %d prompts, %d/%d trainable parameters", len(train_ds), trainable, total)
    names = list(g.rewards)
    online = OnlineFilter(names.index(g.filter_reward), g.filter_low, g.filter_high) if g.online_filtering else None
    trainer = VideoGRPOTrainer(
        model=model,
        reward_funcs=[get_reward(n) for n in names],
        args=grpo_args(recipe, prep),
        train_dataset=train_ds,
        eval_dataset=eval_ds,
        processing_class=processor,
        video_inputs=VideoInputs(processor, recipe.video),
        online_filter=online,
        ema=EmaRewardStd(g.ema_decay, g.ema_floor) if g.scale_rewards == "ema" else None,
    )
    trainer.add_callback(recipe_intervals_callback())
    if recipe.train.max_minutes:
        trainer.add_callback(time_budget_callback(recipe.train.max_minutes))
    return trainer, processor, prep


def run_grpo(recipe: Recipe) -> Path:
    """Train as the recipe says; return the directory of the final model."""
    trainer, processor, prep = build_trainer(recipe)
    trainer.train(resume_from_checkpoint=prep.resume or None)
    return save_final(trainer, processor, prep.output_dir)
