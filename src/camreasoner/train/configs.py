"""Training recipes: typed, documented config dataclasses loaded from YAML.

A recipe is a YAML mapping with the sections ``model``, ``lora``, ``data``, ``video``, ``train`` and
(GRPO only) ``grpo``, plus ``hardware`` (a sentence saying what the recipe needs) and ``trl`` (extra
keyword arguments for TRL's ``SFTConfig`` / ``GRPOConfig``, checked against their fields). Unknown
keys, wrong types and missing files are rejected at start-up with one line naming the file and the
key, before any model is loaded.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from camreasoner.core.errors import CamReasonerError
from camreasoner.train.advantages import DEFAULT_DECAY, DEFAULT_FLOOR


@dataclass
class ModelConfig:
    """Which checkpoint to train and how."""

    name_or_path: str | None = None
    """A Qwen2.5-VL checkpoint directory or hub name (local paths only on this machine)."""
    build_tiny: bool = False
    """When ``name_or_path`` is empty: build camreasoner's tiny random Qwen2.5-VL into
    ``<output_dir>/base_model`` and train that (CPU smoke runs and tests)."""
    tiny_seed: int = 0
    """Seed of the tiny model's random weights."""
    tiny_text_hidden: int = 64
    """Tiny model only: language model width (a multiple of 64)."""
    tiny_text_layers: int = 2
    """Tiny model only: language model layers."""
    tiny_vision_hidden: int = 32
    """Tiny model only: vision tower width (a multiple of 16)."""
    tiny_vision_depth: int = 2
    """Tiny model only: vision tower blocks."""
    dtype: str = "float32"
    """Weights dtype: float32, bfloat16, float16 or auto."""
    attn_implementation: str | None = None
    """``sdpa``, ``eager`` or ``flash_attention_2``; None lets transformers choose."""
    freeze_vision: bool = True
    """Freeze the vision tower (and its merger): train only the language model."""
    gradient_checkpointing: bool = False
    """Trade compute for memory (needed for 7B)."""


@dataclass
class LoraConfig:
    """Low-rank adapters (PEFT) instead of full fine-tuning."""

    enabled: bool = False
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    """Module names of the language model to adapt (the vision tower is never adapted)."""


@dataclass
class DataConfig:
    """Where the suite's parquet exports are (contract: OUT/hf/{sft,rl}/{train,validation,test}.parquet)."""

    suite_dir: str | None = None
    """A ``camreasoner suite build`` output directory; its ``suite.json`` gives the video root."""
    train_file: str | None = None
    """A parquet file to train on (overrides the suite's train split)."""
    eval_file: str | None = None
    """A parquet file to evaluate on (overrides the suite's validation split)."""
    video_root: str | None = None
    """Directory the ``video`` column is relative to (default: suite.json's video_root, else the
    parquet file's directory)."""
    kinds: list[str] | None = None
    """Keep only rows whose ``kind`` is listed (e.g. ``[binary]``); None keeps all."""
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    bare_prompt_steps: int = 0
    """SFT only: for this many first steps the user turn holds question and options without the
    O-T-A instruction (a warm-up for models trained from scratch, such as the tiny one); 0 = off."""


@dataclass(frozen=True)
class VideoConfig:
    """How a clip becomes the model's video input: the same sampling as the hf/vllm backends
    (:class:`camreasoner.video.sampling.VideoSampling`), so training sees what evaluation sees."""

    fps: float = 2.0
    """Frames sampled per second of video."""
    max_frames: int = 16
    """At most this many frames (a longer clip is sampled uniformly at a lower rate)."""
    max_pixels: int = 128 * 28 * 28
    """Upper bound on each frame's area after resizing (sides are multiples of 28)."""
    min_pixels: int = 4 * 28 * 28
    """Lower bound on each frame's area."""


