"""Open-Sora's camera-motion tagger, re-implemented from its published algorithm (a benchmark baseline).

Open-Sora's data pipeline (hpcaitech/Open-Sora, ``tools/caption/camera_motion_detect.py``, after
antiboredom/camera-motion-detector) tags a clip as follows, and so does this module:

1. Grey frames at the video's own size (no resizing). Dense Farneback flow (OpenCV; pyramid scale
   0.5, 3 levels, window 15, 3 iterations, poly_n 5, poly_sigma 1.2) from the FIRST frame to frame
   15, 30, 45, ... (the reference frame never moves on).
2. Per sample: median flow magnitude below 1 px -> "static"; else the share of pixels whose flow
   carries them at least as far from the image centre as they were (``>=``) below 0.4 -> "zoom out",
   above 0.6 -> "zoom in"; else the median flow angle (OpenCV's cartToPolar in degrees, 0..360,
   image y down, so 90 means the content moves down) picks "pan left" [315, 45), "tilt up" [45, 135),
   "pan right" [135, 225), "tilt down" [225, 315). The median is taken over raw angles, so content
   moving right (angles near 0 and near 360) can land anywhere: that is the published behaviour.
3. Clip: the most common sample type if it covers more than half of the samples; otherwise
   "unknown" when a sample was static, "pan/tilt" when none was a zoom, else "dynamic".

Their words name image motion the way conventions.md does: flow to the right (0 degrees) is content
sliding right, which is ``Pan_Left``; flow down (90) is content sliding down, ``Tilt_Up``; pixels
moving away from the centre are ``Zoom_In``. So "pan left" -> Pan_Left, "pan right" -> Pan_Right,
"tilt up" -> Tilt_Up, "tilt down" -> Tilt_Down, "zoom in" -> Zoom_In, "zoom out" -> Zoom_Out,
"static" -> Static. "unknown", "pan/tilt" and "dynamic" name no primitive: every answer is No. The
tagger never says Move_* or Roll_*. A primitive's score is the share of samples of its type (for AP).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.video.decode import open_video, probe, timed_frames

TO_PRIMITIVE = {
    "static": "Static",
    "pan left": "Pan_Left",
    "pan right": "Pan_Right",
    "tilt up": "Tilt_Up",
    "tilt down": "Tilt_Down",
    "zoom in": "Zoom_In",
    "zoom out": "Zoom_Out",
}


@dataclass(frozen=True)
class TaggerOptions:
    """The published settings."""

    frame_interval: int = 15
    tau_static: float = 1.0  # px, median flow magnitude
    tau_zoom: tuple[float, float] = (0.4, 0.6)  # share of pixels moving away from the centre
    farneback: tuple = (0.5, 3, 15, 3, 5, 1.2, 0)


@dataclass
class Tagging:
    """A clip's tag, its per-sample types, and the per-primitive decisions and scores."""

    label: str
    samples: list[str]
    primitives: dict[str, bool] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)


def sample_type(flow: np.ndarray, opts: TaggerOptions) -> str:
    """The type of one first-frame-to-sample flow field (H, W, 2)."""
    mag, ang = cv2.cartToPolar(flow[..., 0], flow[..., 1], angleInDegrees=True)
    if np.median(mag) < opts.tau_static:
        return "static"
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    before = np.hypot(xs - w / 2, ys - h / 2)
    after = np.hypot(xs + flow[..., 0] - w / 2, ys + flow[..., 1] - h / 2)
    away = float(np.count_nonzero(after >= before)) / after.size
    if away < opts.tau_zoom[0]:
        return "zoom out"
    if away > opts.tau_zoom[1]:
        return "zoom in"
    a = float(np.median(ang))
    if a < 45 or a >= 315:
        return "pan left"
    if a < 135:
        return "tilt up"
    if a < 225:
        return "pan right"
    return "tilt down"


def clip_type(samples: list[str]) -> str:
    """The clip's tag from its sample types (majority over half, else unknown / pan/tilt / dynamic)."""
    counts = Counter(samples)
    if samples:
        best, n = counts.most_common(1)[0]
        if n > len(samples) / 2:
            return best
    if "static" in counts:
        return "unknown"
    if "zoom in" not in counts and "zoom out" not in counts:
        return "pan/tilt"
    return "dynamic"


def grey_frames(path: str | os.PathLike[str], start: float | None = None, end: float | None = None,
                every: int = 15) -> list[np.ndarray]:  # fmt: skip
    """Grey frames 0, every, 2*every, ... of the video (or of its [start, end) seconds), full size."""
    fps = probe(path).fps  # dates frames whose packets carry no timestamp
    container, stream = open_video(path)
    out, k = [], 0
    try:
        for frame, t in timed_frames(container, stream, fps, [], str(path)):
            if start is not None and t < start - 1e-6:
                continue
            if end is not None and t >= end - 1e-6:
                break
            if k % every == 0:
                out.append(frame.to_ndarray(format="gray"))
            k += 1
    finally:
        container.close()
    return out


def tag(path: str | os.PathLike[str], start: float | None = None, end: float | None = None,
        opts: TaggerOptions | None = None) -> Tagging:  # fmt: skip
    """Tag a clip: its label, sample types, per-primitive decisions and vote-share scores."""
    opts = opts or TaggerOptions()
    frames = grey_frames(path, start, end, opts.frame_interval)
    first = frames[0]
    samples = [sample_type(cv2.calcOpticalFlowFarneback(first, f, None, *opts.farneback), opts)
               for f in frames[1:]]  # fmt: skip
    label = clip_type(samples)
    chosen = TO_PRIMITIVE.get(label)
    decisions = {p: p == chosen for p in PRIMITIVES}
    votes = Counter(TO_PRIMITIVE[s] for s in samples)
    scores = {p: votes[p] / len(samples) if samples else 0.0 for p in PRIMITIVES}
    return Tagging(label, samples, decisions, scores)


def tag_video(path: str | os.PathLike[str]) -> str:
    """Open-Sora's tag of a whole video: "static", "pan left", ..., "unknown", "pan/tilt" or "dynamic"."""
    return tag(path).label


if __name__ == "__main__":
    import sys

    for p in sys.argv[1:]:
        t = tag(p)
        print(f"{p}: {t.label}  samples {t.samples}")
