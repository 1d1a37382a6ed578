"""Video input with PyAV: probing, streaming frame sampling by fps, start/end, rotation, downscaling.

Frames are decoded one at a time and only the sampled ones are converted (downscaled to grey by
libswscale), so memory stays flat whatever the clip's length. A stream that breaks part-way yields
the frames that decoded and records a warning; one that cannot be opened raises
:class:`CamReasonerError` naming the file.
"""

from __future__ import annotations

import math
import os
import queue
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from camreasoner.errors import CamReasonerError


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


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its position in the sample, its time in seconds, a grey uint8 image."""

    index: int
    time: float
    image: np.ndarray


def _open(path: str | os.PathLike[str]):
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
        raise CamReasonerError(f"{p}: not a readable video ({_short(exc)})") from None
    if not container.streams.video:
        container.close()
        raise CamReasonerError(f"{p}: no video stream in the file")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.name:
        container.close()
        raise CamReasonerError(f"{p}: unsupported video codec")
    return container, stream


def _short(exc: Exception) -> str:
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
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return None


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's header: size, frame rate, duration, codec; a clear error if it is not a video."""
    import av

    container, stream = _open(path)
    try:
        cc = stream.codec_context
        rotation = 0
        try:
            first = next(container.decode(stream), None)
        except av.FFmpegError as exc:
            raise CamReasonerError(f"{path}: cannot decode the video stream ({_short(exc)})") from None
        if first is None:
            raise CamReasonerError(f"{path}: the video stream has no frames")
        rotation = int(getattr(first, "rotation", 0) or 0)
        width, height = int(first.width), int(first.height)
        if rotation % 180:
            width, height = height, width
        return VideoInfo(
            path=str(path),
            width=width,
            height=height,
            fps=_rate(stream),
            duration=_stream_duration(container, stream),
            frames=int(stream.frames) or None,
            rotation=rotation,
            codec=str(cc.name),
        )
    finally:
        container.close()


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
class VideoReader:
    """Stream sampled, downscaled grey frames of a video.

    ``fps``: frames per second to sample (None or 0: every frame); ``max_frames``: a cap, spread
    over the span (the sampling rate drops when the span holds more); ``start``/``end``: seconds;
    ``max_side``: the longer side of the analysed frames. Iterate to get :class:`Frame` objects;
    ``warnings`` holds what went wrong part-way (a corrupt or truncated stream).
    """

    path: str | os.PathLike[str]
    fps: float | None = 6.0
    max_frames: int | None = None
    start: float | None = None
    end: float | None = None
    max_side: int | None = 320
    warnings: list[str] = field(default_factory=list)
    info: VideoInfo | None = None
    decoded: int = 0

    def __post_init__(self) -> None:
        if self.fps is not None and self.fps < 0:
            raise CamReasonerError(f"--fps must be positive, got {self.fps}")
        if self.max_frames is not None and self.max_frames < 2:
            raise CamReasonerError(f"--max-frames must be at least 2, got {self.max_frames}")
        if self.start is not None and self.start < 0:
            raise CamReasonerError(f"--start must be >= 0, got {self.start}")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise CamReasonerError(f"--end ({self.end}) must be after --start ({self.start})")
        self.info = probe(self.path)

    def _sample_step(self) -> float:
        """Seconds between sampled frames (0: every frame)."""
        info = self.info
        assert info is not None
        step = 1.0 / self.fps if self.fps else 0.0
        if self.max_frames:
            t0 = self.start or 0.0
            t1 = self.end if self.end is not None else info.duration
            if t1 is not None and t1 > t0:
                span = t1 - t0
                step = max(step, span / self.max_frames)
        return step

    def __iter__(self) -> Iterator[Frame]:
        import av

        container, stream = _open(self.path)
        stream.thread_type = "AUTO"
        info = self.info
        assert info is not None
        step = self._sample_step()
        start = float(self.start or 0.0)
        base = float(stream.time_base) if stream.time_base else 1.0 / info.fps
        stream_start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        half = 0.5 / info.fps
        next_t = start
        taken = 0
        last_time = None
        size: tuple[int, int] | None = None
        k_rot = 0
        try:
            if start > 0:
                try:
                    container.seek(int((start + stream_start) / base), stream=stream, backward=True)
                except av.FFmpegError:
                    container.seek(0, stream=stream)
            frames = container.decode(stream)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except av.FFmpegError as exc:
                    where = f"{last_time:.2f} s" if last_time is not None else "the start"
                    self.warnings.append(
                        f"{self.path}: stream corrupt after {where} ({_short(exc)}); "
                        f"analysed the {taken} frames that decoded"
                    )
                    break
                self.decoded += 1
                t = (frame.time if frame.time is not None else self.decoded / info.fps) - stream_start
                if t + half < start:
                    continue
                if self.end is not None and t > self.end + 1e-6:
                    break
                last_time = t
                if t + half < next_t:
                    continue
                if size is None:
                    rot = int(getattr(frame, "rotation", 0) or 0)
                    k_rot = (round(rot / 90) % 4) if rot else 0
                    w, h = frame.width, frame.height
                    size = scaled_size(w, h, self.max_side)
                img = grey_image(frame, size)
                if k_rot:
                    img = np.ascontiguousarray(np.rot90(img, k_rot))
                yield Frame(index=taken, time=t, image=img)
                taken += 1
                next_t = max(next_t + step, t + step) if step else t
                if self.max_frames and taken >= self.max_frames:
                    break
        finally:
            container.close()
        self._check_truncated(last_time, taken)

    def _check_truncated(self, last_time: float | None, taken: int) -> None:
        info = self.info
        assert info is not None
        if self.warnings or last_time is None or info.duration is None:
            return
        if self.max_frames and taken >= self.max_frames:
            return
        expected_end = info.duration if self.end is None else min(self.end, info.duration)
        gap = expected_end - last_time
        if gap > max(1.0, 5.0 / info.fps) and gap > 0.1 * expected_end:
            self.warnings.append(
                f"{self.path}: stream ends at {last_time:.2f} s of a declared {info.duration:.2f} s "
                f"(truncated or corrupt); analysed the {taken} frames that decoded"
            )


def prefetch(frames: Iterable[Frame], depth: int = 4) -> Iterator[Frame]:
    """Decode ahead in a thread (PyAV releases the GIL), holding at most ``depth`` frames.

    The consumer's work (tracking) then overlaps decoding; errors raised while decoding are
    re-raised here.
    """
    done = object()
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def decode_all(path: str | os.PathLike[str]) -> int:
    """Decode every frame of the first video stream and return the count (the decode-only baseline)."""
    container, stream = _open(path)
    stream.thread_type = "AUTO"
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
