"""One decode of a clip: sampled frames tracked pair by pair, shot boundaries from every decoded frame.

The reader samples at a fixed rate (``ObserverOptions.fps``) whatever the clip's length and feeds
every decoded frame to the shot detector in the same pass; the consumer tracks points between
sampled frames ``PAIR_STEP_S`` apart, the spacing the calibration was fitted at: consecutive
frames at the default 4 fps; at a higher rate, frame ``k`` and frame ``k - m`` (``m`` sampling
steps), so the sample splits into ``m`` interleaved chains, each a 4-fps reading of its own (see
:func:`pair_spacing`). A pair whose two frames lie in different shots is kept in the series but
never measured (``cut``); so is a pair across a grey-level histogram jump (a cut the shot
detector's minimum shot length let through). Text fixed on the frame (subtitles, a logo) is kept
out of every pair's tracks (:func:`~camreasoner.observer.geometry.scene_tracks`). Once the decode
is over, each shot's lens is estimated from its pairs' tracks, and where it bends straight lines
the shot's pairs are measured again with the bending taken out (:func:`straighten`).
"""

from __future__ import annotations

import math
import os
from bisect import bisect_right
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.observer.geometry import (
    LensFit,
    LensOptions,
    PairMotion,
    SceneTracks,
    estimate_lens,
    estimate_pair,
    explained_motion,
    intrinsics,
    is_local,
    scene_tracks,
    undistort,
)
from camreasoner.video.decode import VideoInfo
from camreasoner.video.dissolves import Dissolve
from camreasoner.video.reader import Frame, VideoReader, check_fps, prefetch
from camreasoner.video.shots import DEFAULT_MIN_SHOT, DEFAULT_THRESHOLD, Shot, ShotDetector

CUT_DISTANCE = 0.5
# Seconds between the two frames of a measured pair: the observer's default sampling step (4 fps),
# at which its calibration was fitted (per-pair noise, the parallax test's pixel thresholds).
PAIR_STEP_S = 0.25


def pair_spacing(sample_fps: float | None, stream_fps: float) -> int:
    """Sampling steps between the two frames of a pair: ``PAIR_STEP_S`` at ``sample_fps`` (None or 0:
    the stream's rate), at least 1 (a slower sampling pairs consecutive frames)."""
    rate = sample_fps or stream_fps
    return max(1, math.floor(PAIR_STEP_S * rate + 0.5)) if rate > 0 else 1


@dataclass
class ObserverOptions:
    """Sampling and analysis settings.

    ``fps``: sampled frames per second (0: every decoded frame), independent of the clip's length;
    ``max_frames``: stop after this many sampled frames (truncates the span; None: the whole span);
    ``max_side``: longer side of analysed frames in px; ``shots``: detect shot boundaries
    (PySceneDetect's AdaptiveDetector on every decoded frame, ``min_shot`` seconds,
    ``shot_threshold``; fades through black or white and dissolves too) and never add motion across them,
    nor measure a pair that touches a dissolve's blended frames; off: the span is one shot;
    ``dissolves``: look for dissolves too (:mod:`camreasoner.video.dissolves`); ``lens``:
    estimate a wide lens's distortion per shot and take it out of the tracks
    (:func:`~camreasoner.observer.geometry.estimate_lens`).
    """

    fps: float = 4.0
    max_frames: int | None = None
    start: float | None = None
    end: float | None = None
    max_side: int = 320
    max_points: int = 120
    shots: bool = True
    min_shot: float = DEFAULT_MIN_SHOT
    shot_threshold: float = DEFAULT_THRESHOLD
    dissolves: bool = True
    lens: bool = True


@dataclass
class TrackedPair:
    """Two sampled frames ``PAIR_STEP_S`` apart (consecutive at 4 fps): times, source frame numbers,
    the measured motion, whether it lies across a cut (then ``motion`` is empty), the index of the
    shot holding both frames (-1: they lie in different shots, and the pair counts in none) and the
    ``chain`` of pairs it belongs to (see :func:`pair_spacing`); ``tracks``: its scene tracks, kept
    until the shot's lens is estimated."""

    t0: float
    t1: float
    n0: int
    n1: int
    motion: PairMotion
    cut: bool = False
    shot: int = -1
    chain: int = 0
    tracks: SceneTracks | None = field(default=None, repr=False)

    def rates(self) -> dict[str, Any]:
        """Per-second rates: pan/tilt/roll in deg/s, zoom in %/s, translation (x right, y down,
        z forward) in % of the frame width per second; ``valid`` False for an untracked or cut pair;
        ``conflict``: no motion layer dominates; ``local``: the camera layer's tracks reach less
        than ``ClipOptions.local_extent`` of the frame (the motion may be a subject's)."""
        pm = self.motion
        dt = max(self.t1 - self.t0, 1e-6)
        valid = bool(pm.valid) and not self.cut
        return {"t0": round(self.t0, 4), "t1": round(self.t1, 4),
                "pan": math.degrees(pm.pan) / dt, "tilt": math.degrees(pm.tilt) / dt,
                "roll": math.degrees(pm.roll) / dt, "zoom": 100.0 * pm.log_zoom / dt,
                "translation": [100.0 * c / dt for c in pm.translation], "valid": valid,
                "conflict": bool(pm.conflict), "local": is_local(pm)}


