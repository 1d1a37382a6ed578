"""What SFT and GRPO share: start-up checks, model loading (full or LoRA, vision frozen or not),
logging backends and the TRL arguments common to both stages."""

from __future__ import annotations

import importlib.util
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.train.configs import Recipe, check_model_dir, recipe_to_dict
from camreasoner.train.data import Splits, resolve_splits
from camreasoner.train.versions import check_installed

log = logging.getLogger("camreasoner.train")


@dataclass
class Prepared:
    """A recipe after its start-up checks: the model directory, data files and resume point."""

    recipe: Recipe
    model_dir: str
    splits: Splits
    output_dir: Path
    resume: str | bool


def apply_overrides(recipe: Recipe, output_dir: str | None, max_steps: int | None) -> Recipe:
    """Command-line overrides of ``train.output_dir`` and ``train.max_steps``."""
    if output_dir is not None:
        recipe.train.output_dir = output_dir
    if max_steps is not None:
        if max_steps < 1:
            raise CamReasonerError(f"--max-steps must be at least 1, got {max_steps}")
        recipe.train.max_steps = max_steps
    return recipe


def checkpoint_step(path: Path) -> int | None:
    """N of a ``checkpoint-N`` directory name (None for any other name)."""
    stem, _, step = path.name.rpartition("-")
    return int(step) if stem == "checkpoint" and step.isdigit() else None


def latest_checkpoint(output_dir: Path) -> str | None:
    """The newest ``checkpoint-N`` directory in ``output_dir``, or None."""
    ckpts = [p for p in output_dir.glob("checkpoint-*") if p.is_dir() and checkpoint_step(p) is not None]
    if not ckpts:
        return None
    return str(max(ckpts, key=checkpoint_step))


def prepare(recipe: Recipe) -> Prepared:
    """Every start-up check, before any compute: TRL and transformers versions, data files, model
    architecture, resume point.

    Builds the tiny model first when the recipe asks for it (seconds on CPU).
    """
    check_installed()
    src = recipe.source
    out = Path(recipe.train.output_dir)
    splits = resolve_splits(recipe.data, recipe.stage, src)
    m = recipe.model
    if m.name_or_path:
        model_dir = m.name_or_path
        if Path(model_dir).exists():
            check_model_dir(model_dir, src)
        elif model_dir.startswith((".", "/")):
            raise CamReasonerError(f"{src}: model.name_or_path {model_dir}: no such directory")
    elif m.build_tiny:
        model_dir = str(out / "base_model")
        if not (Path(model_dir) / "config.json").is_file():
            from camreasoner.model.tiny import build_tiny_model

            if m.tiny_text_hidden % 64 or m.tiny_vision_hidden % 16 or min(m.tiny_text_layers, m.tiny_vision_depth) < 1:
                raise CamReasonerError(
                    f"{src}: model.tiny_text_hidden must be a multiple of 64, tiny_vision_hidden of 16, "
                    "and the tiny depths at least 1"
                )
            build_tiny_model(
                model_dir,
                seed=m.tiny_seed,
                text_hidden=m.tiny_text_hidden,
                text_layers=m.tiny_text_layers,
                vision_hidden=m.tiny_vision_hidden,
                vision_depth=m.tiny_vision_depth,
            )
    else:
        raise CamReasonerError(f"{src}: set model.name_or_path (or model.build_tiny: true)")
    resume: str | bool = False
    r = recipe.train.resume_from_checkpoint
    if r is True:
        found = latest_checkpoint(out)
        resume = found or False
        if not found:
            log.warning("no checkpoint in %s to resume from; starting fresh", out)
    elif isinstance(r, str) and r:
        if not Path(r).is_dir():
            raise CamReasonerError(f"{src}: train.resume_from_checkpoint {r}: no such directory")
        resume = r
    if recipe.train.deepspeed and not Path(recipe.train.deepspeed).is_file():
        raise CamReasonerError(f"{src}: train.deepspeed {recipe.train.deepspeed}: no such file")
    out.mkdir(parents=True, exist_ok=True)
    (out / "recipe.json").write_text(json.dumps(recipe_to_dict(recipe), indent=1), encoding="utf-8")
    return Prepared(recipe=recipe, model_dir=model_dir, splits=splits, output_dir=out, resume=resume)


def report_to(value: list[str] | str) -> list[str]:
    """``auto`` -> TensorBoard, plus Weights & Biases when ``wandb`` is installed."""
    if value == "auto":
        backends = ["tensorboard"]
        if importlib.util.find_spec("wandb") is not None:
            backends.append("wandb")
        return backends
    if isinstance(value, str):
        return [] if value == "none" else [value]
    return list(value)


def _dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16, "auto": "auto"}[name]


def vision_modules(model: Any) -> Any:
    """The vision tower (with its patch merger) of a Qwen2.5-VL model, PEFT-wrapped or not."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    inner = getattr(base, "model", base)
    visual = getattr(inner, "visual", None) or getattr(base, "visual", None)
    if visual is None:
        raise CamReasonerError("the model has no vision tower ('visual'); is it a Qwen2.5-VL checkpoint?")
    return visual


def load_model_and_processor(prep: Prepared) -> tuple[Any, Any]:
    """Load the checkpoint and its processor; freeze the vision tower and wrap in LoRA as configured."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    m = prep.recipe.model
    processor = AutoProcessor.from_pretrained(prep.model_dir)
    kwargs: dict[str, Any] = {"dtype": _dtype(m.dtype)}
    if m.attn_implementation:
        kwargs["attn_implementation"] = m.attn_implementation
    model = AutoModelForImageTextToText.from_pretrained(prep.model_dir, **kwargs)
    if getattr(model.config, "model_type", None) != "qwen2_5_vl":
        raise CamReasonerError(
            f"{prep.model_dir}: model_type {model.config.model_type!r} is not Qwen2.5-VL ('qwen2_5_vl')"
        )
    if m.freeze_vision:
        for p in vision_modules(model).parameters():
            p.requires_grad_(False)
    lora = prep.recipe.lora
    if lora.enabled:
        from peft import LoraConfig, get_peft_model

        names = "|".join(lora.target_modules)
        config = LoraConfig(
            r=lora.r,
            lora_alpha=lora.alpha,
            lora_dropout=lora.dropout,
            # Only the language model's layers: the vision tower is frozen or trained in full.
            target_modules=rf".*language_model.*\.({names})",
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, config)
        if not m.freeze_vision:
            for p in vision_modules(model).parameters():
                p.requires_grad_(True)
    return model, processor


