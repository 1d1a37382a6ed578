"""``--backend vllm --model DIR``: vLLM's offline engine for large batches on GPUs (tensor parallel).

Written from vLLM's documented offline API (``LLM``, ``SamplingParams``, prompts with
``multi_modal_data={"video": frames}`` and per-prompt ``mm_processor_kwargs``, ``TokensPrompt``,
``prompt_logprobs``). vLLM is an optional extra: it is imported when this backend is built, and
its absence, or a machine without a GPU, is one clear line. NOT TESTED in this repository's CI
(no GPU, vLLM not installable there); see the README, "GPU checks".

The prompt, the video sampling and the P(option) definition are the hf backend's: after generation,
the prompt + the response up to ``<answer>`` (as token ids, canonically tokenised as the hf backend
does) is run for one token with the top-20 log-probabilities, which give each letter's token (a
letter spelled by several ids gets one more such prompt per extra id); the letters'
log-probabilities are renormalised. A letter outside the top 20 gets the lowest listed value.
Prefix caching makes the scoring prompts cheap (the video prefix is cached).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from camreasoner.backends.base import BackendItem, BackendResponse
from camreasoner.backends.hf import DEFAULT_MAX_NEW_TOKENS, sampling_from
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import extract_letter
from camreasoner.core.taxonomy import split_option
from camreasoner.model.hints import check_hint_mode
from camreasoner.model.prompt import build_messages, render_prompt
from camreasoner.model.scoring import answer_prefix, letter_continuations, normalise
from camreasoner.video.sampling import sample_video

TOP_LOGPROBS = 20  # vLLM's default max_logprobs


class VLLMBackend:
    """A local checkpoint served by ``vllm.LLM`` on this machine's GPUs."""

    name = "vllm"

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
        seed: int | None = None,
        tensor_parallel_size: int | None = None,
        gpu_memory_utilization: float | None = None,
        max_model_len: int | None = None,
        **_ignored: Any,
    ) -> None:
        from camreasoner.model.loading import check_model_dir, load_processor, require_gpu

        check_hint_mode(hint)
        path, _ = check_model_dir(model)
        gpus = require_gpu("vllm")
        try:
            import vllm
        except ImportError:
            raise CamReasonerError(
                "the vllm backend needs the vllm package (pip install vllm on a CUDA machine); it is not installed"
            ) from None
        tp = int(tensor_parallel_size or gpus)
        if tp > gpus:
            raise CamReasonerError(f"tensor_parallel_size {tp} asks for more GPUs than the {gpus} visible")
        self.hint = hint
        self.sampling = sampling_from(fps, max_frames, max_pixels)
        self.temperature = float(temperature or 0.0)
        self.max_new_tokens = int(max_new_tokens or DEFAULT_MAX_NEW_TOKENS)
        self.batch_size = int(batch_size or 256)
        self.seed = seed
        self.processor = load_processor(path)
        self.tokenizer = self.processor.tokenizer
        self.vllm = vllm
        self.llm = vllm.LLM(
            model=str(path),
            tokenizer=str(path),
            tensor_parallel_size=tp,
            dtype="bfloat16",
            seed=seed or 0,
            max_model_len=max_model_len or 32768,
            gpu_memory_utilization=float(gpu_memory_utilization or 0.85),
            limit_mm_per_prompt={"video": 1, "image": 0},
            enable_prefix_caching=True,
        )

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """Answer items in engine batches of ``batch_size``; a bad item gets ``error`` set."""
        out: list[BackendResponse | None] = [None] * len(items)
        ready: list[tuple[int, dict[str, Any], str, str]] = []
        for i, item in enumerate(items):
            try:
                video = sample_video(item.video, self.sampling, item.start, item.end)
                cue = None
                if self.hint == "geometry":
                    from camreasoner.model.hints import geometry_hint

                    cue = geometry_hint(item.video, start=item.start, end=item.end)
                prompt = render_prompt(
                    self.processor, build_messages("video", item.question, item.options, cue)
                )
                mm = {"video": video.frames}
                kwargs = {"fps": video.fps}
                letters = "".join(split_option(o)[0] for o in item.options)
                ready.append(
                    (
                        i,
                        {"prompt": prompt, "multi_modal_data": mm, "mm_processor_kwargs": kwargs},
                        prompt,
                        letters,
                    )
                )
            except CamReasonerError as exc:
                out[i] = BackendResponse("", None, {}, error=str(exc))
        for start in range(0, len(ready), self.batch_size):
            chunk = ready[start : start + self.batch_size]
            try:
                responses = self._run(chunk)
            except (RuntimeError, ValueError) as exc:  # e.g. a prompt over max_model_len: record, go on
                msg = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                responses = [
                    BackendResponse("", None, {}, error=f"{items[i].video}: vllm failed ({msg})")
                    for i, *_ in chunk
                ]
            for (i, _, _, _), resp in zip(chunk, responses, strict=True):
                out[i] = resp
        return [r for r in out if r is not None]

    def _run(self, chunk: list[tuple[int, dict[str, Any], str, str]]) -> list[BackendResponse]:
        params = self.vllm.SamplingParams(
            temperature=self.temperature, max_tokens=self.max_new_tokens, seed=self.seed
        )
        t0 = time.perf_counter()
        gens = self.llm.generate([c[1] for c in chunk], params, use_tqdm=False)
        t1 = time.perf_counter()
        texts = [g.outputs[0].text for g in gens]
        # Scoring prompts: prompt ids + response up to <answer> (+ a letter's leading ids when it has
        # several), one token generated with the top-20 log-probabilities; one prompt per distinct context.
        scoring: list[dict[str, Any]] = []
        plans: list[dict[str, list[tuple[int, int]]]] = []  # letter -> [(scoring index, token id)]
        forced = []
        for c, text in zip(chunk, texts, strict=True):
            prefix = answer_prefix(text)
            forced.append(prefix.forced)
            prompt_ids = self.tokenizer(c[2], add_special_tokens=False)["input_ids"]
            conts = letter_continuations(self.tokenizer, prefix.text, c[3])
            seen: dict[tuple[int, ...], int] = {}
            plan: dict[str, list[tuple[int, int]]] = {}
            for letter, suffix in conts.suffixes.items():
                plan[letter] = []
                for j, token in enumerate(suffix):
                    ctx = tuple(conts.common + suffix[:j])
                    if ctx not in seen:
                        seen[ctx] = len(scoring)
                        scoring.append(
                            {
                                "prompt_token_ids": prompt_ids + list(ctx),
                                "multi_modal_data": c[1]["multi_modal_data"],
                                "mm_processor_kwargs": c[1]["mm_processor_kwargs"],
                            }
                        )
                    plan[letter].append((seen[ctx], token))
            plans.append(plan)
        score_params = self.vllm.SamplingParams(temperature=0.0, max_tokens=1, logprobs=TOP_LOGPROBS)
        scored = self.llm.generate(scoring, score_params, use_tqdm=False)
        t2 = time.perf_counter()
        tops = [res.outputs[0].logprobs[0] for res in scored]  # token id -> Logprob, top 20 + the chosen
        logps: list[dict[str, float]] = []
        for plan in plans:
            # a token outside the returned top list gets the list's lowest log-probability (an upper bound)
            logps.append(
                {
                    letter: sum(
                        tops[i][t].logprob if t in tops[i] else min(v.logprob for v in tops[i].values())
                        for i, t in steps
                    )
                    for letter, steps in plan.items()
                }
            )
        responses = []
        for c, g, text, lp, f in zip(chunk, gens, texts, logps, forced, strict=True):
            meta = {
                "forced_answer": f,
                "new_tokens": len(g.outputs[0].token_ids),
                "finish_reason": g.outputs[0].finish_reason,
                "generate_s": round((t1 - t0) / len(chunk), 4),
                "score_s": round((t2 - t1) / len(chunk), 4),
            }
            responses.append(BackendResponse(text, extract_letter(text, c[3]), normalise(lp), None, meta))
        return responses
