"""One PyAV decoder for every part: opening, probing, timed frame iteration, grey conversion.

A file that cannot be opened raises :class:`CamReasonerError` naming the file; a stream that breaks
part-way ends the iteration with a warning instead.
"""

from __future__ import annotations

import itertools
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the first video stream; width/height are as displayed (rotated)."""

    path: str
    width: int
    height: int
    fps: float
    duration: float | None
    frames: int | None
    rotation: int
    codec: str

    @property
    def declared_length(self) -> float | None:
        """Seconds the header promises: the longer of its duration and its frame count over the frame
        rate (an AVI cut before its index keeps the count but not the duration). None: neither."""
        lengths = [x for x in (self.duration, self.frames / self.fps if self.frames else None) if x]
        return max(lengths) if lengths else None


def open_video(path: str | os.PathLike[str]):
    import av

    p = Path(path)
    if not p.exists():
        raise CamReasonerError(f"{p}: no such file")
    if not p.is_file():
        raise CamReasonerError(f"{p}: not a file")
    if p.stat().st_size == 0:
        raise CamReasonerError(f"{p}: empty file, not a video")
    try:
        container = av.open(str(p))
    except av.FFmpegError as exc:
        raise CamReasonerError(f"{p}: not a readable video ({short_error(exc)})") from None
    stream = main_video_stream(container)
    if stream is None:
        container.close()
        raise CamReasonerError(f"{p}: no video stream in the file")
    if stream.codec_context is None or not stream.codec_context.name:
        container.close()
        raise CamReasonerError(f"{p}: unsupported video codec")
    return container, stream


def main_video_stream(container):
    """The file's main video stream as FFmpeg picks it (``av_find_best_stream``: not a one-frame
    cover picture that comes first), or None without video."""
    return container.streams.best("video") if container.streams.video else None


def short_error(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"^\[Errno -?\d+\]\s*", "", text)
    # PyAV messages end with ": '<path>'"; the caller already names the file.
    return text.split("; last error log")[0].rstrip(": ").split(": '")[0]


def _rate(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            value = float(rate)
            if 0 < value < 1000:
                return value
    return 25.0


def _stream_duration(container, stream) -> float | None:
    """Seconds from the stream's first frame to its end, as the header says (None: it does not).

    Matroska and WebM count their duration from the segment's time 0, not from the first frame,
    so a file whose frames start later (cut with its original timestamps kept) would otherwise
    look longer than it is, and its last frames missing."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        seconds = container.duration / 1_000_000
        if "matroska" in str(container.format.name):
            seconds -= stream_start_time(stream)
        return seconds if seconds > 0 else None
    return None


@dataclass
class OpenVideo:
    """A video opened and probed once: its ``info``, and the decoding still open just after the first
    frame (``first``), so a reader that starts at 0 s neither reopens the file nor decodes that frame
    twice. :meth:`close` it when it is not read."""

    info: VideoInfo
    container: Any
    stream: Any
    frames: Iterator[Any]
    first: Any

    def decoding(self) -> Iterator[Any]:
        """Every decoded frame from the first on: the probed one, then the decode under way."""
        return itertools.chain([self.first], self.frames)

    def close(self) -> None:
        self.container.close()


def open_probed(path: str | os.PathLike[str], threads: str | None = "AUTO") -> OpenVideo:
    """Open ``path``, decode its first frame and read the header (see :func:`probe`); the decoding
    stays open (``threads``: PyAV's ``thread_type``, set before the first frame; None: PyAV's
    default) for the caller."""
    import av

    container, stream = open_video(path)
    try:
        if threads is not None:
            stream.thread_type = threads
        frames = container.decode(stream)
        try:
            first = next(frames, None)
        except av.FFmpegError as exc:
            raise CamReasonerError(f"{path}: cannot decode the video stream ({short_error(exc)})") from None
        if first is None:
            raise CamReasonerError(f"{path}: the video stream has no frames")
        rotation = int(getattr(first, "rotation", 0) or 0)
        width, height = int(first.width), int(first.height)
        if rotation % 180:
            width, height = height, width
        info = VideoInfo(
            path=str(path),
            width=width,
            height=height,
            fps=_rate(stream),
            duration=_stream_duration(container, stream),
            frames=int(stream.frames) or None,
            rotation=rotation,
            codec=str(stream.codec_context.name),
        )
    except BaseException:
        container.close()
        raise
    return OpenVideo(info, container, stream, frames, first)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's header: size, frame rate, duration, codec; a clear error if it is not a video."""
    opened = open_probed(path, threads=None)
    opened.close()
    return opened.info


_PLANAR_LUMA = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"}


def grey_image(frame, size: tuple[int, int]) -> np.ndarray:
    """A decoded frame as a grey uint8 array of ``size`` (w, h): the luma plane, area-downscaled
    (no colour conversion for the usual YUV formats; other formats go through libswscale)."""
    import cv2

    if frame.format.name in _PLANAR_LUMA:
        plane = frame.planes[0]
        luma = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
        if (frame.width, frame.height) == size:
            return luma.copy()
        return cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
    return frame.reformat(width=size[0], height=size[1], format="gray").to_ndarray()


