"""Augmentations that make new clips with exact labels: time reversal, mirroring, temporal crops.

- ``reverse``: frames in reverse order; every family flips (Pan_Left <-> Pan_Right, Zoom_In <->
  Zoom_Out, Move_In <-> Move_Out, …); Static stays.
- ``mirror``: each frame flipped left-right; the camera's left and right swap (pan, truck) and its
  roll turns the other way; tilt, pedestal, dolly and zoom are unchanged.
- ``reverse_mirror``: both of the above.
- ``crop``: a contiguous range of frames (``crops`` different windows per clip). Exact labels need the clip's motion over time, so crops
  are made only for clips whose labels carry the synthetic ``recipe`` (camreasoner synth); the
  labels are recomputed from the recipe's motions over the window with synth's thresholds.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import FAMILIES, OPPOSITES, PRIMITIVES
from camreasoner.formats.labels import ClipLabel

AUGMENTATIONS: tuple[str, ...] = ("reverse", "mirror", "reverse_mirror", "crop")
DEFAULT_AUGMENTATIONS: tuple[str, ...] = ("reverse", "mirror", "crop")

MIRROR_SWAP: dict[str, str] = {
    "Pan_Left": "Pan_Right",
    "Pan_Right": "Pan_Left",
    "Move_Left": "Move_Right",
    "Move_Right": "Move_Left",
    "Roll_Clockwise": "Roll_Counterclockwise",
    "Roll_Counterclockwise": "Roll_Clockwise",
}


def reversed_labels(prims: dict[str, bool | None]) -> dict[str, bool | None]:
    """Labels of the time-reversed clip: every primitive takes its opposite's value."""
    return {p: prims.get(OPPOSITES.get(p, p)) for p in PRIMITIVES}


def mirrored_labels(prims: dict[str, bool | None]) -> dict[str, bool | None]:
    """Labels of the left-right mirrored clip: pan, truck and roll swap; the rest stay."""
    return {p: prims.get(MIRROR_SWAP.get(p, p)) for p in PRIMITIVES}


