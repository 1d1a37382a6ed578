"""Shot boundaries: PySceneDetect's AdaptiveDetector (cuts) and ThresholdDetector (fades through
black, and through white on the negative picture) fed every decoded frame.

:class:`ShotDetector` takes the frames of a decode that is already under way (the observer's
reader calls it for every decoded frame, so shots and motion come from one decode);
:func:`detect_shots` decodes a file for it alone. Frames reach the detector as BGR images
``DETECT_WIDTH`` px wide, scaled bilinearly as PySceneDetect scales (its own default width, 256 px,
finds the same cuts on the sample clips at about twice the cost); planar YUV frames are scaled
plane by plane before the colour conversion, so the full-size frame is never converted. A fade
out to black and in again is a shot boundary, placed in the middle of its dark stretch; so is a
fade through white (a "dip to white"), in the middle of its white stretch. A dissolve
(one shot cross-fading into the next) is found by :mod:`camreasoner.video.dissolves` from the same
brightness copies; its boundary is where the blend turns to the second shot.
"""

from __future__ import annotations

import os
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from camreasoner.video.dissolves import Dissolve, DissolveDetector

DETECT_WIDTH = 80
_YUV_PLANAR = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p"}
DEFAULT_MIN_SHOT = 1.0
DEFAULT_THRESHOLD = 3.0
# A fade through black: PySceneDetect's ThresholdDetector cuts where the mean pixel value (0-255)
# rises back to this level after falling below it, in the middle of the dark stretch (through
# white: 255 minus this level, on the negative picture).
FADE_LEVEL = 12


@dataclass(frozen=True)
class Shot:
    """One shot: seconds and source frame numbers (``end_frame`` exclusive)."""

    start: float
    end: float
    start_frame: int
    end_frame: int


def merge_short(cuts: list[int], first: int, stop: int, min_len: int) -> list[tuple[int, int]]:
    """Frame spans ``[a, b)`` between ``first``, the cut frames and ``stop``; a span shorter than
    ``min_len`` frames joins its neighbour (PySceneDetect's minimum does not cover the tail)."""
    bounds = [first, *sorted(c for c in set(cuts) if first < c < stop), stop]
    spans: list[list[int]] = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if spans and b - a < min_len:
            spans[-1][1] = b
        else:
            spans.append([a, b])
    if len(spans) > 1 and spans[0][1] - spans[0][0] < min_len:
        head = spans.pop(0)
        spans[0][0] = head[0]
    return [(a, b) for a, b in spans]


def small_copies(frame: Any, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """A decoded PyAV frame scaled bilinearly to ``size`` (w, h): a BGR uint8 image (what
    AdaptiveDetector compares) and its brightness, 0 black to 255 white whatever the stream's range
    (what ThresholdDetector averages)."""
    import cv2

    if frame.format.name not in _YUV_PLANAR:
        bgr = frame.reformat(width=size[0], height=size[1], format="bgr24").to_ndarray()
        return bgr, cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    yuv = np.empty((size[1], size[0], 3), np.uint8)  # each plane scaled straight into its channel
    for channel, plane in enumerate(frame.planes[:3]):
        data = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:, : plane.width]
        yuv[..., channel] = cv2.resize(data, size, interpolation=cv2.INTER_LINEAR)
    luma = yuv[..., 0]
    if not _full_range(frame):  # video range: black is 16, white 235
        luma = cv2.convertScaleAbs(luma, alpha=255.0 / 219.0, beta=-16.0 * 255.0 / 219.0)
    return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR), luma


def _full_range(frame: Any) -> bool:
    """Whether a planar YUV frame's samples span 0-255 (JPEG range) rather than 16-235."""
    return frame.format.name.startswith("yuvj") or int(getattr(frame, "color_range", 0) or 0) == 2


