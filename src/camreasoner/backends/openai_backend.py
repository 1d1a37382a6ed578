"""``--backend openai --base-url URL --model NAME``: any OpenAI-compatible chat-completions server.

Each item's video is sampled as for the hf backend (1 fps, <= 64 frames, capped pixels), the frames
are JPEG-encoded and sent either as one ``video_url`` whose data URL holds the frames
(``data:video/jpeg;base64,<f1>,<f2>,...``, the form vLLM's server accepts for Qwen2.5-VL, with the
sampling rate in ``mm_processor_kwargs``) or as a list of ``image_url`` frames (``video_as="images"``,
for servers without video input). Requests run ``concurrency`` at a time over httpx with a
time-out and retries (connection errors, 429 and 5xx, with exponential back-off).

P(option) comes from ``logprobs``/``top_logprobs`` at the token after ``<answer>``; when the
response broke the format, a second request continues the assistant message with ``<answer>``
(vLLM's ``continue_final_message``) for one token. When the server gives no log-probabilities the
probabilities fall back to the chosen letter (``meta["probs_from"]`` says which source was used).
"""

from __future__ import annotations

import base64
import math
import os
import random
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from camreasoner.backends.base import BackendItem, BackendResponse
from camreasoner.backends.hf import sampling_from
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import extract_letter
from camreasoner.core.taxonomy import split_option
from camreasoner.model.hints import check_hint_mode
from camreasoner.model.prompt import ANSWER_OPEN, question_text
from camreasoner.model.scoring import answer_prefix
from camreasoner.video.sampling import SampledVideo, sample_video

TOP_LOGPROBS = 20
RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class RequestFailed(Exception):
    """A request that failed after its retries (the message is one line)."""


