"""The transformers backend: a local Qwen2.5-VL checkpoint answering in O-T-A, with P(option) scores.

``HFRunner`` holds the model and processor and does the three things every caller needs: encode a
batch of (video frames, prompt) into model inputs, generate (greedy or sampled, left-padded
batches), and score the option letters at the answer position. ``HFBackend`` wires it to the
:class:`~camreasoner.backends.base.Backend` protocol; the loopback OpenAI-compatible server
(``camreasoner.testing.serve_local``) serves the same runner.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from camreasoner.backends.base import BackendItem, BackendResponse
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import extract_letter
from camreasoner.core.taxonomy import split_option
from camreasoner.model.generation import vision_token_ids
from camreasoner.model.hints import check_hint_mode
from camreasoner.model.prompt import build_messages, render_prompt
from camreasoner.model.scoring import answer_prefix, letter_continuations, normalise
from camreasoner.video.sampling import SampledVideo, VideoSampling, sample_video

DEFAULT_MAX_NEW_TOKENS = 1024


@dataclass
class Prepared:
    """One item ready for the model: its sampled video and its rendered prompt text."""

    video: SampledVideo
    prompt: str
    letters: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Generation:
    """One generated response: its text, token ids and, when asked, per-token top log-probabilities."""

    text: str
    token_ids: list[int]
    logprobs: list[float] | None = None
    top_logprobs: list[list[tuple[int, float]]] | None = None
    finish_reason: str = "stop"
    prompt_tokens: int = 0


class HFRunner:
    """A loaded checkpoint: encode, generate and score batches of video prompts."""

    def __init__(self, model_dir: str, device: str | None = None, dtype: str | None = None) -> None:
        from camreasoner.model.loading import load_model, load_processor

        self.model_dir = str(model_dir)
        self.processor = load_processor(model_dir)
        self.model, self.device = load_model(model_dir, device=device, dtype=dtype)
        self.tokenizer = self.processor.tokenizer
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        self.eos_ids.add(self.tokenizer.convert_tokens_to_ids("<|im_end|>"))

    def prompt_text(self, question: str, options: Sequence[str], hint: str | None = None) -> str:
        """The chat-templated prompt for one question (the video placeholder not yet expanded)."""
        return render_prompt(self.processor, build_messages("video", question, options, hint))

    def encode(self, videos: Sequence[SampledVideo], texts: Sequence[str]) -> Any:
        """Processor outputs for a batch: left-padded ids, ``pixel_values_videos``, ``video_grid_thw``."""
        kwargs: dict[str, Any] = {"cap_pixels_per_frame": False}  # our sampler has capped the pixels already
        if self.model.config.model_type in ("qwen2_vl", "qwen2_5_vl"):
            # the frames are already resized to multiples of 28 inside these bounds: the processor keeps them
            longest = max(v.frames.shape[1] * v.frames.shape[2] for v in videos)
            kwargs["size"] = {"shortest_edge": 28 * 28, "longest_edge": longest}
        # Qwen3-VL (patch 16) resizes our frames by its checkpoint's own settings
        batch = self.processor(
            text=list(texts),
            videos=[v.frames for v in videos],
            video_metadata=[v.metadata() for v in videos],
            do_sample_frames=False,
            padding=True,
            return_tensors="pt",
            **kwargs,
        )
        return batch.to(self.device)

    def generate(
        self,
        videos: Sequence[SampledVideo],
        texts: Sequence[str],
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        temperature: float = 0.0,
        seed: int | None = None,
        top_logprobs: int = 0,
    ) -> list[Generation]:
        """Generate one response per prompt: greedy when ``temperature`` is 0, else sampled."""
        import torch

        inputs = self.encode(videos, texts)
        # repetition_penalty 1: plain greedy/sampling, the same decoding as the vllm backend's
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "do_sample": temperature > 0,
            "repetition_penalty": 1.0,
        }
        if temperature > 0:
            kwargs.update(temperature=temperature, top_p=1.0, top_k=0)
            if seed is not None:
                torch.manual_seed(seed)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if top_logprobs:
            kwargs.update(output_scores=True, return_dict_in_generate=True)
        with torch.inference_mode():
            out = self.model.generate(**inputs, **kwargs, pad_token_id=self.tokenizer.pad_token_id,
                                      suppress_tokens=vision_token_ids(self.tokenizer) or None)
        sequences = out.sequences if top_logprobs else out
        new = sequences[:, inputs["input_ids"].shape[1] :]
        results = []
        for row in range(new.shape[0]):
            ids = new[row].tolist()
            stop = next((i for i, t in enumerate(ids) if t in self.eos_ids), None)
            kept = ids if stop is None else ids[:stop]
            gen = Generation(
                text=self.tokenizer.decode(kept, skip_special_tokens=True),
                token_ids=kept,
                finish_reason="length" if stop is None else "stop",
                prompt_tokens=int(inputs["attention_mask"][row].sum()),
            )
            if top_logprobs:
                gen.logprobs, gen.top_logprobs = [], []
                for step in range(len(kept)):
                    logp = torch.log_softmax(out.scores[step][row].float(), dim=-1)
                    values, indices = logp.topk(min(top_logprobs, logp.shape[-1]))
                    gen.logprobs.append(float(logp[kept[step]]))
                    gen.top_logprobs.append(list(zip(indices.tolist(), values.tolist(), strict=True)))
            results.append(gen)
        return results

    def score_letters(
        self,
        videos: Sequence[SampledVideo],
        texts: Sequence[str],
        responses: Sequence[str],
        letters: Sequence[str],
    ) -> list[tuple[dict[str, float], bool]]:
        """P(option letter) at the answer position of each response, and whether ``<answer>`` was forced."""
        import torch

        prefixes = [answer_prefix(r) for r in responses]
        conts = [
            letter_continuations(self.tokenizer, p.text, ls) for p, ls in zip(prefixes, letters, strict=True)
        ]
        logps: list[dict[str, float]] = [{} for _ in texts]
        # Pass 1: prompt + shared ids; the next-token distribution gives every letter's first id.
        first = self._next_token_logprobs(videos, texts, [c.common for c in conts])
        for i, c in enumerate(conts):
            for letter, suffix in c.suffixes.items():
                logps[i][letter] = float(first[i][suffix[0]])
        # Rare: a letter spelled by several ids; score the rest of them with a teacher-forced pass.
        for i, c in enumerate(conts):
            for letter, suffix in c.suffixes.items():
                if len(suffix) > 1:
                    ids = c.common + suffix
                    enc = self.encode([videos[i]], [texts[i]])
                    batch = extend_left_padded(enc, [ids], self.tokenizer.pad_token_id)
                    n = len(suffix)
                    with torch.inference_mode():  # logits only where the suffix ids are predicted
                        logits = self.model(**batch, logits_to_keep=n + 1).logits[0, :n].float()
                    lp = torch.log_softmax(logits, dim=-1)
                    logps[i][letter] = float(sum(lp[j, suffix[j]] for j in range(n)))
        return [(normalise(lp), p.forced) for lp, p in zip(logps, prefixes, strict=True)]

    def _next_token_logprobs(
        self, videos: Sequence[SampledVideo], texts: Sequence[str], extra: Sequence[list[int]]
    ) -> Any:
        """Log-probabilities of the next token after each prompt followed by its ``extra`` ids."""
        import torch

        enc = self.encode(videos, texts)
        batch = extend_left_padded(enc, extra, self.tokenizer.pad_token_id)
        with torch.inference_mode():
            logits = self.model(**batch, logits_to_keep=1).logits[:, -1, :].float()
        return torch.log_softmax(logits, dim=-1)


class HFBackend:
    """``--backend hf --model DIR``: a local Qwen2.5-VL-family checkpoint through transformers."""

    name = "hf"

    def __init__(
        self,
        model: str | None = None,
        hint: str | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
        max_pixels: int | None = None,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        seed: int | None = None,
        dtype: str | None = None,
        **_ignored: Any,
    ) -> None:
        check_hint_mode(hint)
        self.hint = hint
        self.sampling = sampling_from(fps, max_frames, max_pixels)
        self.temperature = float(temperature or 0.0)
        self.batch_size = max(1, int(batch_size or 4))
        self.seed = seed
        self.runner = HFRunner(model, device=device, dtype=dtype)  # type: ignore[arg-type]
        # default: the checkpoint's own generation_config.max_new_tokens if it sets one, else 1024
        own = getattr(self.runner.model.generation_config, "max_new_tokens", None)
        self.max_new_tokens = int(max_new_tokens or own or DEFAULT_MAX_NEW_TOKENS)
        ctx = getattr(self.runner.model.config.get_text_config(), "max_position_embeddings", None)
        if ctx:  # the visual tokens must leave room for the question and the response
            cap = max(256, int(ctx) - self.max_new_tokens - 512)
            if cap < self.sampling.max_visual_tokens:
                self.sampling = _replace(self.sampling, max_visual_tokens=cap)

    def prepare(self, item: BackendItem) -> Prepared:
        """Sample the video and render the prompt (with the geometry cue block in hint mode)."""
        letters = "".join(split_option(o)[0] for o in item.options)
        video = sample_video(item.video, self.sampling, item.start, item.end)
        meta: dict[str, Any] = {"frames": len(video.frames), "visual_tokens": video.visual_tokens}
        if video.warnings:
            meta["warnings"] = list(video.warnings)
        cue = None
        if self.hint == "geometry":
            from camreasoner.model.hints import geometry_hint

            cue = geometry_hint(item.video, start=item.start, end=item.end)
            meta["hint"] = cue
        return Prepared(video, self.runner.prompt_text(item.question, item.options, cue), letters, meta)

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """Answer a batch; a bad item gets ``error`` set and the others go on."""
        out: list[BackendResponse | None] = [None] * len(items)
        ready: list[tuple[int, Prepared]] = []
        for i, item in enumerate(items):
            try:
                ready.append((i, self.prepare(item)))
            except CamReasonerError as exc:
                out[i] = BackendResponse(text="", letter=None, option_probs={}, error=str(exc))
            except (ValueError, OSError) as exc:
                out[i] = BackendResponse(text="", letter=None, option_probs={}, error=f"{item.video}: {exc}")
        for start in range(0, len(ready), self.batch_size):
            chunk = ready[start : start + self.batch_size]
            try:
                responses = self._answer_prepared([p for _, p in chunk])
            except (RuntimeError, ValueError) as exc:  # e.g. out of memory: record and go on
                msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                responses = [
                    BackendResponse("", None, {}, error=f"{items[i].video}: model failed ({msg})")
                    for i, _ in chunk
                ]
            for (i, _), resp in zip(chunk, responses, strict=True):
                out[i] = resp
        return [r for r in out if r is not None]

    def _answer_prepared(self, batch: list[Prepared]) -> list[BackendResponse]:
        videos = [p.video for p in batch]
        texts = [p.prompt for p in batch]
        t0 = time.perf_counter()
        gens = self.runner.generate(videos, texts, self.max_new_tokens, self.temperature, self.seed)
        t1 = time.perf_counter()
        scores = self.runner.score_letters(videos, texts, [g.text for g in gens], [p.letters for p in batch])
        t2 = time.perf_counter()
        responses = []
        for p, g, (probs, forced) in zip(batch, gens, scores, strict=True):
            meta = dict(p.meta)
            meta.update(
                forced_answer=forced,
                new_tokens=len(g.token_ids),
                finish_reason=g.finish_reason,
                generate_s=round((t1 - t0) / len(batch), 4),
                score_s=round((t2 - t1) / len(batch), 4),
            )
            responses.append(BackendResponse(g.text, extract_letter(g.text, p.letters), probs, None, meta))
        return responses


def extend_left_padded(enc: Any, extra: Sequence[list[int]], pad_id: int) -> dict[str, Any]:
    """Append ``extra[r]`` text ids to row ``r`` of a left-padded batch, re-padding on the left.

    ``input_ids``, ``attention_mask`` and ``mm_token_type_ids`` (0 for text) grow together; the
    visual inputs are unchanged.
    """
    import torch

    ids, mask = enc["input_ids"], enc["attention_mask"]
    types = enc.get("mm_token_type_ids")
    width = ids.shape[1] + max(len(e) for e in extra)
    rows: dict[str, list[Any]] = {"input_ids": [], "attention_mask": [], "mm_token_type_ids": []}
    for r, e in enumerate(extra):
        keep = mask[r].bool()
        add = torch.tensor(e, dtype=ids.dtype, device=ids.device)
        seq = torch.cat([ids[r][keep], add])
        lead = width - len(seq)
        rows["input_ids"].append(torch.cat([ids.new_full((lead,), pad_id), seq]))
        rows["attention_mask"].append(torch.cat([mask.new_zeros(lead), mask.new_ones(len(seq))]))
        if types is not None:
            rows["mm_token_type_ids"].append(
                torch.cat([types.new_zeros(lead), types[r][keep], types.new_zeros(len(e))])
            )
    out = dict(enc)
    for key, value in rows.items():
        if value:
            out[key] = torch.stack(value)
    return out


def sampling_from(fps: float | None, max_frames: int | None, max_pixels: int | None) -> VideoSampling:
    """A :class:`VideoSampling` with the given options over the defaults (None keeps a default)."""
    base = VideoSampling()
    return _replace(
        base,
        fps=base.fps if fps is None else float(fps),
        max_frames=base.max_frames if max_frames is None else int(max_frames),
        max_pixels=base.max_pixels if max_pixels is None else int(max_pixels),
    )


def _replace(sampling: VideoSampling, **changes: Any) -> VideoSampling:
    from dataclasses import replace

    return replace(sampling, **changes)