@dataclass
class Track:
    """What one decode measured: the sampled frames (source number, time), the pairs, the shots,
    each shot's lens (see :func:`straighten`) and the dissolves between shots."""

    frames: list[tuple[int, float]]
    pairs: list[TrackedPair]
    shots: list[Shot]
    size: tuple[int, int]
    info: VideoInfo
    warnings: list[str] = field(default_factory=list)
    damage: str | None = None
    truncated: bool = False
    histogram_cuts: int = 0
    sample_fps: float | None = None
    lens: list[LensFit] = field(default_factory=list)
    dissolves: list[Dissolve] = field(default_factory=list)

    def shot_of(self, number: int) -> int:
        """The index of the shot holding source frame ``number``."""
        starts = [shot.start_frame for shot in self.shots]
        return max(0, bisect_right(starts, number) - 1)

    def by_shot(self) -> tuple[list[list[TrackedPair]], list[list[float]]]:
        """Per shot: its pairs and the times of its sampled frames."""
        pairs: list[list[TrackedPair]] = [[] for _ in self.shots]
        times: list[list[float]] = [[] for _ in self.shots]
        for pair in self.pairs:
            if pair.shot >= 0:
                pairs[pair.shot].append(pair)
        starts = [shot.start_frame for shot in self.shots]
        for number, t in self.frames:
            times[max(0, bisect_right(starts, number) - 1)].append(t)
        return pairs, times


def _histogram(img: np.ndarray) -> np.ndarray:
    hist = cv2.calcHist([img], [0], None, [32], [0, 256])
    return cv2.normalize(hist, hist).astype(np.float32)


def _end_time(reader: VideoReader, options: ObserverOptions) -> float | None:
    """Where the span's last shot ends: the declared duration when the whole stream was read."""
    info = reader.info
    assert info is not None and reader.last_time is not None
    whole = options.end is None and not reader.truncated and not reader.warnings
    if whole and info.duration is not None and info.duration >= reader.last_time:
        return info.duration
    return reader.last_time + 1.0 / info.fps


@contextmanager
def one_opencv_thread() -> Iterator[None]:
    """Run OpenCV on the calling thread alone for the duration (restored after): the tracking already
    runs beside the decoding threads, and OpenCV's own workers there only add CPU time. The setting
    is process-wide (``camreasoner label`` runs its analyses in processes, not threads)."""
    threads = cv2.getNumThreads()
    if threads == 1:  # already (label's worker processes): nothing to change or restore
        yield
        return
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        cv2.setNumThreads(threads)


def track_video(path: str | os.PathLike[str], options: ObserverOptions) -> Track:
    """Stream the span once: sampled frames tracked pair by pair, shots from every decoded frame."""
    check_fps(options.fps)
    reader = VideoReader(path, fps=options.fps, max_frames=options.max_frames, start=options.start,
                         end=options.end, max_side=options.max_side)
    with closing(reader), one_opencv_thread():
        return _track(reader, path, options)


def _track_pairs(sampled: Iterable[Frame], detector: ShotDetector | None, options: ObserverOptions,
                 spacing: int = 1) -> tuple[list[TrackedPair], list[tuple[int, float]], tuple[int, int], int]:
    """Track every pair of sampled frames ``spacing`` samples apart (the detector runs over its
    queue between pairs): the pairs, the frames' (number, time), the analysis size and the
    histogram cuts. A span of ``spacing`` frames or fewer gets one pair, its first and last frame."""
    frames: list[tuple[int, float]] = []
    pairs: list[TrackedPair] = []
    recent: deque[tuple[Frame, np.ndarray]] = deque(maxlen=spacing)
    size = (0, 0)
    for k, frame in enumerate(sampled):
        hist = _histogram(frame.image)
        if k == 0:
            size = (frame.image.shape[1], frame.image.shape[0])
        if len(recent) == spacing:
            _measure(pairs, *recent[0], frame, hist, options, chain=k % spacing)
        recent.append((frame, hist))
        frames.append((frame.number, frame.time))
        if detector is not None:
            detector.detect()
    if not pairs and len(frames) >= 2:
        first, last = recent[0], recent[-1]
        _measure(pairs, *first, *last, options, chain=0)
    return pairs, frames, size, cut_count(pairs)


def cut_count(pairs: Iterable[TrackedPair]) -> int:
    """How many cuts the pairs marked ``cut`` lie across: each is straddled by one pair of every
    chain, so the most cut pairs any one chain holds."""
    per_chain = Counter(p.chain for p in pairs if p.cut)
    return max(per_chain.values(), default=0)