def trainable_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total


def common_trl_kwargs(prep: Prepared) -> dict[str, Any]:
    """TrainingArguments fields both stages take from ``train``."""
    t = prep.recipe.train
    kwargs: dict[str, Any] = {
        "output_dir": str(prep.output_dir),
        "max_steps": t.max_steps,
        "num_train_epochs": t.num_train_epochs,
        "per_device_train_batch_size": t.per_device_train_batch_size,
        "per_device_eval_batch_size": t.per_device_eval_batch_size,
        "gradient_accumulation_steps": t.gradient_accumulation_steps,
        "learning_rate": t.learning_rate,
        "lr_scheduler_type": t.lr_scheduler_type,
        "warmup_steps": t.warmup_steps,
        "weight_decay": t.weight_decay,
        "max_grad_norm": t.max_grad_norm,
        "seed": t.seed,
        "bf16": t.bf16,
        "logging_steps": t.logging_steps,
        "save_strategy": "steps",
        "save_steps": t.save_steps,
        "save_total_limit": t.save_total_limit,
        "report_to": report_to(t.report_to),
        "remove_unused_columns": False,
        "dataloader_num_workers": t.dataloader_num_workers,
        "use_cpu": not _has_accelerator(),
    }
    # TRL turns checkpointing on by default; the recipe decides (off for the tiny model: 3x faster).
    kwargs["activation_checkpointing"] = prep.recipe.model.gradient_checkpointing
    if t.eval_steps:
        kwargs["eval_strategy"] = "steps"
        kwargs["eval_steps"] = t.eval_steps
    if t.deepspeed:
        kwargs["deepspeed"] = t.deepspeed
    return kwargs


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available()


def save_final(trainer: Any, processor: Any, out: Path) -> Path:
    """Save the trained model (LoRA adapters merged into a full checkpoint) and processor to
    ``out/final``, loadable by the hf backend like any Qwen2.5-VL directory."""
    final = out / "final"
    model = trainer.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(final)
    processor.save_pretrained(final)
    return final


class CheckpointResumeMixin:
    """Resume full-model checkpoints through ``from_pretrained``.

    transformers 5 saves Qwen2.5-VL weights under the hub's key names (``visual.*``, ``model.*``) but
    ``Trainer._load_from_checkpoint`` reads them back with a plain ``load_state_dict(strict=False)``,
    which matches none of the renamed keys and silently keeps the current weights. Loading the
    checkpoint with ``from_pretrained`` applies the key mapping; the copy is strict. PEFT adapters,
    DeepSpeed and FSDP checkpoints keep TRL's own path.
    """

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: Any = None) -> None:
        model = model if model is not None else self.model
        full = Path(resume_from_checkpoint, "model.safetensors").is_file() or Path(
            resume_from_checkpoint, "model.safetensors.index.json"
        ).is_file()
        if not full or self.is_deepspeed_enabled or self.is_fsdp_enabled or hasattr(model, "peft_config"):
            super()._load_from_checkpoint(resume_from_checkpoint, model)  # type: ignore[misc]
            return
        dtype = next(model.parameters()).dtype
        loaded = type(model).from_pretrained(resume_from_checkpoint, dtype=dtype)
        model.load_state_dict(loaded.state_dict(), strict=True)
        log.info("resumed weights from %s", resume_from_checkpoint)


def recipe_intervals_callback() -> Any:
    """A TrainerCallback that makes a resumed run log, evaluate and save at the recipe's intervals.

    transformers restores ``logging_steps``, ``eval_steps`` and ``save_steps`` from the
    checkpoint's trainer_state.json when it resumes, so a recipe that changed them (a finer
    checkpoint grid from an old run) would silently keep the old ones; this puts the recipe's back
    at the start of training and logs each change."""
    from transformers import TrainerCallback

    class RecipeIntervals(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            before = {k: getattr(state, f"{k}_steps") for k in ("logging", "eval", "save")}
            state.compute_steps(args, state.max_steps)
            for kind, old in before.items():
                new = getattr(state, f"{kind}_steps")
                if old != new:
                    log.warning("resumed run: %s_steps %s from the recipe (the checkpoint had %s)", kind, new, old)
            return control

    return RecipeIntervals()


def time_budget_callback(minutes: float) -> Any:
    """A TrainerCallback that stops training (saving a checkpoint) once ``minutes`` have passed."""
    import time

    from transformers import TrainerCallback

    class TimeBudget(TrainerCallback):
        def __init__(self) -> None:
            self.start = time.monotonic()

        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if time.monotonic() - self.start > minutes * 60:
                log.info("time budget of %.1f min reached at step %d", minutes, state.global_step)
                control.should_training_stop = True
                control.should_save = True
            return control

    return TimeBudget()
