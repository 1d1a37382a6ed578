"""Frames for the VLM: sampled at a fixed rate, capped in number and in pixels per frame.

Defaults follow CamReasoner: 1 frame per second, at most 64 frames (a longer clip is sampled
uniformly at a lower rate), each frame resized (aspect kept, sides multiples of 28 = patch 14 x
merge 2) to at most ``max_pixels``. Frames are decoded with PyAV one at a time and only the sampled
ones are converted, so memory stays flat. Hard caps turn an unreasonable input into one clear line:
a source frame above ``max_source_pixels``, an aspect ratio above 200, or more visual tokens than
``max_visual_tokens``.

The last few samples are kept (keyed by the file's path, size and modification time, the sampling
and the span): a backend asking several questions about one clip or shot decodes it once.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.video.decode import main_video_stream, open_video, probe, seek, timed_frames

PATCH = 14
MERGE = 2
TEMPORAL_PATCH = 2
FACTOR = PATCH * MERGE  # frame sides are multiples of this


class VideoTooLarge(CamReasonerError):
    """A video beyond the frame or pixel caps."""


@dataclass(frozen=True)
class VideoSampling:
    """How a clip becomes VLM input. All caps are configurable from the CLI options of the backends."""

    fps: float = 1.0
    max_frames: int = 64
    min_frames: int = 2
    max_pixels: int = 256 * FACTOR * FACTOR  # per frame: 200,704 pixels, 256 visual tokens per 2 frames
    min_pixels: int = 4 * FACTOR * FACTOR
    max_source_pixels: int = 7680 * 4320  # 8K UHD: a larger source frame is refused
    max_visual_tokens: int = 16384

    def __post_init__(self) -> None:
        if self.fps <= 0:
            raise CamReasonerError(f"fps must be positive, got {self.fps}")
        if self.max_frames < self.min_frames or self.min_frames < 1:
            raise CamReasonerError(f"max_frames must be at least {self.min_frames}, got {self.max_frames}")
        if self.max_pixels < FACTOR * FACTOR or self.min_pixels > self.max_pixels:
            raise CamReasonerError(
                f"max_pixels must be at least {FACTOR * FACTOR} and >= min_pixels, got {self.max_pixels}"
            )


@dataclass
class SampledVideo:
    """Sampled RGB frames (T, H, W, 3) uint8 and what is known about them."""

    path: str
    frames: np.ndarray
    times: list[float]
    fps: float  # the effective sampling rate (frames / duration)
    source_size: tuple[int, int]  # (width, height) as displayed
    duration: float
    capped: bool  # True when max_frames lowered the sampling rate
    warnings: list[str] = field(default_factory=list)

    @property
    def grid_thw(self) -> tuple[int, int, int]:
        """The (t, h, w) patch grid the Qwen2-VL video processor will produce for these frames."""
        t, h, w = self.frames.shape[:3]
        return math.ceil(t / TEMPORAL_PATCH), h // PATCH, w // PATCH

    @property
    def visual_tokens(self) -> int:
        """Placeholder tokens in the prompt: grid t * h * w / merge^2."""
        t, h, w = self.grid_thw
        return t * h * w // (MERGE * MERGE)

    def metadata(self) -> Any:
        """transformers' VideoMetadata for the processor (its sampled fps sets the temporal positions)."""
        from transformers.video_utils import VideoMetadata

        height, width = self.frames.shape[1:3]
        return VideoMetadata(
            total_num_frames=len(self.frames),
            fps=self.fps,
            width=width,
            height=height,
            duration=self.duration,
            video_backend="pyav",
            frames_indices=list(range(len(self.frames))),  # with fps: frame i at i / fps seconds
        )