@dataclass
class ShotDetector:
    """Feed it every decoded frame in order (:meth:`feed`), then read :meth:`shots`.

    ``fps``: the stream's frame rate (frame numbers <-> the detector's minimum shot length);
    ``min_shot``: seconds; ``threshold``: AdaptiveDetector's adaptive threshold; ``find_dissolves``:
    also split at dissolves (:mod:`camreasoner.video.dissolves`).

    :meth:`feed` only makes the small BGR copy and queues it; :meth:`detect` runs AdaptiveDetector
    over what is queued (:meth:`shots` does it too). The observer feeds from its decoding thread and
    detects from its tracking thread between frame pairs, so the decoding thread, which sets the
    pace, does the least per frame.
    """

    fps: float
    min_shot: float = DEFAULT_MIN_SHOT
    threshold: float = DEFAULT_THRESHOLD
    find_dissolves: bool = True
    cuts: list[int] = field(default_factory=list)
    times: array = field(default_factory=lambda: array("d"))
    first: int | None = None
    size: tuple[int, int] | None = None
    queued: deque = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        from scenedetect.detectors import AdaptiveDetector, ThresholdDetector

        self.min_len = max(1, round(self.min_shot * self.fps))
        self._cuts = AdaptiveDetector(adaptive_threshold=self.threshold, min_scene_len=self.min_len)
        self._fades = ThresholdDetector(threshold=FADE_LEVEL, min_scene_len=self.min_len, fade_bias=0.0)
        self._white_fades = ThresholdDetector(threshold=FADE_LEVEL, min_scene_len=self.min_len, fade_bias=0.0)
        self._dissolves = DissolveDetector(self.fps) if self.find_dissolves else None

    def feed(self, frame: Any, number: int, time: float) -> None:
        """One decoded PyAV frame, its source frame number and its time in seconds (queued)."""
        if self.first is None:
            self.first = number
            w, h = int(frame.width), int(frame.height)
            scale = min(1.0, DETECT_WIDTH / w)
            self.size = (max(2, round(w * scale)), max(2, round(h * scale)))
        self.times.append(time)
        self.queued.append((number, *small_copies(frame, self.size)))

    def detect(self) -> None:
        """Run the detector over the queued frames, in order."""
        from scenedetect.common import FrameTimecode

        while self.queued:
            number, image, luma = self.queued.popleft()
            timecode = FrameTimecode(number, self.fps)
            self.cuts.extend(int(cut.frame_num) for cut in self._cuts.process_frame(timecode, image))
            self.cuts.extend(int(cut.frame_num) for cut in self._fades.process_frame(timecode, luma))
            # a fade through white is one through black in the negative picture
            self.cuts.extend(int(cut.frame_num) for cut in self._white_fades.process_frame(timecode, 255 - luma))
            if self._dissolves is not None:
                self._dissolves.feed(number, luma)

    def dissolves(self) -> list[Dissolve]:
        """The dissolves found in what was fed (each also splits :meth:`shots`)."""
        self.detect()
        return self._dissolves.dissolves() if self._dissolves is not None else []

    @property
    def frames(self) -> int:
        """Frames fed so far."""
        return len(self.times)

    def time_of(self, number: int) -> float:
        """The time of source frame ``number`` (a frame past the last: the last time plus one frame)."""
        assert self.first is not None
        k = number - self.first
        if k < len(self.times):
            return self.times[k]
        return self.times[-1] + (k - len(self.times) + 1) / self.fps

    def shots(self, end_time: float | None = None) -> list[Shot]:
        """The shots of what was fed (one covering it all when no cut was found); the last ends at
        ``end_time`` when given, else one frame after the last frame."""
        if self.first is None:
            return []
        self.detect()
        stop = self.first + self.frames
        boundaries = [*self.cuts, *(d.boundary for d in self.dissolves())]
        spans = merge_short(boundaries, self.first, stop, self.min_len)
        out = []
        for i, (a, b) in enumerate(spans):
            end = end_time if (i == len(spans) - 1 and end_time is not None) else self.time_of(b)
            out.append(Shot(round(self.time_of(a), 4), round(end, 4), a, b))
        return out


def detect_shots(path: str | os.PathLike[str], fps: float | None = None, min_shot: float = DEFAULT_MIN_SHOT,
                 threshold: float = DEFAULT_THRESHOLD) -> list[Shot]:
    """The shots of ``path`` by a decode of its own (one shot covering it all when no cut is found)."""
    from camreasoner.video.decode import open_probed, timed_frames

    opened = open_probed(path)  # one open; a file without a frame is refused here
    rate = fps or opened.info.fps
    detector = ShotDetector(rate, min_shot, threshold)
    warnings: list[str] = []
    try:
        frames = timed_frames(opened.container, opened.stream, rate, warnings, str(path), opened.decoding())
        for number, (frame, t) in enumerate(frames):
            detector.feed(frame, number, t)
            detector.detect()  # frame by frame: the queue never holds more than one copy
    finally:
        opened.close()
    return detector.shots(opened.info.duration)