@dataclass
class TrainConfig:
    """Optimiser, schedule, checkpoints and logging (mapped onto transformers' TrainingArguments)."""

    output_dir: str = "runs/train"
    max_steps: int = -1
    """Stop after this many optimiser steps (-1: run num_train_epochs)."""
    num_train_epochs: float = 1.0
    max_minutes: float | None = None
    """Stop (and save) after this many minutes of training, whichever of the limits comes first."""
    per_device_train_batch_size: int = 1
    per_device_eval_batch_size: int = 1
    gradient_accumulation_steps: int = 1
    learning_rate: float = 1e-5
    lr_scheduler_type: str = "cosine"
    warmup_steps: float = 0.0
    """Warm-up length: steps, or a fraction of all steps when below 1."""
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 42
    bf16: bool = False
    logging_steps: int = 1
    save_steps: int = 100
    save_total_limit: int | None = 2
    eval_steps: int | None = None
    """Evaluate every this many steps (None: no evaluation during training)."""
    report_to: list[str] | str = "auto"
    """Logging backends: ``auto`` = TensorBoard, plus Weights & Biases when wandb is installed."""
    resume_from_checkpoint: bool | str = False
    """True resumes from the latest checkpoint in output_dir; a path resumes from that checkpoint."""
    max_length: int | None = 4096
    """SFT: longest tokenised example (prompt + video tokens + response)."""
    deepspeed: str | None = None
    """A DeepSpeed JSON config (multi-GPU recipes)."""
    dataloader_num_workers: int = 0


@dataclass
class GRPOSection:
    """Group-relative policy optimisation on the RL split."""

    num_generations: int = 8
    """Group size: completions sampled per prompt."""
    temperature: float = 1.0
    top_p: float = 1.0
    max_completion_length: int = 256
    beta: float = 0.04
    """KL coefficient against the reference model (0 loads no reference model)."""
    epsilon: float = 0.2
    """PPO clip range."""
    num_iterations: int = 1
    loss_type: str = "grpo"
    scale_rewards: str = "group"
    """Advantage scaling: TRL's ``group`` (each group's reward std), ``batch`` (the batch's std),
    ``none``, or ``ema`` (CamReasoner's EMA-GRPO: a moving reward std per task type, see
    :mod:`camreasoner.train.advantages`)."""
    ema_decay: float = DEFAULT_DECAY
    """``scale_rewards: ema`` only: decay of the per-task-type moving moments (in (0, 1))."""
    ema_floor: float = DEFAULT_FLOOR
    """``scale_rewards: ema`` only: the smallest std the advantages are divided by (> 0)."""
    rewards: dict[str, float] = field(default_factory=lambda: {"accuracy": 0.9, "format": 0.1})
    """Reward name -> weight (names from camreasoner.train.rewards: accuracy, format, consistency)."""
    online_filtering: bool = True
    """Drop groups whose pass rate on ``filter_reward`` lies outside [filter_low, filter_high] (they
    carry no learning signal), as CamReasoner does."""
    filter_reward: str = "accuracy"
    filter_low: float = 0.01
    filter_high: float = 0.99
    use_vllm: bool = False
    """Sample rollouts with vLLM (GPU only)."""
    vllm_mode: str = "colocate"
    """``colocate`` (vLLM inside the trainer processes) or ``server`` (``trl vllm-serve``)."""
    vllm_server_host: str = "0.0.0.0"
    vllm_server_port: int = 8000
    vllm_gpu_memory_utilization: float = 0.3
    vllm_tensor_parallel_size: int = 1


@dataclass
class Recipe:
    """A whole training recipe."""

    stage: str = "sft"
    """``sft`` or ``grpo``."""
    hardware: str = ""
    """What the recipe needs (e.g. "CPU, 2 cores" or "1 node, 8x H100 80GB")."""
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    grpo: GRPOSection = field(default_factory=GRPOSection)
    trl: dict[str, Any] = field(default_factory=dict)
    """Extra TRL config fields (e.g. ``vllm_enable_sleep_mode``); names are checked against TRL."""
    source: str = ""
    """The YAML file this recipe came from (set by the loader)."""


T = TypeVar("T")


