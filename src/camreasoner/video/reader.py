"""The observer's frames: sampled at a fixed rate from start to end, downscaled to grey, streamed.

Frames are decoded one at a time and only the sampled ones are converted (the luma plane,
area-downscaled), so memory stays flat whatever the clip's length. The sampling instants are a
fixed grid, ``start + k / fps``, whatever the clip's length: instant ``g`` is served by the first
decoded frame whose timestamp is at least ``g - tolerance`` (``SAMPLE_TOLERANCE`` of the stream's
mean frame interval), so a variable-frame-rate stream is sampled by its timestamps and an instant
that falls in a gap is served by the first frame after it. A frame cap truncates the span (the
first ``max_frames`` samples); it never widens the spacing. A span shorter than one step (the
grid gives one instant) also yields its last decoded frame, so two frames of it can be compared. A
stream that breaks part-way yields the frames that decoded and records a warning.
"""

from __future__ import annotations

import math
import os
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.video.decode import (
    OpenVideo,
    VideoInfo,
    grey_image,
    open_probed,
    open_video,
    scaled_size,
    seek,
    timed_frames,
)

# A sampling instant g is served by the first frame at or after g - SAMPLE_TOLERANCE / stream fps.
SAMPLE_TOLERANCE = 0.5


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its position in the sample, its time in seconds, a grey uint8 image and
    its source frame number (decode order from the stream's start)."""

    index: int
    time: float
    image: np.ndarray
    number: int = -1


def check_fps(fps: float | None) -> None:
    """``fps`` must be None or >= 0 (0 and None: every decoded frame); one line otherwise."""
    if fps is not None and (not math.isfinite(fps) or fps < 0):
        raise CamReasonerError(f"--fps must be >= 0 (0: every decoded frame), got {fps}")


@dataclass
class VideoReader:
    """Stream sampled, downscaled grey frames of a video.

    ``fps``: frames per second to sample (None or 0: every decoded frame); ``max_frames``: stop
    after this many sampled frames (truncates the span; None: no cap); ``start``/``end``: seconds;
    ``max_side``: the longer side of the analysed frames; ``on_decoded(frame, number, time)``:
    called for every decoded frame of the span, sampled or not (in the decoding thread). Iterate to
    get :class:`Frame` objects; ``warnings`` holds what went wrong part-way (a corrupt or truncated
    stream); ``damage`` is the first such break's cause alone (one line naming the file, without
    what was analysed); ``truncated`` is True when ``max_frames`` stopped the reading before the
    span's end.
    """

    path: str | os.PathLike[str]
    fps: float | None = 4.0
    max_frames: int | None = None
    start: float | None = None
    end: float | None = None
    max_side: int | None = 320
    on_decoded: Callable[[object, int, float], None] | None = None
    warnings: list[str] = field(default_factory=list)
    damage: str | None = None
    info: VideoInfo | None = None
    decoded: int = 0
    truncated: bool = False
    last_number: int = -1
    last_time: float | None = None
    _opened: OpenVideo | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_fps(self.fps)
        if self.max_frames is not None and self.max_frames < 2:
            raise CamReasonerError(f"--max-frames must be at least 2, got {self.max_frames}")
        if self.start is not None and self.start < 0:
            raise CamReasonerError(f"--start must be >= 0, got {self.start}")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise CamReasonerError(f"--end ({self.end}) must be after --start ({self.start})")
        # The probe's decode stays open: a reading from 0 s goes on from its first frame.
        self._opened = open_probed(self.path)
        self.info = self._opened.info

    @property
    def step(self) -> float:
        """Seconds between sampling instants (0: every frame); never depends on the clip's length."""
        return 1.0 / self.fps if self.fps else 0.0

    @property
    def tolerance(self) -> float:
        """How early (seconds) a frame may be and still serve a sampling instant."""
        assert self.info is not None
        return SAMPLE_TOLERANCE / self.info.fps

    def close(self) -> None:
        """Close the probe's decode if no reading took it over."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def _decoding(self, start: float) -> tuple[Any, Any, Iterator[Any] | None]:
        """The container, stream and (when the probe's decode is taken over) the decode under way."""
        opened, self._opened = self._opened, None
        if opened is not None and start <= 0:
            return opened.container, opened.stream, opened.decoding()
        if opened is not None:
            opened.close()
        container, stream = open_video(self.path)
        stream.thread_type = "AUTO"
        return container, stream, None

    def __iter__(self) -> Iterator[Frame]:
        info = self.info
        assert info is not None
        step, tol = self.step, self.tolerance
        start = float(self.start or 0.0)
        container, stream, decoding = self._decoding(start)
        next_t = start
        taken = 0
        last_time = None
        size: tuple[int, int] | None = None
        k_rot = 0
        first_number: int | None = None
        latest: tuple[Any, float, int] | None = None  # the last decoded frame of the span not sampled
        n_warnings = len(self.warnings)
        self.truncated = False
        self.last_number, self.last_time = -1, None
        try:
            if start > 0:
                seek(container, stream, start, info.fps)
            for ordinal, (frame, t) in enumerate(timed_frames(container, stream, info.fps, self.warnings,
                                                              str(self.path), decoding)):
                self.decoded += 1
                if t + tol < start:
                    continue
                if self.end is not None and t > self.end + 1e-6:
                    break
                if first_number is None:  # after a seek the decode order starts mid-stream
                    first_number = 0 if start <= 0 else max(0, round(t * info.fps)) - ordinal
                number = first_number + ordinal
                if self.on_decoded is not None:
                    self.on_decoded(frame, number, t)
                last_time = self.last_time = t
                self.last_number = number
                if t + tol < next_t:
                    latest = (frame, t, number)
                    continue
                if self.max_frames and taken >= self.max_frames:
                    self.truncated = True
                    break
                if size is None:
                    rot = int(getattr(frame, "rotation", 0) or 0)
                    k_rot = (round(rot / 90) % 4) if rot else 0
                    size = scaled_size(frame.width, frame.height, self.max_side)
                yield Frame(index=taken, time=t, image=_grey(frame, size, k_rot), number=number)
                taken += 1
                latest = None
                # the next instant of the grid start + k * step after this frame
                next_t = start + step * (math.floor((t + tol - start) / step) + 1) if step else t
            if taken == 1 and latest is not None and not self.truncated:  # a span shorter than one step
                frame, t, number = latest
                yield Frame(index=taken, time=t, image=_grey(frame, size, k_rot), number=number)
                taken += 1
        finally:
            container.close()
        if len(self.warnings) > n_warnings:
            self.damage = self.damage or self.warnings[-1]
            self.warnings[-1] += f"; analysed the {taken} frames that decoded"
        self._check_truncated(last_time, taken)

    def _check_truncated(self, last_time: float | None, taken: int) -> None:
        info = self.info
        assert info is not None
        declared = info.declared_length
        if self.warnings or last_time is None or declared is None:
            return
        if self.truncated:
            return
        expected_end = declared if self.end is None else min(self.end, declared)
        gap = expected_end - last_time
        if gap > max(1.0, 5.0 / info.fps) and gap > 0.1 * expected_end:
            self.damage = (f"{self.path}: stream ends at {last_time:.2f} s of a declared {declared:.2f} s "
                           "(truncated or corrupt)")
            self.warnings.append(f"{self.damage}; analysed the {taken} frames that decoded")


def _grey(frame: Any, size: tuple[int, int] | None, k_rot: int) -> np.ndarray:
    """A decoded frame as the analysed grey image: ``size`` (w, h), turned ``k_rot`` quarter turns."""
    assert size is not None
    img = grey_image(frame, size)
    return np.ascontiguousarray(np.rot90(img, k_rot)) if k_rot else img


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
