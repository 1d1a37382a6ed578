"""Training data: the suite's parquet exports, video frames, and chat messages with the video.

SFT rows (contract in docs/contracts.md): id, clip, video, problem, options, answer, response,
source, kind. RL rows: id, clip, video, problem, options, answer, kind, difficulty, measured.
``video`` is relative to the suite's video root.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.model.prompt import build_messages
from camreasoner.train.configs import DataConfig, VideoConfig

SFT_COLUMNS = ("id", "video", "problem", "options", "answer", "response")
RL_COLUMNS = ("id", "video", "problem", "options", "answer")


@dataclass(frozen=True)
class Splits:
    """Resolved data files for one stage."""

    train: Path
    eval: Path | None
    video_root: Path


def resolve_splits(cfg: DataConfig, stage: str, source: str) -> Splits:
    """Find the train/eval parquet files and the video root; missing files are one-line errors.

    ``stage`` picks the suite export: ``sft`` -> OUT/hf/sft, ``grpo`` -> OUT/hf/rl.
    """
    sub = "sft" if stage == "sft" else "rl"
    suite_root: Path | None = None
    manifest: dict[str, Any] = {}
    if cfg.suite_dir:
        suite_root = Path(cfg.suite_dir)
        if not suite_root.is_dir():
            raise CamReasonerError(f"{source}: data.suite_dir {suite_root}: no such directory")
        mpath = suite_root / "suite.json"
        if mpath.is_file():
            try:
                manifest = json.loads(mpath.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise CamReasonerError(f"{mpath}: not valid JSON ({exc.msg})") from None
    train = Path(cfg.train_file) if cfg.train_file else None
    if train is None and suite_root is not None:
        train = suite_root / "hf" / sub / "train.parquet"
    if train is None:
        raise CamReasonerError(f"{source}: set data.suite_dir or data.train_file")
    if not train.is_file():
        raise CamReasonerError(f"{source}: training data {train}: no such file")
    evalp = Path(cfg.eval_file) if cfg.eval_file else None
    if evalp is None and suite_root is not None:
        cand = suite_root / "hf" / sub / "validation.parquet"
        evalp = cand if cand.is_file() else None
    if evalp is not None and not evalp.is_file():
        raise CamReasonerError(f"{source}: evaluation data {evalp}: no such file")
    if cfg.video_root:
        root = Path(cfg.video_root)
    elif manifest.get("video_root"):
        root = Path(manifest["video_root"])
        if not root.is_absolute() and suite_root is not None:
            root = suite_root / root
    else:
        root = train.parent
    if not root.is_dir():
        raise CamReasonerError(f"{source}: video root {root}: no such directory")
    return Splits(train=train, eval=evalp, video_root=root)


def read_split(path: Path, columns: tuple[str, ...], kinds: list[str] | None, limit: int | None):
    """Read one parquet split as a ``datasets.Dataset``: only ``kinds`` (when given), at most ``limit``
    rows. An unreadable file, a missing column and an empty split are one-line errors naming the file."""
    import datasets

    datasets.disable_progress_bars()
    try:
        ds = datasets.Dataset.from_parquet(str(path), keep_in_memory=True)
    except Exception as exc:  # pyarrow raises many types for a corrupt file
        raise CamReasonerError(f"{path}: not a readable parquet file ({type(exc).__name__})") from None
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise CamReasonerError(f"{path}: missing column '{missing[0]}' (needs {', '.join(columns)})")
    if kinds is not None:
        if "kind" not in ds.column_names:
            raise CamReasonerError(f"{path}: data.kinds is set but the file has no 'kind' column")
        ds = ds.filter(lambda k: k in kinds, input_columns="kind")
    if limit is not None:
        ds = ds.select(range(min(limit, len(ds))))
    if len(ds) == 0:
        raise CamReasonerError(f"{path}: no rows to train on")
    return ds


def video_paths(path: Path, videos: Iterable[str], video_root: Path) -> dict[str, str]:
    """Each ``video`` value of split ``path`` -> its file under ``video_root``; a missing file is a
    one-line error."""
    resolved = {v: str(video_root / v) for v in set(videos)}
    for rel, full in sorted(resolved.items()):
        if not os.path.isfile(full):
            raise CamReasonerError(f"{path}: video {rel!r} not found under {video_root}")
    return resolved


def load_rows(
    path: Path, columns: tuple[str, ...], video_root: Path, kinds: list[str] | None, limit: int | None
):
    """Read one parquet split (:func:`read_split`) with ``video`` made absolute (:func:`video_paths`)."""
    ds = read_split(path, columns, kinds, limit)
    resolved = video_paths(path, ds["video"], video_root)
    return ds.map(lambda v: {"video": resolved[v]}, input_columns="video")


def sampling(video: VideoConfig) -> Any:
    """The backends' :class:`VideoSampling` for a recipe's ``video`` section."""
    from camreasoner.video.sampling import VideoSampling

    return VideoSampling(
        fps=video.fps, max_frames=video.max_frames, max_pixels=video.max_pixels, min_pixels=video.min_pixels
    )


@functools.lru_cache(maxsize=1024)
def sampled_video(path: str, video: VideoConfig) -> Any:
    """The clip's frames as the hf/vllm backends sample them (cached: GRPO reuses each clip)."""
    from camreasoner.video.sampling import sample_video

    return sample_video(path, sampling(video))


