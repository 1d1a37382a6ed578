"""The geometric observer: video -> tracked points -> per-pair motion -> clip cues -> calibrated
scores -> decisions -> O-T-A text. CPU only (OpenCV, NumPy, PyAV); never imports torch.

    reading = analyze_video("clip.mp4", ObserverOptions(fps=6))
    reading.primitives["Pan_Left"], reading.scores["Pan_Left"], reading.observation
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import format_ota
from camreasoner.core.taxonomy import CONFUSABLE_PAIRS, OPPOSITES, PRIMITIVES, answer_string
from camreasoner.core.types import BackendResponse
from camreasoner.observer.geometry import (
    ClipCues,
    PairMotion,
    estimate_pair,
    integrate_pairs,
    intrinsics,
    track_points,
)
from camreasoner.qa.question_map import OTHERS, conditions_hold, map_question, option_probabilities
from camreasoner.video.reader import VideoReader, prefetch

CALIBRATION_FILE = "observer_calibration.json"

# primitive -> (cue, sign): the signed cue whose size says Yes. Static uses the motion energy.
FEATURES: dict[str, tuple[str, float]] = {
    "Static": ("energy", 1.0),
    "Move_In": ("dolly", 1.0),
    "Move_Out": ("dolly", -1.0),
    "Move_Left": ("truck", -1.0),
    "Move_Right": ("truck", 1.0),
    "Move_Up": ("pedestal", 1.0),
    "Move_Down": ("pedestal", -1.0),
    "Pan_Left": ("pan_deg", -1.0),
    "Pan_Right": ("pan_deg", 1.0),
    "Tilt_Up": ("tilt_deg", 1.0),
    "Tilt_Down": ("tilt_deg", -1.0),
    "Roll_Clockwise": ("roll_deg", 1.0),
    "Roll_Counterclockwise": ("roll_deg", -1.0),
    "Zoom_In": ("zoom_pct", 1.0),
    "Zoom_Out": ("zoom_pct", -1.0),
}


@dataclass
class ObserverOptions:
    """Sampling and analysis settings. ``max_side``: longer side of analysed frames in px."""

    fps: float = 4.0
    max_frames: int | None = 64
    start: float | None = None
    end: float | None = None
    max_side: int = 320
    max_points: int = 120


@dataclass
class Reading:
    """One clip's reading: decisions, calibrated scores, the measurements and the O-T-A text."""

    video: str
    primitives: dict[str, bool]
    scores: dict[str, float]
    measurements: dict[str, Any]
    observation: str
    think: str
    answer: str
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON object ``camreasoner analyze --json`` prints (warnings ride in measurements)."""
        return {
            "video": self.video,
            "primitives": dict(self.primitives),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "measurements": {**self.measurements, "warnings": list(self.warnings)},
            "observation": self.observation,
            "think": self.think,
            "answer": self.answer,
        }


# Jitter below this (share of the width per pair, about 0.15 px at 320 px) is tracking noise (waving
# leaves, compression), not a shaking camera.
SHAKE_FLOOR = 0.0005


def energy(cues: ClipCues) -> float:
    """Motion energy for the Static decision: median background speed (share of width per second)
    plus shake above the tracking noise, in percent."""
    return 100.0 * (cues.motion + 5.0 * max(0.0, cues.shake - SHAKE_FLOOR))


def feature_value(primitive: str, cues: ClipCues) -> float:
    """The signed cue behind ``primitive`` (larger means more Yes; Static is the motion energy)."""
    name, sign = FEATURES[primitive]
    if name == "energy":
        return energy(cues)
    value = getattr(cues, name)
    if name in ("truck", "pedestal", "dolly"):
        value *= 100.0  # percent of the frame
    return sign * value


# primitive -> context cues that tell it from its look-alike (magnitudes, asinh-compressed).
CONTEXT: dict[str, tuple[str, ...]] = {
    "Move_In": ("parallax", "zoom", "truck", "pedestal", "dolly_agree", "parallax_ratio"),
    "Move_Out": ("parallax", "zoom", "truck", "pedestal", "dolly_agree", "parallax_ratio"),
    "Zoom_In": ("dolly", "parallax"), "Zoom_Out": ("dolly", "parallax"),
    "Move_Left": ("pan", "parallax", "dolly", "truck_agree", "parallax_ratio"),
    "Move_Right": ("pan", "parallax", "dolly", "truck_agree", "parallax_ratio"),
    "Pan_Left": ("truck", "parallax"), "Pan_Right": ("truck", "parallax"),
    "Move_Up": ("tilt", "parallax", "dolly", "pedestal_agree", "parallax_ratio"),
    "Move_Down": ("tilt", "parallax", "dolly", "pedestal_agree", "parallax_ratio"),
    "Tilt_Up": ("pedestal", "parallax"), "Tilt_Down": ("pedestal", "parallax"),
}


def context_values(primitive: str, cues: ClipCues) -> list[float]:
    """The context cues of ``primitive`` (see CONTEXT): |zoom| in %, |pan|/|tilt| in degrees,
    |truck|/|pedestal|/|dolly| in % of the frame, all asinh-compressed; the parallax share as is."""
    out = []
    for name in CONTEXT.get(primitive, ()):
        if name == "parallax":
            out.append(cues.parallax_share)
        elif name == "parallax_ratio":
            out.append(math.asinh(cues.parallax_ratio))
        elif name.endswith("_agree"):
            out.append(getattr(cues, name))
        elif name in ("zoom", "pan", "tilt"):
            out.append(math.asinh(abs(getattr(cues, f"{name}_pct" if name == "zoom" else f"{name}_deg"))))
        else:
            out.append(math.asinh(100.0 * abs(getattr(cues, name))))
    return out


CALIBRATION_VERSION = 1


def check_calibration(data: Any, source: str) -> dict[str, dict[str, Any]]:
    """The ``primitives`` table of a calibration document, after checking its schema: the
    ``version``, all 15 primitives, a positive ``unit``, numeric ``a``/``b`` and one ``context``
    coefficient per context cue. Raises one-line ``CamReasonerError`` naming ``source``."""
    def bad(problem: str) -> CamReasonerError:
        return CamReasonerError(f"{source}: bad observer calibration: {problem}")

    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if not isinstance(data, dict):
        raise bad("top level is not an object")
    if data.get("version") != CALIBRATION_VERSION:
        raise bad(f"version {data.get('version')!r}, expected {CALIBRATION_VERSION}")
    table = data.get("primitives")
    if not isinstance(table, dict):
        raise bad("no 'primitives' object")
    missing = [p for p in PRIMITIVES if p not in table]
    if missing:
        raise bad(f"missing primitives {', '.join(missing)}")
    for p in PRIMITIVES:
        params = table[p]
        if not isinstance(params, dict):
            raise bad(f"{p} is not an object")
        if not number(params.get("unit")) or params["unit"] <= 0:
            raise bad(f"{p}.unit must be a positive number")
        for key in ("a", "b"):
            if not number(params.get(key)):
                raise bad(f"{p}.{key} must be a number")
        context = params.get("context", [])
        want = len(CONTEXT.get(p, ()))
        if not isinstance(context, list) or len(context) != want or not all(number(c) for c in context):
            raise bad(f"{p}.context must be a list of {want} numbers")
    return table


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> dict[str, dict[str, float]]:
    """Per primitive ``{"unit", "a", "b", "context": [c1, ...]}``:
    score = sigmoid(a * asinh(value / unit) + b + sum(c_k * context_k)); schema checked on load."""
    if path is None:
        path = str(Path(__file__).parents[1] / "data" / CALIBRATION_FILE)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CamReasonerError(f"{path}: cannot read observer calibration: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CamReasonerError(f"{path}: bad observer calibration: not JSON ({exc})") from None
    return check_calibration(data, path)


def calibrated_score(value: float, params: dict, context: list[float] | None = None) -> float:
    """Map a cue value (and its context cues) to a probability of Yes with a fitted logistic map."""
    z = params["a"] * math.asinh(value / params["unit"]) + params["b"]
    for coef, x in zip(params.get("context", []), context or [], strict=False):
        z += coef * x
    return float(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))))


def score_cues(cues: ClipCues, calibration: dict[str, dict] | None = None) -> dict[str, float]:
    """Calibrated probability of Yes for each of the 15 primitives."""
    cal = calibration or load_calibration()
    return {p: calibrated_score(feature_value(p, cues), cal[p], context_values(p, cues)) for p in PRIMITIVES}


def decide(scores: dict[str, float], parallax_share: float | None = None) -> dict[str, bool]:
    """Decisions from scores: Yes at >= 0.5, the stronger of two opposites, Static alone.

    With ``parallax_share`` (the share of frame pairs that showed parallax), a rotation or zoom and
    its translation look-alike in the same direction (Pan_Left / Move_Left, Zoom_In / Move_In, ...)
    are not both kept: parallax keeps the translation, its absence the rotation or zoom.
    """
    out = {p: scores[p] >= 0.5 for p in PRIMITIVES}
    for p, q in OPPOSITES.items():
        if out[p] and out[q]:
            out[p if scores[p] < scores[q] else q] = False
    if parallax_share is not None:
        for rotation, translation in CONFUSABLE_PAIRS:
            if out[rotation] and out[translation]:
                out[rotation if parallax_share >= 0.5 else translation] = False
    moving = any(out[p] for p in PRIMITIVES if p != "Static")
    out["Static"] = out["Static"] and not moving
    return out


CUT_DISTANCE = 0.5


def _histogram(img: np.ndarray) -> np.ndarray:
    hist = cv2.calcHist([img], [0], None, [32], [0, 256])
    return cv2.normalize(hist, hist).astype(np.float32)


def measure_video(path: str | os.PathLike[str], options: ObserverOptions) -> tuple[ClipCues, dict[str, Any], list[str]]:
    """Stream the clip, track points between sampled frames and integrate the motion."""
    reader = VideoReader(path, fps=options.fps, max_frames=options.max_frames, start=options.start,
                         end=options.end, max_side=options.max_side)
    prev = None
    prev_hist = None
    cuts = 0
    pairs = []
    frames = 0
    first_t = last_t = 0.0
    size = (0, 0)
    for frame in prefetch(reader):
        img = frame.image
        if prev is None:
            size = (img.shape[1], img.shape[0])
            first_t = frame.time
            prev_hist = _histogram(img)
        else:
            hist = _histogram(img)
            if prev_hist is not None and cv2.compareHist(prev_hist, hist, cv2.HISTCMP_BHATTACHARYYA) > CUT_DISTANCE:
                cuts += 1  # a shot change, not camera motion: skip the pair
                pairs.append(PairMotion(dt=frame.time - prev.time, n_tracks=0))
            else:
                p0, p1 = track_points(prev.image, img, options.max_points)
                pairs.append(estimate_pair(p0, p1, size, dt=frame.time - prev.time, K=intrinsics(*size)))
            prev_hist = hist
        prev = frame
        last_t = frame.time
        frames += 1
    if frames < 2:
        detail = f"; {reader.warnings[0]}" if reader.warnings else ""
        raise CamReasonerError(
            f"{path}: {frames} frame{'s' if frames != 1 else ''} decoded in the chosen span; "
            f"need at least 2 to measure camera motion{detail.replace(f'{path}: ', '')}"
        )
    K = intrinsics(*size)
    cues = integrate_pairs(pairs, size, float(K[0, 0]))
    info = reader.info
    assert info is not None
    valid = [p for p in pairs if p.valid]
    measurements: dict[str, Any] = {
        "frames": frames,
        "span_s": round(last_t - first_t, 3),
        "sample_fps": options.fps,
        "analysis_size": list(size),
        "source": {"width": info.width, "height": info.height, "fps": round(info.fps, 3),
                   "duration_s": None if info.duration is None else round(info.duration, 3),
                   "codec": info.codec, "rotation": info.rotation},
        "tracks_per_pair": int(np.median([p.n_tracks for p in pairs])) if pairs else 0,
        "unreliable_pairs": len(pairs) - len(valid) - cuts,
        "cuts": cuts,
        "cues": cues.to_dict(),
    }
    if len(valid) < max(1, len(pairs) // 2):
        reader.warnings.append(
            f"{path}: only {len(valid)} of {len(pairs)} frame pairs had enough texture to track; "
            "the reading is unreliable"
        )
    return cues, measurements, reader.warnings


def reading_from_cues(video: str, cues: ClipCues, measurements: dict[str, Any], warnings: list[str],
                      calibration: dict[str, dict[str, float]] | None = None) -> Reading:
    """Scores, decisions and O-T-A text from measured cues."""
    from camreasoner.observer.text import observation_text, think_text

    scores = score_cues(cues, calibration)
    primitives = decide(scores, cues.parallax_share)
    moving_share = max(0.0, 1.0 - cues.rigid_share)
    obs = observation_text(cues, measurements.get("frames", 0), measurements.get("span_s", 0.0), moving_share,
                           primitives)
    if measurements.get("cuts"):
        obs += f" {measurements['cuts']} shot cut(s) were detected and left out of the motion."
    if warnings:
        obs += " Note: " + " ".join(w.split(": ", 1)[-1] for w in warnings)
    return Reading(
        video=video,
        primitives=primitives,
        scores=scores,
        measurements=measurements,
        observation=obs,
        think=think_text(primitives, scores, cues),
        answer=answer_string(primitives),
        warnings=list(warnings),
    )


def analyze_video(path: str | os.PathLike[str], options: ObserverOptions | None = None) -> Reading:
    """Read the camera motion of one video (see module docstring)."""
    options = options or ObserverOptions()
    cues, measurements, warnings = measure_video(path, options)
    return reading_from_cues(str(path), cues, measurements, warnings)


def describe_conditions(cond: dict[str, bool]) -> str:
    """``{"Pan_Left": True, "Move_Left": False}`` -> ``"Pan_Left, not Move_Left"``."""
    yes = [k if k != OTHERS else "another motion" for k, v in cond.items() if v]
    no = [k for k, v in cond.items() if not v and k != OTHERS]
    if len(no) > 3:
        return ", ".join(yes) + (" and " if yes else "") + "no other motion" if yes else "none of " + ", ".join(no)
    return ", ".join(yes + [f"not {k}" for k in no])


def answer_question(reading: Reading, question: str, options: list[str] | tuple[str, ...] | None = None
                    ) -> BackendResponse:
    """Answer a CameraBench-style question from a reading: O-T-A text, letter and P(option)."""
    from camreasoner.observer.text import question_think

    mapping = map_question(question, options)
    s = reading.scores
    if mapping.binary:
        yes = [letter for letter, prims in mapping.options.items() if prims][0]
        no = [letter for letter, prims in mapping.options.items() if not prims][0]
        asked = sorted(mapping.options[yes])
        p_no = 1.0
        for p in asked:
            p_no *= 1.0 - s[p]
        p_yes = 1.0 - p_no
        verdict = any(reading.primitives[p] for p in asked)
        letter = yes if verdict else no
        probs = {yes: p_yes, no: 1.0 - p_yes}
        think = question_think(reading.think, " or ".join(asked), verdict, p_yes)
    else:
        probs = option_probabilities(mapping, s)
        # The option the decisions make right; the most probable one when none or several do.
        held = [k for k, cond in mapping.conditions.items()
                if conditions_hold(cond, reading.primitives, mapping.target)]
        letter = held[0] if len(held) == 1 else max(probs, key=probs.__getitem__)
        think = (f"{reading.think} Of the options, {letter} ({describe_conditions(mapping.conditions[letter])}) "
                 f"agrees best with the measured motion (P = {probs[letter]:.2f}).")
    text = format_ota(reading.observation, think, letter)
    return BackendResponse(text=text, letter=letter, option_probs=probs,
                           meta={"primitives": dict(reading.primitives), "warnings": list(reading.warnings)})
