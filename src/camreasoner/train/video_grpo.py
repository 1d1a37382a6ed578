"""TRL's GRPOTrainer extended to video prompts (TRL reads only images: huggingface/trl#4144).

TRL 1.16's trainer builds its vision tensors from an ``image``/``images`` column. For video we
override four narrow methods and leave the GRPO algorithm (sampling, advantages, clipping, KL,
logging, checkpoints) to TRL:

- ``_tokenize_prompts``: renders each prompt with the chat template and runs the Qwen2.5-VL
  processor on the row's clip (``video`` column), so generation gets ``pixel_values_videos``,
  ``video_grid_thw``, ``second_per_grid_ts`` and ``mm_token_type_ids``.
- ``_generate_and_score_completions``: keeps each sample's video tensors beside its completion
  (as per-sample lists, so TRL's shuffling and splitting keep them aligned).
- ``_get_per_token_logps_and_entropies``: feeds those tensors, chunk by chunk, to the policy and
  reference forward passes.
- ``_calculate_rewards``: online filtering: groups whose pass rate on the filter reward lies
  outside [low, high] are marked unscorable (TRL gives them zero advantage and leaves them out of
  the baseline), as CamReasoner (EasyR1's online filtering) does.

With ``scale_rewards: ema`` the advantages TRL computed are replaced, after
``_generate_and_score_completions``, by :func:`camreasoner.train.advantages.ema_advantages` of the
same (filtered, weighted) rewards; its per-task-type state is saved in each checkpoint
(``ema_reward_std.json``) and restored on resume.

vLLM rollouts in ``colocate`` mode get the clip's frames as ``multi_modal_data["video"]``;
``server`` mode is not supported for video (TRL's vLLM client sends image features only).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import torch
from accelerate.utils import gather_object
from trl import GRPOTrainer

from camreasoner.model.generation import cut_at_vision_tokens, vision_token_ids, vision_token_strings
from camreasoner.train.advantages import EmaRewardStd, ema_advantages, task_type
from camreasoner.train.common import CheckpointResumeMixin
from camreasoner.train.data import VideoInputs


@dataclass
class OnlineFilter:
    """Keep groups whose mean of reward ``index`` lies in [low, high]."""

    index: int
    low: float = 0.01
    high: float = 0.99


@dataclass
class _VideoBatch:
    """Per-sample video tensors, aligned with the rows of a batch."""

    pixels: list[torch.Tensor]
    grids: list[torch.Tensor]
    seconds: list[torch.Tensor]

    def rows(self, start: int, end: int) -> dict[str, torch.Tensor]:
        return {
            "pixel_values_videos": torch.cat(self.pixels[start:end]),
            "video_grid_thw": torch.cat(self.grids[start:end]),
            "second_per_grid_ts": torch.cat(self.seconds[start:end]),
        }


class _WithVideo(torch.nn.Module):
    """Calls ``model`` with the chunk's video tensors and multimodal token types added."""

    def __init__(self, model: Any, video: dict[str, torch.Tensor], video_token_id: int) -> None:
        super().__init__()
        self.inner = model
        self.video = video
        self.video_token_id = video_token_id

    def forward(self, input_ids: torch.Tensor, **kwargs: Any) -> Any:
        device = input_ids.device
        video = {k: v.to(device) for k, v in self.video.items()}
        mm = (input_ids == self.video_token_id).long() * 2  # 0 text, 1 image, 2 video
        return self.inner(input_ids=input_ids, mm_token_type_ids=mm, **video, **kwargs)