def encode_frames(video: SampledVideo, quality: int = 90) -> list[str]:
    """Each sampled frame as base64 JPEG text."""
    import cv2

    out = []
    for frame in video.frames:
        ok, buf = cv2.imencode(".jpg", frame[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise CamReasonerError(f"{video.path}: could not encode a frame as JPEG")
        out.append(base64.b64encode(buf.tobytes()).decode("ascii"))
    return out


def video_content(frames_b64: Sequence[str], video_as: str = "video") -> list[dict[str, Any]]:
    """The message content entries that carry the video."""
    if video_as == "images":
        return [
            {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{f}"}} for f in frames_b64
        ]
    return [{"type": "video_url", "video_url": {"url": "data:video/jpeg;base64," + ",".join(frames_b64)}}]


def letter_probs_from_top(
    top: Sequence[dict[str, Any]], partial: str, letters: str
) -> dict[str, float] | None:
    """Letter probabilities from one position's ``top_logprobs``; ``partial`` is the token text before the letter.

    A candidate token counts for letter ``L`` when its text is ``partial`` followed by ``L`` (and no
    further letter). A letter absent from the list gets the list's lowest log-probability (an upper
    bound). None when no letter is in the list.
    """
    mass: dict[str, float] = {}
    for cand in top:
        text = str(cand.get("token", ""))
        if not text.startswith(partial):
            continue
        m = re.match(r"^\s*([A-Z])(?![A-Za-z])", text[len(partial) :])
        if m and m.group(1) in letters:
            mass[m.group(1)] = mass.get(m.group(1), 0.0) + math.exp(float(cand.get("logprob", -math.inf)))
    if not mass:
        return None
    floor = min(math.exp(float(c.get("logprob", -math.inf))) for c in top)
    raw = {L: mass.get(L, floor) for L in letters}
    total = sum(raw.values())
    return {L: v / total for L, v in raw.items()}


def probs_at_answer(
    text: str, content: Sequence[dict[str, Any]] | None, letters: str
) -> dict[str, float] | None:
    """Letter probabilities at the first character after ``<answer>`` in a response with logprobs."""
    idx = text.find(ANSWER_OPEN)
    if idx < 0 or not content:
        return None
    target = idx + len(ANSWER_OPEN)
    pos = 0
    for entry in content:
        token = str(entry.get("token", ""))
        if pos + len(token) > target:
            return letter_probs_from_top(entry.get("top_logprobs") or [], token[: target - pos], letters)
        pos += len(token)
    return None


class OpenAIBackend:
    """Chat completions against ``base_url`` (an OpenAI-compatible server such as ``vllm serve``)."""

    name = "openai"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        hint: str | None = None,
        fps: float | None = None,
        max_frames: int | None = None,
        max_pixels: int | None = None,
        temperature: float | None = None,
        max_new_tokens: int | None = None,
        concurrency: int | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        video_as: str | None = None,
        force_answer: bool | None = None,
        seed: int | None = None,
        top_logprobs: int | None = None,
        **_ignored: Any,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise CamReasonerError(
                "the openai backend needs httpx: pip install 'camreasoner[openai]'"
            ) from None
        if not base_url:
            raise CamReasonerError("the openai backend needs --base-url (e.g. http://localhost:8000/v1)")
        if not model:
            raise CamReasonerError("the openai backend needs --model NAME (the served model's name)")
        check_hint_mode(hint)
        if (video_as or "video") not in ("video", "images"):
            raise CamReasonerError(f"video_as must be 'video' or 'images', got {video_as!r}")
        self.model = model
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.hint = hint
        self.sampling = sampling_from(fps, max_frames, max_pixels)
        self.temperature = float(temperature or 0.0)
        self.max_new_tokens = int(max_new_tokens or 1024)
        self.concurrency = max(1, int(concurrency or 8))
        self.retries = 3 if retries is None else max(0, int(retries))
        self.video_as = video_as or "video"
        self.force_answer = True if force_answer is None else bool(force_answer)
        self.seed = seed
        self.top_logprobs = int(top_logprobs or TOP_LOGPROBS)
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.client = httpx.Client(
            timeout=httpx.Timeout(float(timeout or 300.0), connect=min(10.0, float(timeout or 10.0))),
            headers={"Authorization": f"Bearer {key}"},
            limits=httpx.Limits(max_connections=self.concurrency),
        )

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """Answer items ``concurrency`` at a time; a failed item gets ``error`` set."""
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self._answer_one, items))

    def _answer_one(self, item: BackendItem) -> BackendResponse:
        try:
            return self._answer(item)
        except CamReasonerError as exc:
            return BackendResponse("", None, {}, error=str(exc))
        except RequestFailed as exc:
            return BackendResponse("", None, {}, error=f"{item.video}: {exc}")

    def _answer(self, item: BackendItem) -> BackendResponse:
        letters = "".join(split_option(o)[0] for o in item.options)
        video = sample_video(item.video, self.sampling, item.start, item.end)
        cue = None
        if self.hint == "geometry":
            from camreasoner.model.hints import geometry_hint

            cue = geometry_hint(item.video, start=item.start, end=item.end)
        content = video_content(encode_frames(video), self.video_as)
        content.append({"type": "text", "text": question_text(item.question, item.options, cue)})
        messages: list[dict[str, Any]] = [{"role": "user", "content": content}]
        t0 = time.perf_counter()
        reply = self._post(messages, max_tokens=self.max_new_tokens, temperature=self.temperature)
        choice = reply["choices"][0]
        text = (choice.get("message") or {}).get("content") or ""
        logprobs = (choice.get("logprobs") or {}).get("content")
        meta: dict[str, Any] = {"frames": len(video.frames), "finish_reason": choice.get("finish_reason")}
        if cue:
            meta["hint"] = cue
        probs = probs_at_answer(text, logprobs, letters)
        meta["probs_from"] = "logprobs" if probs else None
        prefix = answer_prefix(text)
        meta["forced_answer"] = prefix.forced
        if probs is None and self.force_answer:
            forced = messages + [{"role": "assistant", "content": prefix.text + ANSWER_OPEN}]
            extra = {"continue_final_message": True, "add_generation_prompt": False}
            scored = self._post(forced, max_tokens=1, temperature=0.0, extra=extra)
            top = ((scored["choices"][0].get("logprobs") or {}).get("content") or [{}])[0].get("top_logprobs")
            probs = letter_probs_from_top(top or [], "", letters)
            meta["probs_from"] = "forced_logprobs" if probs else None
        letter = extract_letter(text, letters)
        if probs is None:
            chosen = letter
            probs = (
                {L: (1.0 if L == chosen else 0.0) for L in letters}
                if chosen
                else {L: 1 / len(letters) for L in letters}
            )
            meta["probs_from"] = "letter" if chosen else "uniform"
        meta["latency_s"] = round(time.perf_counter() - t0, 4)
        usage = reply.get("usage") or {}
        if usage:
            meta["prompt_tokens"] = usage.get("prompt_tokens")
            meta["completion_tokens"] = usage.get("completion_tokens")
        return BackendResponse(text, letter, probs, None, meta)

    def _post(
        self,
        messages: list[dict[str, Any]],
        max_tokens: int,
        temperature: float,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """POST one chat completion with retries; raise :class:`RequestFailed` with one line."""
        import httpx

        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "logprobs": True,
            "top_logprobs": self.top_logprobs,
            "mm_processor_kwargs": {"fps": self.sampling.fps},
        }
        if self.seed is not None:
            body["seed"] = self.seed
        body.update(extra or {})
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random()))
            try:
                resp = self.client.post(self.url, json=body)
            except httpx.TimeoutException:
                last = f"request timed out ({self.client.timeout.read:.0f} s) at {self.url}"
                continue
            except httpx.TransportError as exc:
                last = f"cannot reach {self.url} ({type(exc).__name__})"
                continue
            if resp.status_code in RETRY_STATUS:
                last = f"server answered HTTP {resp.status_code} at {self.url}"
                continue
            if resp.status_code != 200:
                raise RequestFailed(f"server answered HTTP {resp.status_code}: {_error_text(resp)}")
            try:
                data = resp.json()
                data["choices"][0]
            except (ValueError, KeyError, IndexError, TypeError):
                raise RequestFailed(
                    f"server at {self.url} sent a reply that is not a chat completion"
                ) from None
            return data
        raise RequestFailed(f"{last}; gave up after {self.retries + 1} tries")

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()


def _error_text(resp: Any) -> str:
    try:
        err = resp.json().get("error")
        msg = err.get("message") if isinstance(err, dict) else err
    except ValueError:
        msg = resp.text
    return " ".join(str(msg or "").split())[:200]
