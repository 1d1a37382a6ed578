"""The observer's frames: sampled by rate, start/end and cap, downscaled to grey, streamed.

Frames are decoded one at a time and only the sampled ones are converted (the luma plane,
area-downscaled), so memory stays flat whatever the clip's length. A stream that breaks part-way
yields the frames that decoded and records a warning.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.video.decode import (
    VideoInfo,
    grey_image,
    open_video,
    probe,
    scaled_size,
    stream_start_time,
    timed_frames,
)


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its position in the sample, its time in seconds, a grey uint8 image."""

    index: int
    time: float
    image: np.ndarray


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

        container, stream = open_video(self.path)
        stream.thread_type = "AUTO"
        info = self.info
        assert info is not None
        step = self._sample_step()
        start = float(self.start or 0.0)
        base = float(stream.time_base) if stream.time_base else 1.0 / info.fps
        half = 0.5 / info.fps
        next_t = start
        taken = 0
        last_time = None
        size: tuple[int, int] | None = None
        k_rot = 0
        n_warnings = len(self.warnings)
        try:
            if start > 0:
                try:
                    container.seek(int((start + stream_start_time(stream)) / base), stream=stream, backward=True)
                except av.FFmpegError:
                    container.seek(0, stream=stream)
            for frame, t in timed_frames(container, stream, info.fps, self.warnings, str(self.path)):
                self.decoded += 1
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
                    size = scaled_size(frame.width, frame.height, self.max_side)
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
        if len(self.warnings) > n_warnings:
            self.warnings[-1] += f"; analysed the {taken} frames that decoded"
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