class VideoGRPOTrainer(CheckpointResumeMixin, GRPOTrainer):
    """GRPO with one video per prompt (``video`` column: a clip path) for Qwen2.5-VL models."""

    EMA_STATE_FILE = "ema_reward_std.json"

    def __init__(self, *args: Any, video_inputs: VideoInputs, online_filter: OnlineFilter | None = None,
                 ema: EmaRewardStd | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.video_inputs = video_inputs
        self.online_filter = online_filter
        self.ema = ema
        self._ema_batch: tuple[torch.Tensor, list[str]] | None = None
        self._video_token_id = self._tokenizer.convert_tokens_to_ids("<|video_pad|>")
        self._pending_videos: list[str] | None = None
        self._pending_batch: _VideoBatch | None = None
        self._active_video: _VideoBatch | None = None
        self._raw_prompt_ids: list[list[int]] | None = None
        # transformers rollouts never sample a vision special token
        banned = vision_token_ids(self._tokenizer)
        config = getattr(self, "generation_config", None)
        if config is not None and banned:
            config.suppress_tokens = sorted(set(config.suppress_tokens or []) | set(banned))

    # -- rollouts -----------------------------------------------------------------------------
    def _tokenize_prompts(self, prompts: list):
        videos = self._pending_videos
        if videos is None or len(videos) != len(prompts):
            return super()._tokenize_prompts(prompts)
        processor = self.processing_class
        prompt_ids, raw_ids, mm_types = [], [], []
        pixels, grids, seconds = [], [], []
        for prompt, video in zip(prompts, videos, strict=True):
            text = processor.apply_chat_template(_clean(prompt), tokenize=False, add_generation_prompt=True)
            enc = self.video_inputs.encode([text], [video])
            prompt_ids.append(enc["input_ids"][0].tolist())
            mm_types.append(enc["mm_token_type_ids"][0].tolist())
            raw_ids.append(self._tokenizer.encode(text, add_special_tokens=False))
            pixels.append(enc["pixel_values_videos"])
            grids.append(enc["video_grid_thw"])
            seconds.append(enc["second_per_grid_ts"].reshape(-1))
        self._raw_prompt_ids = raw_ids
        self._pending_batch = _VideoBatch(pixels, grids, seconds)
        fields = {**self._pending_batch.rows(0, len(prompts)), "mm_token_type_ids": mm_types}
        return prompt_ids, None, fields

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if not (self.use_vllm and self._pending_batch is not None):
            result = super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                   has_tool_images)
            return self._cut_vision_tokens(result)
        return self._generate_vllm_video(num_generations)

    def _cut_vision_tokens(self, result):
        """Cut every completion at its first vision special token (generation suppresses them; this
        is the second line of defence, so the forward pass never counts more video tokens than the
        video has features). ``result`` is TRL's ``(completion_ids, logprobs)``."""
        completion_ids, logprobs = result
        banned = vision_token_ids(self._tokenizer)
        cut = [cut_at_vision_tokens(ids, banned, self._tokenizer.eos_token_id) for ids in completion_ids]
        if logprobs is not None:
            logprobs = [lp[: len(ids)] for lp, ids in zip(logprobs, cut, strict=True)]
        return cut, logprobs

    def _generate_vllm_video(self, num_generations: int):
        """vLLM colocate rollouts with the clip's frames (the prompt's video pad is expanded by vLLM)."""
        from vllm import SamplingParams

        gen = self.vllm_generation
        if gen.mode != "colocate":
            raise RuntimeError("video rollouts with vLLM need vllm_mode='colocate'")
        if self.state.global_step != self._last_loaded_step or getattr(gen, "_llm_weights_sleeping", False):
            gen.sync_weights()  # (sleep level 2 dropped the weights: push the current ones back)
            self._last_loaded_step = self.state.global_step
        rows = []
        for ids, video in zip(self._raw_prompt_ids, self._pending_videos, strict=True):
            rows.append({"prompt_token_ids": ids, "multi_modal_data": {"video": self.video_inputs.frames(video)}})
        params = SamplingParams(
            n=1,
            temperature=self.temperature,
            top_p=self.top_p,
            top_k=-1 if self.top_k in (None, 0) else self.top_k,
            max_tokens=self.max_completion_length,
            logprobs=0,
            bad_words=vision_token_strings(self._tokenizer),
        )
        if gen.enable_sleep_mode:
            gen.llm.wake_up(tags=["kv_cache"])
        outputs = gen.llm.generate(rows, sampling_params=params, use_tqdm=False)
        if gen.enable_sleep_mode:
            gen.llm.sleep(level=2)
            gen._llm_weights_sleeping = True
        banned = vision_token_ids(self._tokenizer)
        eos = self._tokenizer.eos_token_id
        completion_ids = [cut_at_vision_tokens(o.outputs[0].token_ids, banned, eos) for o in outputs]
        logprobs = [[next(iter(lp.values())).logprob for lp in o.outputs[0].logprobs][: len(ids)]
                    for o, ids in zip(outputs, completion_ids, strict=True)]
        return completion_ids, logprobs

    def _generate_and_score_completions(self, inputs):
        self._ema_batch = None
        if "video" not in inputs[0]:
            return self._with_ema_advantages(super()._generate_and_score_completions(inputs))
        self._pending_videos = [x["video"] for x in inputs]
        try:
            output = self._run_with_pending_video(inputs)
        finally:
            self._pending_videos = None
        return self._with_ema_advantages(output)

    def _run_with_pending_video(self, inputs):
        # The log-prob passes inside super() read the batch that _tokenize_prompts builds.
        self._active_video = _LazyBatch(self)
        try:
            output = super()._generate_and_score_completions(inputs)
            batch = self._pending_batch
            output["video_pixel_values"] = batch.pixels
            output["video_grid_thw"] = batch.grids
            output["video_second_per_grid_ts"] = batch.seconds
        finally:
            self._active_video = None
            self._pending_batch = None
        return output

    # -- log-probabilities ---------------------------------------------------------------------
    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                           batch_size=None, compute_entropy=False, compute_aux_loss=False,
                                           **kwargs):
        video = self._active_video
        if isinstance(video, _LazyBatch):
            video = video.resolve()
        if video is None:
            return super()._get_per_token_logps_and_entropies(
                model, input_ids, attention_mask, logits_to_keep, batch_size, compute_entropy,
                compute_aux_loss, **kwargs)
        batch_size = batch_size or input_ids.size(0)
        logps, entropies, aux = [], [], []
        for start in range(0, input_ids.size(0), batch_size):
            end = min(start + batch_size, input_ids.size(0))
            wrapped = _WithVideo(model, video.rows(start, end), self._video_token_id)
            lp, ent, ax = super()._get_per_token_logps_and_entropies(
                wrapped, input_ids[start:end], attention_mask[start:end], logits_to_keep,
                batch_size=end - start, compute_entropy=compute_entropy, compute_aux_loss=compute_aux_loss)
            logps.append(lp)
            if ent is not None:
                entropies.append(ent)
            if ax is not None:
                aux.append(ax)
        return (
            torch.cat(logps),
            torch.cat(entropies) if entropies else None,
            torch.stack(aux).mean() if aux else None,
        )

    def _compute_loss(self, model, inputs):
        if "video_pixel_values" not in inputs:
            return super()._compute_loss(model, inputs)
        self._active_video = _VideoBatch(
            list(inputs["video_pixel_values"]), list(inputs["video_grid_thw"]),
            list(inputs["video_second_per_grid_ts"]))
        try:
            return super()._compute_loss(model, inputs)
        finally:
            self._active_video = None

    # -- rewards and online filtering ----------------------------------------------------------
    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        mode = "train" if self.model.training else "eval"
        weights = self.reward_weights.to(rewards_per_func.device)
        raw = (torch.nan_to_num(rewards_per_func) * weights).sum(dim=1)
        self._metrics[mode]["raw/reward"].append(raw.mean().item())
        for i, name in enumerate(self.reward_func_names):
            self._metrics[mode][f"raw/{name}"].append(torch.nanmean(rewards_per_func[:, i]).item())
        f = self.online_filter
        if mode == "train" and f is not None:
            rewards_per_func = self._filter_groups(rewards_per_func)
        if mode == "train" and self.ema is not None:  # (rewards are gathered over processes: types too)
            self._ema_batch = (rewards_per_func, gather_object([task_type(x) for x in inputs]))
        return rewards_per_func

    def _filter_groups(self, rewards_per_func: torch.Tensor) -> torch.Tensor:
        """Mark the groups outside the online filter's pass-rate range unscorable (NaN)."""
        f = self.online_filter
        groups = rewards_per_func[:, f.index].view(-1, self.num_generations)
        pass_rate = torch.nanmean(groups, dim=1)
        keep = (pass_rate >= f.low) & (pass_rate <= f.high)
        self._metrics["train"]["filter/kept_groups"].append(keep.float().mean().item())
        drop_rows = (~keep).repeat_interleave(self.num_generations)
        rewards_per_func = rewards_per_func.clone()
        rewards_per_func[drop_rows] = torch.nan  # unscorable: zero advantage, out of the baseline
        return rewards_per_func

    # -- EMA-GRPO advantages -------------------------------------------------------------------
    def _with_ema_advantages(self, output: dict[str, Any]) -> dict[str, Any]:
        """Replace TRL's advantages in ``output`` by EMA-GRPO's (train batches, ``ema`` set)."""
        batch, self._ema_batch = self._ema_batch, None
        if self.ema is None or batch is None:
            return output
        rewards_per_func, types = batch
        weights = self.reward_weights.to(rewards_per_func.device)
        rewards = (rewards_per_func * weights).nansum(dim=1)
        rewards[torch.isnan(rewards_per_func).all(dim=1)] = torch.nan  # as TRL: unscored rows
        advantages = ema_advantages(rewards.float().cpu().numpy(), self.num_generations, types, self.ema)
        local = output["advantages"]
        start = self.accelerator.process_index * len(local)
        output["advantages"] = torch.as_tensor(advantages[start:start + len(local)], dtype=local.dtype,
                                               device=local.device)
        logged = self._logs["advantages"]  # the completions table shows the advantages trained on
        for _ in range(min(len(advantages), len(logged))):
            logged.pop()
        logged.extend(advantages.tolist())
        for task in sorted(set(types) & set(self.ema.moments)):  # (types with a scored completion so far)
            self._metrics["train"][f"ema_std/{task}"].append(self.ema.std(task))
        return output

    def _save_checkpoint(self, model, trial):
        super()._save_checkpoint(model, trial)
        if self.ema is not None and self.args.should_save:
            folder = os.path.join(self._get_output_dir(trial=trial), f"checkpoint-{self.state.global_step}")
            with open(os.path.join(folder, self.EMA_STATE_FILE), "w", encoding="utf-8") as fh:
                json.dump(self.ema.to_dict(), fh)

    def train(self, resume_from_checkpoint: str | bool | None = None, **kwargs: Any):
        if self.ema is not None and resume_from_checkpoint:
            checkpoint = resume_from_checkpoint
            if checkpoint is True:
                from transformers.trainer_utils import get_last_checkpoint

                checkpoint = get_last_checkpoint(self.args.output_dir)
            path = os.path.join(checkpoint, self.EMA_STATE_FILE) if checkpoint else ""
            if path and os.path.isfile(path):
                with open(path, encoding="utf-8") as fh:
                    self.ema = EmaRewardStd.from_dict(json.load(fh))
        return super().train(resume_from_checkpoint=resume_from_checkpoint, **kwargs)


class _LazyBatch:
    """The generation batch, available once ``_tokenize_prompts`` has built it."""

    def __init__(self, trainer: VideoGRPOTrainer) -> None:
        self.trainer = trainer

    def resolve(self) -> _VideoBatch | None:
        return self.trainer._pending_batch


def _clean(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop the None fields Arrow adds to content blocks, so the chat template sees real entries."""
    out = []
    for m in messages:
        content = m["content"]
        if isinstance(content, list):
            content = [{k: v for k, v in part.items() if v is not None} for part in content]
        out.append({**m, "content": content})
    return out