def scaled_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """The (width, height) that fits ``max_side`` keeping the aspect ratio, rounded to even numbers."""
    if not max_side or max(width, height) <= max_side:
        return width - width % 2, height - height % 2
    scale = max_side / max(width, height)
    w = max(2, int(round(width * scale / 2)) * 2)
    h = max(2, int(round(height * scale / 2)) * 2)
    return w, h


@dataclass
class FrameClock:
    """Dates decoded frames, which leave the decoder in display order, by their presentation
    timestamp, or by their decoding timestamp where the presentation timestamps have gone back in
    time more often than the decoding ones.

    Some files stamp each frame with its packet's decode-order time: an AVI of packed MPEG-4
    B-frames, or a muxer that wrote DTS as PTS. Their presentation times then run 0.04, 0.12,
    0.08, 0.20, 0.16 s while the decoding times still rise with the display order. FFmpeg makes
    this choice as the frame's ``best_effort_timestamp``, which PyAV does not expose, so the same
    rule is kept here.
    """

    last_pts: float | None = None
    last_dts: float | None = None
    faulty_pts: int = 0
    faulty_dts: int = 0
    dts_unit: float | None = None

    def seconds(self, frame) -> float | None:
        """The frame's time in seconds (stream time, before the stream's start is taken off), or
        None when it carries no timestamp."""
        pts = frame.time  # PyAV's pts in seconds (None without a pts)
        dts = getattr(frame, "dts", None)
        if dts is not None:
            if self.dts_unit is None:  # the stream's time base, once (a Fraction product is slow)
                self.dts_unit = float(frame.time_base or 0.0)
            dts = dts * self.dts_unit if self.dts_unit else None
        if dts is not None:
            self.faulty_dts += self.last_dts is not None and dts <= self.last_dts
            self.last_dts = dts
        if pts is not None:
            self.faulty_pts += self.last_pts is not None and pts <= self.last_pts
            self.last_pts = pts
        if pts is not None and (dts is None or self.faulty_pts <= self.faulty_dts):
            return pts
        return dts


def frame_time(frame, ordinal: int, fps: float, stream_start: float, clock: FrameClock) -> float:
    """A decoded frame's time in seconds from the stream's start, by ``clock``, the one
    :class:`FrameClock` of the decode the frame belongs to.

    ``ordinal`` counts decoded frames from 0; it dates a frame whose packet carries no timestamp
    (the first such frame is at 0 s, the next at 1 / fps, ...).
    """
    seconds = clock.seconds(frame)
    if seconds is None:
        return ordinal / fps
    return seconds - stream_start


def stream_start_time(stream) -> float:
    """The stream's first timestamp in seconds (0 when the container does not say)."""
    return float(stream.start_time * stream.time_base) if stream.start_time and stream.time_base else 0.0


def seek(container, stream, seconds: float, fps: float) -> None:
    """Seek to the key frame at or before ``seconds`` from the stream's start (from the start of the
    file when the stream cannot seek)."""
    import av

    base = float(stream.time_base) if stream.time_base else 1.0 / fps
    try:
        container.seek(int((seconds + stream_start_time(stream)) / base), stream=stream, backward=True)
    except av.FFmpegError:
        container.seek(0, stream=stream)


def timed_frames(container, stream, fps: float, warnings: list[str], label: str,
                 decoding: Iterator[Any] | None = None) -> Iterator[tuple[Any, float]]:
    """Yield ``(frame, seconds)`` for every decoded frame of ``stream`` (of ``decoding``, a decode of
    it already under way, when given).

    A stream that breaks part-way ends the iteration and appends one line to ``warnings``
    (``label`` names the file); decoding errors never escape.
    """
    import av

    start = stream_start_time(stream)
    frames = container.decode(stream) if decoding is None else decoding
    clock = FrameClock()
    ordinal = 0
    last = None
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.FFmpegError as exc:
            where = f"{last:.2f} s" if last is not None else "the start"
            warnings.append(f"{label}: stream corrupt after {where} ({short_error(exc)})")
            return
        last = frame_time(frame, ordinal, fps, start, clock)
        ordinal += 1
        yield frame, last


# PyAV's thread modes a decode-only baseline tries: its default (FFmpeg's slice threads) and frame
# plus slice threads. Which is faster depends on the stream (frame threads win on bikes.mp4, lose on
# the benchmark's own H.264 and on MPEG-4 part 2), so a fair baseline takes the faster.
DECODE_THREAD_MODES = ("SLICE", "AUTO")


def decode_all(path: str | os.PathLike[str], threads: str = "AUTO") -> int:
    """Decode every frame of the first video stream and return the count (the decode-only baseline;
    ``threads``: PyAV's ``thread_type``, see ``DECODE_THREAD_MODES``)."""
    container, stream = open_video(path)
    stream.thread_type = threads
    n = 0
    try:
        for _ in container.decode(stream):
            n += 1
    finally:
        container.close()
    return n


def frame_count_hint(info: VideoInfo) -> int | None:
    """The number of frames the header implies, if it says."""
    if info.frames:
        return info.frames
    if info.duration:
        return int(math.floor(info.duration * info.fps))
    return None
