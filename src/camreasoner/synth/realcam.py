"""Semi-real clips: real footage of a fixed camera seen through a virtual camera (``synth --from-video``).

A virtual camera is a crop window over the source frames, resampled to the output size:

- pan: the window slides sideways by 15-30% of its width (window right = content slides left = Pan_Right);
- tilt: it slides vertically by 15-30% of its height (window down = content slides up = Tilt_Down);
- roll: it turns by 8-15 degrees about its centre (window turning clockwise on screen = content
  turning counter-clockwise = Roll_Clockwise);
- zoom: it shrinks (Zoom_In) or grows (Zoom_Out) by x1.3-1.6 about its centre;
- static: it stays where it is (the fixed camera's own footage, cropped).

Every motion follows a smooth ease-in-out curve over the clip. The people and objects of the footage
keep moving on their own. Labels are exact for these families: the moved primitive is true, every
other primitive false, and the translation look-alike of a pan, tilt or zoom (Move_Left/Right,
Move_Up/Down, Move_In/Out) null, because a crop window shows no parallax to tell them apart. An
untouched window is Static and nothing else. The source must come from a fixed camera: its own
motion would add to the window's and the labels would be wrong.

The data set directory has the layout of ``camreasoner synth`` (camreasoner.synth.output).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import ClipLabel
from camreasoner.synth.dataset import SynthOptions, clip_name
from camreasoner.synth.output import (
    JobResult,
    Source,
    SynthResult,
    assemble,
    check_out_dir,
    finished_result,
    open_stage,
    run_jobs,
    stage_dir,
)
from camreasoner.synth.source_check import source_warning

FORMAT = "camreasoner-synth-realcam"
FORMAT_VERSION = 1
SOURCE_CHECK = "source_check.json"  # in the staging directory: the check's lines, kept for a resume
SOURCE = Source("camreasoner-synth-realcam", "synth-realcam")

# One block of clips: each motion once and two untouched windows, in an order drawn per block.
KINDS: tuple[str | None, ...] = (
    None, None, "Pan_Left", "Pan_Right", "Tilt_Up", "Tilt_Down",
    "Roll_Clockwise", "Roll_Counterclockwise", "Zoom_In", "Zoom_Out",
)  # fmt: skip
LOOK_ALIKES: dict[str, tuple[str, ...]] = {
    "pan": ("Move_Left", "Move_Right"),
    "tilt": ("Move_Up", "Move_Down"),
    "zoom": ("Move_In", "Move_Out"),
    "roll": (),
}
WINDOW_CONVENTION = (
    "per frame [cx, cy, width, height, angle_deg] in source pixels: output pixel p maps to the source at "
    "(cx, cy) + (width / W) R(angle) (p - output centre); angle > 0 turns the window clockwise on screen"
)


@dataclass
class RealcamOptions:
    """Settings of a semi-real data set: output size and rate, and the ranges of the virtual motions."""

    width: int = 320
    height: int = 240
    fps: float = 12.0
    seconds: float = 3.0
    travel: tuple[float, float] = (0.15, 0.30)  # pan / tilt travel, share of the view
    roll_deg: tuple[float, float] = (8.0, 15.0)
    zoom: tuple[float, float] = (1.3, 1.6)
    fill: tuple[float, float] = (0.75, 1.0)  # window size, share of the largest that fits the motion
    crf: int = 20

    @property
    def n_frames(self) -> int:
        """Frames per clip."""
        return int(round(self.seconds * self.fps))

    def validate(self) -> None:
        """Raise CamReasonerError for impossible settings (the messages of ``synth``)."""
        SynthOptions(width=self.width, height=self.height, fps=self.fps, seconds=self.seconds).validate()

    def to_json(self) -> dict[str, Any]:
        """JSON-able settings (part of the manifest's identity)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class VideoSource:
    """One source video: where it is, its size, frame rate and length."""

    path: str
    width: int
    height: int
    fps: float
    duration: float

    @property
    def name(self) -> str:
        """The file name without its suffix."""
        return Path(self.path).stem


def family_of(primitive: str) -> str:
    """'pan', 'tilt', 'roll' or 'zoom' of a virtual-camera primitive."""
    return primitive.split("_")[0].lower()


def realcam_labels(primitive: str | None) -> dict[str, bool | None]:
    """The 15 labels of a clip whose window does ``primitive`` (None: an untouched window)."""
    labels: dict[str, bool | None] = dict.fromkeys(PRIMITIVES, False)
    if primitive is None:
        labels["Static"] = True
        return labels
    labels[primitive] = True
    for p in LOOK_ALIKES[family_of(primitive)]:
        labels[p] = None
    return labels


def ease(s: np.ndarray) -> np.ndarray:
    """Smooth ease-in-out from 0 to 1 (zero speed at both ends)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(s, 0.0, 1.0))


def clip_kind(seed: int, index: int) -> str | None:
    """The primitive of clip ``index`` (None: static); a block of len(KINDS) clips holds each kind once."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index // len(KINDS), 5]))
    return KINDS[int(rng.permutation(len(KINDS))[index % len(KINDS)])]


def window_path(primitive: str | None, magnitude: float, n: int) -> np.ndarray:
    """Per frame (dx, dy, angle_deg, size) of a unit window (height 1): offsets in window heights and
    widths, the angle, and the size relative to the largest window of the clip."""
    e = ease(np.linspace(0.0, 1.0, n))
    path = np.zeros((n, 4))
    path[:, 3] = 1.0
    if primitive is None:
        return path
    sign = 1.0 if primitive in ("Pan_Right", "Tilt_Down", "Roll_Clockwise", "Zoom_In") else -1.0
    fam = family_of(primitive)
    if fam == "pan":
        path[:, 0] = sign * magnitude * (e - 0.5)  # in window widths
    elif fam == "tilt":
        path[:, 1] = sign * magnitude * (e - 0.5)  # in window heights
    elif fam == "roll":
        path[:, 2] = sign * magnitude * e
    else:
        size = magnitude ** (-e)  # zoom in: 1 -> 1 / magnitude
        path[:, 3] = size if sign > 0 else size[::-1]
    return path


def _corners(path: np.ndarray, aspect: float) -> np.ndarray:
    """(frames, 4, 2) corners of the unit windows of ``path`` (height 1, width ``aspect``), centre 0."""
    half = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float) * (aspect / 2, 0.5)
    out = []
    for dx, dy, ang, size in path:
        a = math.radians(ang)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        out.append((half * size) @ rot.T + (dx * aspect, dy))
    return np.array(out)