def smart_resize(
    height: int, width: int, min_pixels: int, max_pixels: int, factor: int = FACTOR
) -> tuple[int, int]:
    """Qwen2-VL's resize rule: sides multiples of ``factor``, area within [min_pixels, max_pixels]."""
    h_bar = max(factor, round(height / factor) * factor)
    w_bar = max(factor, round(width / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def frame_count(duration: float, sampling: VideoSampling) -> tuple[int, bool]:
    """How many frames to sample from a clip of ``duration`` seconds (even), and whether capped."""
    wanted = max(sampling.min_frames, round(duration * sampling.fps))
    n = min(wanted, sampling.max_frames)
    if n >= TEMPORAL_PATCH:
        n -= n % TEMPORAL_PATCH
    return max(n, 1), wanted > sampling.max_frames


def check_caps(path: str, width: int, height: int, n_frames: int, sampling: VideoSampling) -> tuple[int, int]:
    """The resized (height, width) of every frame; raises :class:`VideoTooLarge` beyond a hard cap."""
    if width * height > sampling.max_source_pixels:
        raise VideoTooLarge(
            f"{path}: frame size {width}x{height} ({width * height} pixels) is above the cap of "
            f"{sampling.max_source_pixels} pixels per source frame; downscale the video first"
        )
    if max(width, height) / max(1, min(width, height)) > 200:
        raise VideoTooLarge(f"{path}: frame size {width}x{height} has an aspect ratio above 200")
    h, w = smart_resize(height, width, sampling.min_pixels, sampling.max_pixels)
    tokens = math.ceil(n_frames / TEMPORAL_PATCH) * (h // PATCH) * (w // PATCH) // (MERGE * MERGE)
    if tokens > sampling.max_visual_tokens:
        raise VideoTooLarge(
            f"{path}: {n_frames} frames of {w}x{h} make {tokens} visual tokens, above the cap of "
            f"{sampling.max_visual_tokens}; lower --fps, --max-frames or --max-pixels"
        )
    return h, w


def sample_video(
    path: str | os.PathLike[str],
    sampling: VideoSampling | None = None,
    start: float | None = None,
    end: float | None = None,
) -> SampledVideo:
    """Decode ``path`` (only [start, end] seconds when given) and return its sampled, resized RGB
    frames; a clear error for a bad video or an empty span. Repeated calls reuse a recent sample (its
    ``frames`` array is shared: read it, do not write into it)."""
    sampling = sampling or VideoSampling()
    name = str(path)
    try:
        st = os.stat(name)
    except OSError:
        return _sample(name, sampling, start, end)  # probe gives the one-line error
    video = _recent(name, st.st_size, st.st_mtime_ns, sampling, start, end)
    return replace(video, times=list(video.times), warnings=list(video.warnings))


@lru_cache(maxsize=4)
def _recent(name: str, size: int, mtime_ns: int, sampling: VideoSampling, start: float | None,
            end: float | None) -> SampledVideo:
    """``_sample`` keyed by the file's identity too (size and mtime: a rewritten file is decoded again)."""
    return _sample(name, sampling, start, end)


def _sample(name: str, sampling: VideoSampling, start: float | None, end: float | None) -> SampledVideo:
    info = probe(name)  # clear one-line errors for a missing, empty or unreadable file
    duration = info.duration or (info.frames / info.fps if info.frames else None)
    if not duration or duration <= 0:
        duration = _count_duration(name, info.fps)
    t0 = max(0.0, float(start or 0.0))
    t1 = min(duration, float(end)) if end is not None else duration
    if t1 <= t0:
        raise CamReasonerError(f"{name}: the span {t0:.2f}-{t1:.2f} s holds no frames (duration {duration:.2f} s)")
    span = t1 - t0
    n, capped = frame_count(span, sampling)
    height, width = check_caps(name, info.width, info.height, n, sampling)
    targets = [t0 + (i + 0.5) * span / n for i in range(n)]
    frames: list[np.ndarray] = []
    times: list[float] = []
    warnings: list[str] = []
    container, stream = open_video(name)
    try:
        stream.thread_type = "AUTO"
        if t0 > 0:
            seek(container, stream, t0, info.fps)
        half = 0.5 / info.fps
        for frame, t in timed_frames(container, stream, info.fps, warnings, name):
            if t + half < targets[len(frames)]:
                continue
            frames.append(_rgb(frame, width, height))
            times.append(t)
            if len(frames) == n:
                break
    finally:
        container.close()
    if not frames:
        raise CamReasonerError(f"{name}: no frames could be decoded")
    if len(frames) < n:
        if len(frames) < n - 1 or not warnings:
            warnings.append(f"{name}: sampled {len(frames)} of {n} frames (stream shorter than declared)")
        frames += [frames[-1]] * (n - len(frames))  # keep the count even, as the processor would
        times += [times[-1]] * (n - len(times))
    return SampledVideo(
        path=name,
        frames=np.stack(frames),
        times=times,
        fps=n / span,
        source_size=(info.width, info.height),
        duration=span,
        capped=capped,
        warnings=warnings,
    )


def _rgb(frame: Any, width: int, height: int) -> np.ndarray:
    """One decoded frame as (height, width, 3) uint8 RGB, rotated upright as displayed."""
    rot = int(getattr(frame, "rotation", 0) or 0)
    k = (round(rot / 90) % 4) if rot else 0
    w, h = (height, width) if k % 2 else (width, height)
    img = frame.reformat(width=w, height=h, format="rgb24").to_ndarray()
    return np.ascontiguousarray(np.rot90(img, k)) if k else img


def _count_duration(path: str, fps: float) -> float:
    """A clip's duration from its packet count when the header does not say."""
    import av

    with av.open(path) as container:
        stream = main_video_stream(container)
        packets = sum(1 for p in container.demux(stream) if p.size)
    if packets == 0:
        raise CamReasonerError(f"{path}: the video stream has no frames")
    return packets / fps