def crop_labels(recipe: dict[str, Any], s0: float, s1: float) -> dict[str, bool | None]:
    """Exact labels of clip time window [s0, s1] (fractions of the clip) from a synth recipe."""
    from camreasoner.synth.trajectories import CLEAR, FAMILY_OF, NEGLIGIBLE, POSITIVE, Motion

    try:
        motions = [
            Motion(m["primitive"], float(m["magnitude"]), m.get("easing", "linear"), *map(float, m["window"]))
            for m in recipe["motions"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise CamReasonerError(f"recipe has no usable 'motions' ({exc})") from None
    delta = dict.fromkeys(FAMILIES, 0.0)
    changing = False
    for m in motions:
        d = m.value(s1) - m.value(s0)
        delta[FAMILY_OF[m.primitive]] += d
        changing |= abs(d) > 0
    labels: dict[str, bool | None] = {}
    for fam, value in delta.items():
        pos = POSITIVE[fam]
        held, other = (pos, OPPOSITES[pos]) if value >= 0 else (OPPOSITES[pos], pos)
        labels[other] = False
        mag = abs(value)
        labels[held] = True if mag >= CLEAR[fam] else (False if mag < NEGLIGIBLE[fam] else None)
    labels["Static"] = not changing and not recipe.get("shake", False)
    return {p: labels[p] for p in PRIMITIVES}


@dataclass
class AugmentedClip:
    """A new clip: its label (path relative to the video root) and where it came from."""

    label: ClipLabel
    kind: str
    source: str


def read_video(path: str | os.PathLike[str]) -> tuple[list[np.ndarray], Fraction]:
    """Every frame (RGB uint8) and the frame rate; a clear error if the file cannot be decoded."""
    import av

    from camreasoner.video.decode import open_video

    container, stream = open_video(path)  # its own one-line errors: missing, empty, not a video
    try:
        rate = stream.average_rate or stream.guessed_rate or Fraction(25)
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except (av.error.FFmpegError, OSError) as exc:
        raise CamReasonerError(f"{path}: cannot decode video ({exc.__class__.__name__})") from None
    finally:
        container.close()
    if len(frames) < 2:
        raise CamReasonerError(f"{path}: fewer than 2 frames")
    return frames, Fraction(rate)


def write_video(path: str | os.PathLike[str], frames: list[np.ndarray], rate: Fraction) -> None:
    """Encode frames as H.264 MP4 atomically (odd sizes are trimmed by one pixel to be even)."""
    from camreasoner.synth.writer import write_mp4

    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        frames = [f[: h - h % 2, : w - w % 2] for f in frames]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_mp4(path, frames, float(rate))


def cut_shot(label: ClipLabel, video_root: str | os.PathLike[str], out_root: str | os.PathLike[str],
             rel_dir: str) -> ClipLabel | None:
    """A label whose ``start``/``end`` (seconds) cover part of its video (a shot, as ``camreasoner
    label`` writes): that span cut into ``out_root/rel_dir`` and its label (path relative to
    ``out_root``, ``shot_of`` and ``shot_span`` in place of ``start``/``end``). None when the label
    covers its whole video. An existing cut is reused."""
    from camreasoner.video.decode import open_video, probe, seek, timed_frames

    if label.extra.get("start") is None and label.extra.get("end") is None:
        return None
    src = Path(video_root) / label.path
    info = probe(src)
    half = 0.5 / info.fps
    duration = float(info.duration or 0.0)
    t0 = float(label.extra.get("start") or 0.0)
    t1 = float(label.extra["end"]) if label.extra.get("end") is not None else duration
    if t0 <= half and (not duration or t1 >= duration - half):
        return None
    stem = Path(label.path).with_suffix("").as_posix().replace("/", "__")
    rel = f"{rel_dir}/{stem}.{t0:.3f}-{t1:.3f}.mp4"
    dest = Path(out_root) / rel
    if not dest.is_file():
        container, stream = open_video(src)
        warnings: list[str] = []
        frames = []
        try:
            rate = Fraction(stream.average_rate or stream.guessed_rate or Fraction(25))
            if t0 > 0:
                seek(container, stream, t0, info.fps)
            for f, t in timed_frames(container, stream, info.fps, warnings, str(src)):
                if t >= t1 - half:
                    break
                if t >= t0 - half:
                    frames.append(f.to_ndarray(format="rgb24"))
        finally:
            container.close()
        if warnings:
            raise CamReasonerError(warnings[0])
        if len(frames) < 2:
            raise CamReasonerError(f"{src}: the span {t0:.2f}-{t1:.2f} s holds fewer than 2 frames")
        write_video(dest, frames, rate)
    extra = {k: v for k, v in label.extra.items() if k not in ("start", "end")}
    return ClipLabel(rel, label.primitives, {**extra, "shot_of": label.path, "shot_span": [t0, t1]})


def _child(label: ClipLabel, path: str, prims: dict[str, bool | None], kind: str, extra: dict) -> ClipLabel:
    keep = {k: v for k, v in label.extra.items() if k not in ("poses", "intrinsics", "recipe", "n_frames")}
    origin = label.extra.get("augment_of", label.path)
    return ClipLabel(path, prims, {**keep, "augment": kind, "augment_of": origin, **extra})


def crop_window(
    n_frames: int, rng: random.Random, min_share: float = 0.5, max_share: float = 0.8
) -> tuple[int, int]:
    """A random frame range [first, last] covering min_share..max_share of the clip."""
    length = max(2, int(round(n_frames * rng.uniform(min_share, max_share))))
    first = rng.randint(0, n_frames - length)
    return first, first + length - 1


def augment_clip(
    label: ClipLabel,
    video_root: str | os.PathLike[str],
    out_root: str | os.PathLike[str],
    rel_dir: str,
    kinds: tuple[str, ...] = DEFAULT_AUGMENTATIONS,
    seed: int = 0,
    crops: int = 1,
) -> list[AugmentedClip]:
    """Write the augmented versions of one clip under ``out_root/rel_dir`` and return their labels.

    Paths in the returned labels are ``rel_dir/<stem>.<kind>.mp4`` (relative to ``out_root``).
    Files already present are reused (resumable); crops are skipped for clips without a recipe.
    """
    src = Path(video_root) / label.path
    stem = Path(label.path).with_suffix("").as_posix().replace("/", "__")
    plans: list[tuple[str, dict[str, bool | None], dict]] = []
    rng = random.Random(f"{seed}:crop:{label.path}")
    frames: list[np.ndarray] | None = None
    rate = Fraction(0)
    recipe = label.extra.get("recipe")
    if "reverse" in kinds:
        plans.append(("reverse", reversed_labels(label.primitives), {}))
    if "mirror" in kinds:
        plans.append(("mirror", mirrored_labels(label.primitives), {}))
    if "reverse_mirror" in kinds:
        plans.append(("reverse_mirror", mirrored_labels(reversed_labels(label.primitives)), {}))
    windows: dict[str, tuple[int, int]] = {}
    if "crop" in kinds and isinstance(recipe, dict) and label.extra.get("n_frames"):
        n = int(label.extra["n_frames"])
        for c in range(crops):
            window = crop_window(n, rng)
            name = "crop" if c == 0 else f"crop{c + 1}"
            windows[name] = window
            s0, s1 = window[0] / (n - 1), window[1] / (n - 1)
            plans.append((name, crop_labels(recipe, s0, s1), {"crop_frames": list(window)}))
    out: list[AugmentedClip] = []
    for kind, prims, extra in plans:
        rel = f"{rel_dir}/{stem}.{kind}.mp4"
        dest = Path(out_root) / rel
        if not dest.is_file():
            if frames is None:
                frames, rate = read_video(src)
            if kind == "reverse":
                new = frames[::-1]
            elif kind == "mirror":
                new = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
            elif kind == "reverse_mirror":
                new = [np.ascontiguousarray(f[:, ::-1]) for f in frames[::-1]]
            else:
                first, last = windows[kind]
                if last >= len(frames):
                    raise CamReasonerError(
                        f"{src}: has {len(frames)} frames, labels say {label.extra['n_frames']}"
                    )
                new = frames[first : last + 1]
            write_video(dest, new, rate)
        out.append(
            AugmentedClip(_child(label, rel, prims, kind.rstrip("0123456789"), extra), kind, label.path)
        )
    return out