def _type_ok(value: Any, annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is list:
        (inner,) = typing.get_args(annotation)
        return isinstance(value, list) and all(_type_ok(v, inner) for v in value)
    if origin is dict:
        key_t, val_t = typing.get_args(annotation)
        return isinstance(value, dict) and all(
            _type_ok(k, key_t) and _type_ok(v, val_t) for k, v in value.items()
        )
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _type_name(annotation: Any) -> str:
    return str(annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")


def _build(cls: type[T], raw: Any, where: str, source: str) -> T:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CamReasonerError(f"{source}: '{where}' must be a mapping of keys to values")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{where}.{key}" if where else str(key)
        if key not in fields or key == "source":
            known = ", ".join(k for k in fields if k != "source")
            raise CamReasonerError(f"{source}: unknown key '{name}' (known: {known})")
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            kwargs[key] = _build(annotation, value, name, source)
            continue
        if annotation is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not _type_ok(value, annotation):
            raise CamReasonerError(
                f"{source}: key '{name}' must be {_type_name(annotation)}, got {value!r}"
            )
        kwargs[key] = value
    return cls(**kwargs)


def recipe_from_dict(raw: Any, source: str = "<recipe>") -> Recipe:
    """Build a :class:`Recipe` from a parsed mapping; unknown keys and wrong types are one-line errors."""
    recipe = _build(Recipe, raw, "", source)
    recipe.source = source
    _check_values(recipe)
    return recipe


def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a YAML recipe file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise CamReasonerError(f"{p}: no such recipe file")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise CamReasonerError(f"{p}: not valid YAML{line}") from None
    return recipe_from_dict(raw, str(p))


def _check_values(r: Recipe) -> None:
    src = r.source
    if r.stage not in ("sft", "grpo"):
        raise CamReasonerError(f"{src}: key 'stage' must be 'sft' or 'grpo', got {r.stage!r}")
    if r.model.dtype not in ("float32", "bfloat16", "float16", "auto"):
        raise CamReasonerError(f"{src}: key 'model.dtype' must be float32, bfloat16, float16 or auto")
    v = r.video
    if v.fps <= 0 or v.max_frames < 2 or v.max_pixels < v.min_pixels or v.min_pixels < 28 * 28:
        raise CamReasonerError(
            f"{src}: 'video' needs fps > 0, max_frames >= 2 and 784 <= min_pixels <= max_pixels"
        )
    if r.data.bare_prompt_steps < 0:
        raise CamReasonerError(f"{src}: key 'data.bare_prompt_steps' must be >= 0")
    if r.data.bare_prompt_steps and r.stage != "sft":
        raise CamReasonerError(f"{src}: key 'data.bare_prompt_steps' is for SFT recipes only")
    if r.data.bare_prompt_steps and r.train.dataloader_num_workers:
        raise CamReasonerError(
            f"{src}: 'data.bare_prompt_steps' needs train.dataloader_num_workers: 0 (the switch is made "
            "in the main process)"
        )
    g = r.grpo
    if g.num_generations < 2:
        raise CamReasonerError(f"{src}: key 'grpo.num_generations' must be at least 2 (a group)")
    if not 0.0 <= g.filter_low <= g.filter_high <= 1.0:
        raise CamReasonerError(f"{src}: 'grpo' needs 0 <= filter_low <= filter_high <= 1")
    if g.scale_rewards not in SCALE_REWARDS:
        raise CamReasonerError(
            f"{src}: key 'grpo.scale_rewards' must be one of {', '.join(SCALE_REWARDS)}, got {g.scale_rewards!r}"
        )
    if not 0.0 < g.ema_decay < 1.0 or not g.ema_floor > 0.0:
        raise CamReasonerError(f"{src}: 'grpo' needs 0 < ema_decay < 1 and ema_floor > 0")
    if g.vllm_mode not in ("colocate", "server"):
        raise CamReasonerError(f"{src}: key 'grpo.vllm_mode' must be 'colocate' or 'server'")
    from camreasoner.train.rewards import check_weights, get_reward

    try:
        check_weights(g.rewards)
        get_reward(g.filter_reward)
    except CamReasonerError as exc:
        raise CamReasonerError(f"{src}: 'grpo': {exc}") from None
    if r.stage == "grpo" and g.online_filtering and g.filter_reward not in g.rewards:
        raise CamReasonerError(
            f"{src}: key 'grpo.filter_reward' ({g.filter_reward!r}) must be one of grpo.rewards"
        )
    _check_trl_keys(r)


SCALE_REWARDS = ("group", "batch", "none", "ema")
"""Values of ``grpo.scale_rewards``: TRL's three and camreasoner's EMA-GRPO."""

_SET_HERE = "camreasoner itself"
COMMON_TRL_FIELDS: dict[str, str] = {
    "output_dir": "train.output_dir",
    "max_steps": "train.max_steps",
    "num_train_epochs": "train.num_train_epochs",
    "per_device_train_batch_size": "train.per_device_train_batch_size",
    "per_device_eval_batch_size": "train.per_device_eval_batch_size",
    "gradient_accumulation_steps": "train.gradient_accumulation_steps",
    "learning_rate": "train.learning_rate",
    "lr_scheduler_type": "train.lr_scheduler_type",
    "warmup_steps": "train.warmup_steps",
    "weight_decay": "train.weight_decay",
    "max_grad_norm": "train.max_grad_norm",
    "seed": "train.seed",
    "bf16": "train.bf16",
    "logging_steps": "train.logging_steps",
    "save_strategy": "train.save_steps",
    "save_steps": "train.save_steps",
    "save_total_limit": "train.save_total_limit",
    "eval_strategy": "train.eval_steps",
    "eval_steps": "train.eval_steps",
    "report_to": "train.report_to",
    "resume_from_checkpoint": "train.resume_from_checkpoint",
    "deepspeed": "train.deepspeed",
    "dataloader_num_workers": "train.dataloader_num_workers",
    "activation_checkpointing": "model.gradient_checkpointing",
    "gradient_checkpointing": "model.gradient_checkpointing",
    "remove_unused_columns": f"{_SET_HERE} (false: the video column must reach the trainer)",
    "use_cpu": f"{_SET_HERE} (CPU when no GPU is visible)",
}
"""TRL / TrainingArguments field -> the recipe key that sets it, in both stages."""
SFT_TRL_FIELDS: dict[str, str] = {
    **COMMON_TRL_FIELDS,
    "max_length": "train.max_length",
    "dataset_kwargs": f"{_SET_HERE} (the collator prepares the rows)",
}
GRPO_TRL_FIELDS: dict[str, str] = {
    **COMMON_TRL_FIELDS,
    **{name: f"grpo.{name}" for name in (
        "num_generations", "temperature", "top_p", "max_completion_length", "beta", "epsilon",
        "num_iterations", "loss_type", "scale_rewards", "use_vllm", "vllm_mode", "vllm_server_host",
        "vllm_server_port", "vllm_gpu_memory_utilization", "vllm_tensor_parallel_size")},
    "reward_weights": "grpo.rewards",
}


def trl_fields_set(stage: str) -> dict[str, str]:
    """The TRL config fields a recipe of ``stage`` sets, each with the recipe key that sets it."""
    return SFT_TRL_FIELDS if stage == "sft" else GRPO_TRL_FIELDS


def _check_trl_keys(r: Recipe) -> None:
    if not r.trl:
        return
    owned = trl_fields_set(r.stage)  # checked first: it needs no TRL import (seconds)
    taken = [f"'trl.{key}' (set by {owned[key]})" for key in r.trl if key in owned]
    if taken:
        raise CamReasonerError(
            f"{r.source}: the recipe already sets {', '.join(taken)}: set them there, not under 'trl'"
        )
    if r.stage == "sft":
        from trl import SFTConfig as TrlConfig
    else:
        from trl import GRPOConfig as TrlConfig
    known = {f.name for f in dataclasses.fields(TrlConfig)}
    for key in r.trl:
        if key not in known:
            raise CamReasonerError(f"{r.source}: unknown key 'trl.{key}' (not a field of TRL's {TrlConfig.__name__})")
    if r.stage == "grpo" and r.grpo.scale_rewards == "ema" and r.trl.get("multi_objective_aggregation",
                                                                        "sum_then_normalize") != "sum_then_normalize":
        raise CamReasonerError(
            f"{r.source}: grpo.scale_rewards 'ema' scales the weighted sum of the rewards; "
            "drop 'trl.multi_objective_aggregation'"
        )


def check_model_dir(path: str | Path, source: str) -> None:
    """A local checkpoint must be a Qwen2.5-VL one (config.json's model_type ``qwen2_5_vl``)."""
    p = Path(path)
    cfg = p / "config.json"
    if not cfg.is_file():
        raise CamReasonerError(f"{source}: model.name_or_path {p}: no config.json (not a checkpoint directory)")
    try:
        model_type = json.loads(cfg.read_text(encoding="utf-8")).get("model_type")
    except json.JSONDecodeError:
        raise CamReasonerError(f"{cfg}: not valid JSON") from None
    if model_type != "qwen2_5_vl":
        raise CamReasonerError(
            f"{cfg}: model_type is {model_type!r}, but training needs a Qwen2.5-VL checkpoint ('qwen2_5_vl')"
        )


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe as plain data (saved beside checkpoints for reproducibility)."""
    return dataclasses.asdict(recipe)