def place_windows(path: np.ndarray, src: VideoSource, opts: RealcamOptions,
                  rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """Per frame [cx, cy, width, height, angle_deg] in source pixels: the largest windows that keep
    every frame inside the source, scaled by a drawn fill share and put at a drawn position."""
    aspect = opts.width / opts.height
    corners = _corners(path, aspect)
    lo, hi = corners.reshape(-1, 2).min(0), corners.reshape(-1, 2).max(0)
    span = hi - lo
    largest = min((src.width - 1) / span[0], (src.height - 1) / span[1])
    h = largest * float(rng.uniform(*opts.fill))
    # Centre of the whole motion: anywhere that keeps the bounding box inside the source.
    cx = float(rng.uniform(-lo[0] * h, src.width - 1 - hi[0] * h))
    cy = float(rng.uniform(-lo[1] * h, src.height - 1 - hi[1] * h))
    windows = np.empty((len(path), 5))
    windows[:, 0] = cx + path[:, 0] * aspect * h
    windows[:, 1] = cy + path[:, 1] * h
    windows[:, 2] = path[:, 3] * aspect * h
    windows[:, 3] = path[:, 3] * h
    windows[:, 4] = path[:, 2]
    return windows


def window_matrix(window: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """2x3 affine map from output pixels to source pixels of one window (for WARP_INVERSE_MAP)."""
    cx, cy, w, _, ang = window
    s = w / out_size[0]
    a = math.radians(ang)
    m = s * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    pc = np.array([(out_size[0] - 1) / 2, (out_size[1] - 1) / 2])
    return np.hstack([m, (np.array([cx, cy]) - m @ pc)[:, None]])


def render_window(frame: np.ndarray, window: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """The view of ``frame`` (RGB) through ``window``, resampled to ``out_size`` (w, h) without aliasing."""
    s = window[2] / out_size[0]
    if s > 1.0:  # low-pass before shrinking so fine texture does not alias
        frame = cv2.GaussianBlur(frame, (0, 0), 0.5 * math.sqrt(s * s - 1.0))
    return cv2.warpAffine(frame, window_matrix(window, out_size), out_size,
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT101)  # fmt: skip


def probe_source(path: str | os.PathLike[str], seconds: float) -> VideoSource:
    """Check one source video; one-line error naming the file if it is unreadable or too short."""
    from camreasoner.video.decode import probe

    info = probe(path)
    duration = info.duration
    if duration is None or not math.isfinite(duration) or duration <= 0:
        raise CamReasonerError(f"{path}: the video does not say how long it is; cannot place clips in it")
    if duration < seconds + 1.0 / info.fps:
        raise CamReasonerError(f"{path}: {duration:.2f} s long, shorter than the clip length {seconds:g} s")
    # Frames are used as decoded (a rotation flag is not applied), so the window fits their stored size.
    width, height = (info.height, info.width) if info.rotation % 180 else (info.width, info.height)
    return VideoSource(str(Path(path).resolve()), width, height, info.fps, float(duration))


def read_source_frames(src: VideoSource, times: np.ndarray) -> list[np.ndarray]:
    """RGB frames of ``src`` at ``times`` (s): for each, the last frame shown at or before it."""
    from camreasoner.video.decode import open_video, timed_frames

    container, stream = open_video(src.path)
    warnings: list[str] = []
    out: list[np.ndarray] = []
    held, held_rgb, held_t = None, None, -math.inf
    tol = 0.25 / src.fps  # timestamps are rounded; a frame a quarter interval late still counts

    def take() -> None:
        nonlocal held_rgb
        if held_rgb is None:
            held_rgb = held.to_ndarray(format="rgb24")
        out.append(held_rgb)

    try:
        for frame, t in timed_frames(container, stream, src.fps, warnings, src.path):
            while len(out) < len(times) and times[len(out)] < t - tol:
                if held is None:
                    raise CamReasonerError(f"{src.path}: no frame at {times[len(out)]:.2f} s")
                take()
            if len(out) >= len(times):
                break
            held, held_rgb, held_t = frame, None, t
        while held is not None and len(out) < len(times) and times[len(out)] <= held_t + 1.5 / src.fps:
            take()
    finally:
        container.close()
    if len(out) < len(times):
        extra = f" ({warnings[0]})" if warnings else ""
        raise CamReasonerError(f"{src.path}: the video ended before {times[len(out)]:.2f} s{extra}")
    return out


@dataclass
class RealcamClip:
    """One semi-real clip before encoding."""

    index: int
    primitive: str | None
    magnitude: float
    source: VideoSource
    start: float
    windows: np.ndarray
    frames: list[np.ndarray]
    labels: dict[str, bool | None]

    def record_extra(self, seed: int, opts: RealcamOptions) -> dict[str, Any]:
        """The extra keys of this clip's labels line."""
        kind = "static" if self.primitive is None else family_of(self.primitive)
        unit = {"pan": "share of the view width", "tilt": "share of the view height", "roll": "degrees",
                "zoom": "scale factor", "static": ""}[kind]  # fmt: skip
        return {
            "fps": opts.fps,
            "size": [opts.width, opts.height],
            "n_frames": len(self.frames),
            "seed": seed,
            "index": self.index,
            "source": {"path": self.source.path, "name": self.source.name, "start_s": round(self.start, 4),
                       "size": [self.source.width, self.source.height]},  # fmt: skip
            "recipe": {"kind": kind, "primitive": self.primitive, "magnitude": round(self.magnitude, 4),
                       "unit": unit},  # fmt: skip
            "windows": [[round(float(x), 3) for x in w] for w in self.windows],
            "window_convention": WINDOW_CONVENTION,
        }


def magnitude_of(primitive: str | None, opts: RealcamOptions, rng: np.random.Generator) -> float:
    """The drawn size of a motion: travel share, degrees or zoom factor (0 for a static window)."""
    if primitive is None:
        return 0.0
    ranges = {"pan": opts.travel, "tilt": opts.travel, "roll": opts.roll_deg, "zoom": opts.zoom}
    return float(rng.uniform(*ranges[family_of(primitive)]))


def synthesize_realcam_clip(index: int, seed: int, opts: RealcamOptions,
                            sources: list[VideoSource]) -> RealcamClip:  # fmt: skip
    """Render clip ``index`` (no file I/O but reading its source). Deterministic in its arguments."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 6]))
    primitive = clip_kind(seed, index)
    src = sources[index % len(sources)]
    magnitude = magnitude_of(primitive, opts, rng)
    n = opts.n_frames
    length = (n - 1) / opts.fps
    start = float(rng.uniform(0.0, max(src.duration - length - 1.0 / src.fps, 0.0)))
    windows = place_windows(window_path(primitive, magnitude, n), src, opts, rng)
    times = start + np.arange(n) / opts.fps
    frames = read_source_frames(src, times)
    size = (opts.width, opts.height)
    views = [render_window(f, w, size) for f, w in zip(frames, windows, strict=True)]
    return RealcamClip(index, primitive, magnitude, src, start, windows, views, realcam_labels(primitive))


def _run_job(job: tuple[int, int, RealcamOptions, list[VideoSource], str]) -> JobResult:
    """Render, encode and label one clip into the staging directory; errors are returned, not raised."""
    from camreasoner.synth.writer import write_mp4

    index, seed, opts, sources, stage = job
    try:
        clip = synthesize_realcam_clip(index, seed, opts, sources)
        rel = clip_name(seed, index)
        write_mp4(Path(stage) / rel, clip.frames, opts.fps, crf=opts.crf)
        return index, ClipLabel(rel, clip.labels, clip.record_extra(seed, opts)).to_record(), None
    except Exception as exc:  # noqa: BLE001 - a bad clip is recorded and the batch goes on
        return index, None, f"{type(exc).__name__}: {exc}"


def _identity(clips: int, seed: int, opts: RealcamOptions, sources: list[VideoSource]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "clips": clips,
        "seed": seed,
        "settings": opts.to_json(),
        "sources": [{"path": s.path, "bytes": os.path.getsize(s.path)} for s in sources],
    }


def _checked_sources(saved: Path | None, videos: list[VideoSource]) -> list[str | None]:
    """Each source's check line (:func:`.source_check.source_warning`), made before any clip is (a
    read error stops there), or read back from ``saved``, the file an interrupted run left."""
    if saved is not None:
        try:
            lines = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            lines = None
        if isinstance(lines, list) and len(lines) == len(videos):
            return lines
    return [source_warning(v.path) for v in videos]


def generate_realcam_dataset(out_dir: str | os.PathLike[str], sources: list[str | os.PathLike[str]],
                             clips: int, seed: int, *, size: tuple[int, int] = (320, 240),
                             fps: float = 12.0, seconds: float = 3.0, workers: int = 1,
                             progress: bool = True) -> SynthResult:  # fmt: skip
    """Write a semi-real data set from fixed-camera ``sources`` to ``out_dir``. Same seed, same data set.

    Clips take the sources in turn. Raises CamReasonerError (one line) for bad settings, an unusable
    source or an ``out_dir`` that holds anything else; nothing is written then. A source that the
    observer does not read as a fixed camera is named in the result's ``warnings`` and the
    manifest's ``source_warnings`` (:mod:`.source_check`).
    """
    if not sources:
        raise CamReasonerError("--from-video: give at least one video")
    if clips < 1:
        raise CamReasonerError(f"--clips must be at least 1 (got {clips})")
    if workers < 1:
        raise CamReasonerError(f"--workers must be at least 1 (got {workers})")
    opts = RealcamOptions(width=size[0], height=size[1], fps=float(fps), seconds=float(seconds))
    opts.validate()
    videos = [probe_source(p, opts.seconds) for p in sources]
    out = Path(out_dir)
    identity = _identity(clips, seed, opts, videos)
    state = check_out_dir(out, identity)
    if state == "done":
        return finished_result(out)
    checked = _checked_sources(stage_dir(out) / SOURCE_CHECK if state == "resume" else None, videos)
    stage, done = open_stage(out, identity)
    write_json_atomic(stage / SOURCE_CHECK, checked)
    todo = [i for i in range(clips) if i not in done]
    jobs = [(i, seed, opts, videos, str(stage)) for i in todo]
    run_jobs(_run_job, jobs, stage, workers, progress, total=clips, completed=clips - len(todo))
    names = ", ".join(v.name for v in videos)
    extra = {"textures": f"footage: {names}", "window_convention": WINDOW_CONVENTION,
             "source_warnings": [w for w in checked if w]}
    return assemble(out, stage, list(range(clips)), seed, identity, extra, SOURCE, resumed=state == "resume")