def prompt_messages(row: dict[str, Any], instruction: bool = True) -> list[dict[str, Any]]:
    """The user turn for one row: the video entry, then question, options and the O-T-A instruction."""
    return build_messages(row["video"], row["problem"], list(row["options"]), instruction=instruction)


def sft_messages(row: dict[str, Any], instruction: bool = True) -> list[dict[str, Any]]:
    """The user turn plus the assistant's O-T-A response (the only tokens the SFT loss sees)."""
    return [
        *prompt_messages(row, instruction),
        {"role": "assistant", "content": [{"type": "text", "text": str(row["response"]).strip()}]},
    ]


class VideoInputs:
    """Turns rows into the processor's video tensors; shared by SFT collation and GRPO rollouts."""

    def __init__(self, processor: Any, video: VideoConfig) -> None:
        self.processor = processor
        self.video = video

    def frames(self, path: str) -> np.ndarray:
        """Sampled RGB frames (T, H, W, 3) uint8."""
        return sampled_video(path, self.video).frames

    def encode(self, texts: list[str], videos: list[str], **kwargs: Any) -> dict[str, Any]:
        """Tokenise ``texts`` (one ``<|video_pad|>`` each) with the frames of ``videos``."""
        clips = [sampled_video(p, self.video) for p in videos]
        return self.processor(
            text=texts,
            videos=[c.frames for c in clips],
            video_metadata=[c.metadata() for c in clips],
            do_sample_frames=False,
            # as the hf backend does: frames are already resized inside these bounds, keep them
            size={"shortest_edge": 28 * 28, "longest_edge": max(c.frames.shape[1] * c.frames.shape[2] for c in clips)},
            cap_pixels_per_frame=False,
            return_tensors="pt",
            **kwargs,
        )


class VideoSFTCollator:
    """Batches SFT rows: chat text + video through the Qwen2.5-VL processor; labels cover only the
    assistant's response (and its end-of-turn token), everything else is -100.

    While ``bare`` is true the user turn leaves the O-T-A instruction out (set by
    :func:`bare_prompt_callback` for the first ``data.bare_prompt_steps`` steps).
    """

    def __init__(self, processor: Any, video: VideoConfig, max_length: int | None = None) -> None:
        self.inputs = VideoInputs(processor, video)
        self.processor = processor
        self.max_length = max_length
        tok = processor.tokenizer
        self.response_start = tok.encode("<|im_start|>assistant\n", add_special_tokens=False)
        self.pad_id = tok.pad_token_id
        self.bare = False

    def _mask(self, ids: list[int]) -> list[int]:
        n = len(self.response_start)
        start = None
        for i in range(len(ids) - n, -1, -1):
            if ids[i : i + n] == self.response_start:
                start = i + n
                break
        if start is None:
            raise CamReasonerError("an SFT example has no assistant turn after tokenising")
        return [-100] * start + ids[start:]

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        texts = [
            self.processor.apply_chat_template(sft_messages(r, not self.bare), tokenize=False) for r in rows
        ]
        batch = self.inputs.encode(texts, [r["video"] for r in rows], padding=True)
        ids = batch["input_ids"]
        if self.max_length is not None and ids.shape[1] > self.max_length:
            raise CamReasonerError(
                f"an SFT example is {ids.shape[1]} tokens, more than train.max_length={self.max_length}; "
                "raise max_length or lower video.max_pixels / video.num_frames"
            )
        import torch

        labels = []
        for row_ids, mask in zip(ids.tolist(), batch["attention_mask"].tolist(), strict=True):
            lab = self._mask(row_ids)
            labels.append([t if m else -100 for t, m in zip(lab, mask, strict=True)])
        batch["labels"] = torch.tensor(labels)
        return dict(batch)


def bare_prompt_callback(collator: VideoSFTCollator, steps: int) -> Any:
    """A TrainerCallback that makes ``collator`` leave the instruction out before step ``steps``.

    Why: a language model trained from scratch (the tiny model) spends its first thousands of steps
    on the 90-token instruction and does not find the few video tokens; with question and options
    only, the video is a larger share of the prompt and the motion is learned first (bench_learn).
    The switch follows ``state.global_step``, so a resumed run continues with the right prompt.
    """
    from transformers import TrainerCallback

    class BarePrompt(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            collator.bare = state.global_step < steps

        def on_step_end(self, args, state, control, **kwargs):
            collator.bare = state.global_step < steps

    return BarePrompt()