def _measure(pairs: list[TrackedPair], prev: Frame, prev_hist: np.ndarray, frame: Frame, hist: np.ndarray,
             options: ObserverOptions, chain: int) -> None:
    """Append the pair ``prev -> frame`` to ``pairs``: measured, or marked a cut when the grey-level
    histograms of its frames differ by more than ``CUT_DISTANCE``."""
    dt = frame.time - prev.time
    if cv2.compareHist(prev_hist, hist, cv2.HISTCMP_BHATTACHARYYA) > CUT_DISTANCE:
        # a shot change, not camera motion: the pair is not measured
        pairs.append(TrackedPair(prev.time, frame.time, prev.number, frame.number,
                                 PairMotion(dt=dt, n_tracks=0), cut=True, chain=chain))
        return
    scene = scene_tracks(prev.image, frame.image, options.max_points)
    pairs.append(TrackedPair(prev.time, frame.time, prev.number, frame.number, _motion(scene, dt), chain=chain,
                             tracks=scene if options.lens else None))


def _motion(scene: SceneTracks, dt: float, coefficient: float = 0.0) -> PairMotion:
    """The camera motion of a pair's scene tracks, the lens's ``coefficient`` taken out of them first."""
    p0, p1 = undistort(scene.p0, scene.size, coefficient), undistort(scene.p1, scene.size, coefficient)
    motion = estimate_pair(p0, p1, scene.size, dt=dt, K=intrinsics(*scene.size))
    motion.overlay = scene.overlay
    return motion


def _looks_bent(motion: PairMotion, options: LensOptions) -> bool:
    """Whether a pair shows what a lens's bend does: parallax, or a homography whose rotation and
    zoom leave most of a clear motion unexplained (see :class:`~.geometry.LensOptions`)."""
    if motion.model != "homography":
        return motion.model == "essential"
    moving = motion.flow_px >= options.min_flow * math.hypot(*motion.size)
    return moving and explained_motion(motion) < options.min_explained * motion.flow_px


def straighten(track: Track) -> None:
    """Estimate the lens of each shot some of whose pairs look bent from its pairs' tracks
    (:func:`~.geometry.estimate_lens`); where a distortion is found, measure the shot's pairs again
    with it taken out. Fills ``track.lens`` and drops the tracks the pairs kept."""
    options = LensOptions()
    by_shot: list[list[tuple[TrackedPair, SceneTracks]]] = [[] for _ in track.shots]
    for p in track.pairs:
        if p.tracks is not None and p.shot >= 0:
            by_shot[p.shot].append((p, p.tracks))
        p.tracks = None
    track.lens = []
    for own in by_shot:
        fit = LensFit()
        if sum(_looks_bent(p.motion, options) for p, _ in own) >= options.bent_pairs:
            fit = estimate_lens([(scene.p0, scene.p1, scene.size) for _, scene in own], options)
        track.lens.append(fit)
        if fit.coefficient:
            for p, scene in own:
                p.motion = _motion(scene, p.motion.dt, fit.coefficient)


def _track(reader: VideoReader, path: str | os.PathLike[str], options: ObserverOptions) -> Track:
    info = reader.info
    assert info is not None
    detector = (ShotDetector(info.fps, options.min_shot, options.shot_threshold, find_dissolves=options.dissolves)
                if options.shots else None)
    if detector is not None:
        reader.on_decoded = detector.feed
    spacing = pair_spacing(options.fps, info.fps)
    sampled = prefetch(reader)
    with closing(sampled):  # on an error the decoding thread is stopped and joined here, not at collection
        pairs, frames, size, hist_cuts = _track_pairs(sampled, detector, options, spacing)
    if len(frames) < 2:
        detail = f"; {reader.damage}" if reader.damage else ""
        n = len(frames)
        past = ""
        if options.start and info.duration is not None and options.start >= info.duration:
            past = f" (--start {options.start:g} s is at or after the stream's end, {info.duration:.2f} s)"
        raise CamReasonerError(
            f"{path}: {n} frame{'s' if n != 1 else ''} decoded in the chosen span{past}; "
            f"need at least 2 to measure camera motion{detail.replace(f'{path}: ', '')}"
        )
    end = _end_time(reader, options)
    dissolves: list[Dissolve] = []
    if detector is not None and detector.frames:
        shots = detector.shots(end)
        dissolves = detector.dissolves()
    else:
        first = frames[0]
        shots = [Shot(round(first[1], 4), round(end or frames[-1][1], 4), first[0], reader.last_number + 1)]
    track = Track(frames, pairs, shots, size, info, warnings=reader.warnings, damage=reader.damage,
                  truncated=reader.truncated, histogram_cuts=hist_cuts, sample_fps=options.fps,
                  dissolves=dissolves)
    for pair in pairs:
        first, second = track.shot_of(pair.n0), track.shot_of(pair.n1)
        blended = any(pair.n0 < d.last and pair.n1 > d.first for d in dissolves)  # touches a dissolve's blends
        if first == second and not blended:
            pair.shot = first
        else:
            pair.cut = True
            pair.motion = PairMotion(dt=pair.motion.dt, n_tracks=0)
    straighten(track)  # a pair across a cut (shot -1) gives its tracks to no shot
    return track
