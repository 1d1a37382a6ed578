"""Load a local Qwen2.5-VL-family checkpoint directory (never downloads), with one-line errors.

The same code loads the tiny test model and a real Qwen2.5-VL-7B / CamReasoner-7B directory:
``AutoProcessor`` and ``AutoModelForImageTextToText.from_pretrained(dir, local_files_only=True)``,
bf16 on a GPU, float32 on the CPU.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError

# model_type values whose processor takes (frames, video metadata) the way our video inputs give them.
SUPPORTED_MODEL_TYPES = ("qwen2_5_vl", "qwen2_vl", "qwen3_vl")


def check_model_dir(model: str | os.PathLike[str] | None) -> tuple[Path, dict[str, Any]]:
    """The checkpoint directory and its config; a clear error if missing or another architecture."""
    if model is None or str(model).strip() == "":
        raise CamReasonerError("no model given: pass --model DIR (a local Qwen2.5-VL checkpoint directory)")
    path = Path(model).expanduser()
    if not path.exists():
        raise CamReasonerError(
            f"{path}: no such model directory (models are never downloaded at run time; "
            "download the checkpoint first, or build one with `camreasoner model tiny --out DIR`)"
        )
    if not path.is_dir():
        raise CamReasonerError(f"{path}: not a directory; --model takes a checkpoint directory")
    config_file = path / "config.json"
    if not config_file.is_file():
        raise CamReasonerError(f"{path}: no config.json, not a Hugging Face checkpoint directory")
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CamReasonerError(f"{config_file}: not valid JSON ({exc})") from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if model_type not in SUPPORTED_MODEL_TYPES:
        arch = ", ".join(config.get("architectures") or []) if isinstance(config, dict) else ""
        raise CamReasonerError(
            f"{path}: a {model_type or 'unknown'} checkpoint{f' ({arch})' if arch else ''}, "
            f"not a video VLM this backend serves ({', '.join(SUPPORTED_MODEL_TYPES)})"
        )
    return path, config


def resolve_device(device: str | None) -> str:
    """``auto``/None -> ``cuda`` when a GPU is present, else ``cpu``; ``cuda`` without a GPU is an error."""
    import torch

    wanted = (device or "auto").strip().lower()
    if wanted == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if wanted.startswith("cuda") and not torch.cuda.is_available():
        raise CamReasonerError(f"device {device!r} asked for, but no CUDA GPU is visible on this machine")
    if wanted not in ("cpu",) and not wanted.startswith("cuda"):
        raise CamReasonerError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")
    return wanted


def require_gpu(backend: str) -> int:
    """The number of visible CUDA GPUs; a clear error for a GPU-only backend on a machine without one."""
    try:
        import torch
    except ImportError:
        raise CamReasonerError(
            f"the {backend} backend needs a CUDA GPU and torch; neither is available"
        ) from None
    if not torch.cuda.is_available():
        raise CamReasonerError(f"the {backend} backend needs a CUDA GPU; none is visible on this machine")
    return torch.cuda.device_count()


def load_processor(path: str | os.PathLike[str]) -> Any:
    """The checkpoint's processor (tokenizer + image/video processors + chat template), left-padding."""
    from transformers import AutoProcessor

    path, _ = check_model_dir(path)
    try:
        processor = AutoProcessor.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CamReasonerError(f"{path}: cannot load the processor ({_first_line(exc)})") from None
    if not hasattr(processor, "video_processor") or not hasattr(processor, "tokenizer"):
        raise CamReasonerError(f"{path}: the processor has no video processor; not a video VLM checkpoint")
    if getattr(processor, "chat_template", None) is None:
        raise CamReasonerError(f"{path}: the processor has no chat template")
    processor.tokenizer.padding_side = "left"
    return processor


def load_model(
    path: str | os.PathLike[str], device: str | None = None, dtype: str | None = None
) -> tuple[Any, str]:
    """The model in eval mode on ``device`` (bf16 on GPU, float32 on CPU unless ``dtype`` says) and the device."""
    import torch
    from transformers import AutoModelForImageTextToText
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path, _ = check_model_dir(path)
    dev = resolve_device(device)
    if dtype is None:
        torch_dtype = torch.bfloat16 if dev.startswith("cuda") else torch.float32
    else:
        torch_dtype = {
            "bf16": torch.bfloat16,
            "bfloat16": torch.bfloat16,
            "fp16": torch.float16,
            "float16": torch.float16,
            "fp32": torch.float32,
            "float32": torch.float32,
        }.get(dtype)
        if torch_dtype is None:
            raise CamReasonerError(f"unknown dtype {dtype!r}; use bf16, fp16 or fp32")
    try:
        model = AutoModelForImageTextToText.from_pretrained(
            str(path), dtype=torch_dtype, local_files_only=True, device_map=dev
        )
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise CamReasonerError(f"{path}: cannot load the model weights ({_first_line(exc)})") from None
    model.eval()
    return model, dev


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def describe_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """What a checkpoint directory holds (architecture, sizes, video preprocessing), without the weights."""
    path, config = check_model_dir(path)
    processor = load_processor(path)
    text = config.get("text_config") or config
    vision = config.get("vision_config") or {}
    vp = processor.video_processor
    size = dict(getattr(vp, "size", {}) or {})
    n_params = _count_params(path)
    return {
        "path": str(path),
        "model_type": config.get("model_type"),
        "architectures": config.get("architectures"),
        "parameters": n_params,
        "text_layers": text.get("num_hidden_layers"),
        "hidden_size": text.get("hidden_size"),
        "vocab_size": text.get("vocab_size"),
        "max_position_embeddings": text.get("max_position_embeddings"),
        "vision_depth": vision.get("depth"),
        "patch_size": getattr(vp, "patch_size", None),
        "merge_size": getattr(vp, "merge_size", None),
        "temporal_patch_size": getattr(vp, "temporal_patch_size", None),
        "video_min_pixels": size.get("shortest_edge"),
        "video_max_pixels": size.get("longest_edge"),
        "video_token": getattr(processor, "video_token", None),
        "tokenizer": type(processor.tokenizer).__name__,
        "processor": type(processor).__name__,
    }


def _count_params(path: Path) -> int | None:
    """Parameters counted from the safetensors headers (no weights are read)."""
    import struct

    files = sorted(path.glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for f in files:
        with f.open("rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            header = json.loads(fh.read(n))
        for key, meta in header.items():
            if key == "__metadata__":
                continue
            count = 1
            for dim in meta["shape"]:
                count *= dim
            total += count
    return total
