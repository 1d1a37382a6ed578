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

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import format_ota
from camreasoner.core.taxonomy import CONFUSABLE_PAIRS, OPPOSITES, PRIMITIVES, answer_string
from camreasoner.core.types import BackendResponse
from camreasoner.observer.geometry import (
    ClipCues,
    integrate_pairs,
    integrate_windows,
    intrinsics,
    merge_chains,
)
from camreasoner.observer.track import ObserverOptions, Track, TrackedPair, cut_count, track_video
from camreasoner.qa.question_map import OTHERS, conditions_hold, map_question, option_probabilities
from camreasoner.video.shots import Shot

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
class Reading:
    """One clip's reading: decisions, calibrated scores, the measurements and the O-T-A text;
    ``series``: every frame pair's rates; ``windows``: a shot longer than one scoring window has
    each window's span and scores (see :func:`window_scores`); neither is in :meth:`to_json`."""

    video: str
    primitives: dict[str, bool]
    scores: dict[str, float]
    measurements: dict[str, Any]
    observation: str
    think: str
    answer: str
    warnings: list[str] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    shots: list[ShotReading] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON object ``camreasoner analyze --json`` prints (warnings ride in measurements;
        ``shots`` only when the reading has per-shot readings)."""
        out = {
            "video": self.video,
            "primitives": dict(self.primitives),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "measurements": {**self.measurements, "warnings": list(self.warnings)},
            "observation": self.observation,
            "think": self.think,
            "answer": self.answer,
        }
        if self.shots:
            out["shots"] = [s.to_json() for s in self.shots]
        return out


@dataclass
class ShotReading:
    """One shot of a clip and the reading of its motion alone."""

    shot: Shot
    reading: Reading

    def to_json(self) -> dict[str, Any]:
        """``start``/``end`` (s), ``start_frame``/``end_frame`` and the shot's ``reading`` (the
        top-level reading's keys but ``video``)."""
        body = self.reading.to_json()
        body.pop("video")
        body.pop("shots", None)
        return {"start": self.shot.start, "end": self.shot.end, "start_frame": self.shot.start_frame,
                "end_frame": self.shot.end_frame, "reading": body}


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


CALIBRATION_VERSION = 2


def check_calibration(data: Any, source: str) -> dict[str, dict[str, Any]]:
    """The ``primitives`` table of a calibration document, after checking its schema: the
    ``version``, all 15 primitives, a positive ``unit``, numeric ``a``/``b``, one ``context``
    coefficient per context cue and a ``prior`` in (0, 1). Raises one-line ``CamReasonerError``
    naming ``source``. (The shipped file gives opposite primitives the same values, so a mirrored
    clip gets mirrored scores; a file that does not is still valid.)"""
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
        if not number(params.get("prior")) or not 0.0 < params["prior"] < 1.0:
            raise bad(f"{p}.prior must be a number in (0, 1)")
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


def calibrated_score(value: float, params: dict, context: list[float] | None = None, conflict: float = 0.0) -> float:
    """Map a cue value (and its context cues) to a probability of Yes with a fitted logistic map.

    ``conflict`` in [0, 1] (the share of frame pairs where no motion layer dominates) shrinks the
    log-odds toward those of the primitive's ``prior``: conflicting evidence says less."""
    z = params["a"] * math.asinh(value / params["unit"]) + params["b"]
    for coef, x in zip(params.get("context", []), context or [], strict=False):
        z += coef * x
    if conflict > 0.0:
        prior = params["prior"]
        t = min(max(conflict, 0.0), 1.0)
        z = (1.0 - t) * z + t * math.log(prior / (1.0 - prior))
    return float(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))))


def score_cues(cues: ClipCues, calibration: dict[str, dict] | None = None) -> dict[str, float]:
    """Calibrated probability of Yes for each of the 15 primitives, shrunk toward the priors by the
    clip's conflict share, and the motion primitives by its ``local_weight`` when that is larger
    (see :func:`calibrated_score`, ``ClipCues.local_weight``: motion seen on a part of the frame may
    be a subject's, while still content there is still whatever covers the rest); a clip whose frame
    pairs could mostly not be measured (``ClipCues.measured`` false) scores the priors themselves."""
    cal = calibration or load_calibration()
    if not cues.measured:
        shrink = {p: 1.0 for p in PRIMITIVES}
    else:
        moving = max(cues.conflict_share, cues.local_weight)
        shrink = {p: cues.conflict_share if p == "Static" else moving for p in PRIMITIVES}
    return {p: calibrated_score(feature_value(p, cues), cal[p], context_values(p, cues), shrink[p])
            for p in PRIMITIVES}


def score_shot(cues: ClipCues, windows: list[ClipCues] | None = None,
               calibration: dict[str, dict] | None = None) -> dict[str, float]:
    """A shot's scores: those of its cues when it fits in one scoring window (``windows`` empty);
    otherwise, per primitive, the mean of its windows' scores weighted by their measured duration,
    so the decisions do not depend on the shot's length."""
    weights = [w.duration * w.valid_pairs / w.pairs for w in windows or () if w.valid_pairs]
    if not weights or not cues.measured:
        return score_cues(cues, calibration)
    scored = [score_cues(w, calibration) for w in windows or () if w.valid_pairs]
    total = sum(weights)
    return {p: sum(wt * s[p] for wt, s in zip(weights, scored, strict=True)) / total for p in PRIMITIVES}


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


def _shot_measurements(track: Track, index: int, pairs: list[TrackedPair], frames: list[float]
                       ) -> tuple[ClipCues, dict[str, Any], list[str], list[ClipCues], list[tuple[float, float]]]:
    """Cues, measurements, warnings, scoring windows (see :func:`score_shot`) and the windows'
    (start, end) seconds of shot ``index`` from its ``pairs`` (both frames inside it) and the times
    of its sampled ``frames``.

    Sampled faster than the pairs' spacing (``track.pair_spacing`` > 1), the shot's pairs form
    interleaved chains, each integrated as a 4-fps reading of its own: the cues are merged over
    the chains (:func:`~.geometry.cues.merge_chains`) and the scoring windows are every chain's
    windows (a chain within one window is one), so the scores are the chains' mean."""
    shot = track.shots[index]
    size = track.size
    focal = float(intrinsics(*size)[0, 0])
    motions = [p.motion for p in pairs]
    chains = sorted({p.chain for p in pairs})
    windows: list[ClipCues] = []
    spans: list[tuple[float, float]] = []

    def add_windows(own: list[TrackedPair], whole: ClipCues | None) -> None:
        """``own``'s windows and spans; ``whole`` (a chain's own cues) stands for a chain in one window."""
        parts = integrate_windows([p.motion for p in own], size, focal)
        if not parts and whole is not None:
            parts = [(slice(0, len(own)), whole)]
        for sl, cues_of in parts:
            windows.append(cues_of)
            spans.append((own[sl][0].t0, own[sl][-1].t1))

    if len(chains) <= 1:
        cues = integrate_pairs(motions, size, focal)
        add_windows(pairs, None)
    else:
        chain_cues = []
        for c in chains:
            own = [p for p in pairs if p.chain == c]
            chain_cues.append(integrate_pairs([p.motion for p in own], size, focal))
            add_windows(own, chain_cues[-1])
        cues = merge_chains(chain_cues)
    info = track.info
    valid = [m for m in motions if m.valid]
    cut_pairs = sum(p.cut for p in pairs)
    measurements: dict[str, Any] = {
        "frames": len(frames),
        "span_s": round(frames[-1] - frames[0], 3) if frames else 0.0,
        "sample_fps": track.sample_fps,
        "pair_step_s": round(float(np.median([p.t1 - p.t0 for p in pairs])), 4) if pairs else None,
        "truncated": track.truncated,
        "analysis_size": list(size),
        "source": {"width": info.width, "height": info.height, "fps": round(info.fps, 3),
                   "duration_s": None if info.duration is None else round(info.duration, 3),
                   "codec": info.codec, "rotation": info.rotation},
        "tracks_per_pair": int(np.median([m.n_tracks for m in motions])) if motions else 0,
        "unreliable_pairs": len(pairs) - len(valid) - cut_pairs,
        "cuts": cut_count(pairs),
        "chains": max(1, len(chains)),
        "windows": max(1, len(windows)),
        "cues": cues.to_dict(),
    }
    warnings = list(track.warnings)
    if len(frames) < 2:
        warnings.append(f"{info.path}: shot {index} ({shot.start:.2f}-{shot.end:.2f} s) holds "
                        f"{len(frames)} sampled frame(s); its motion is not measured")
    elif not cues.measured:
        warnings.append(
            f"{info.path}: only {cues.valid_pairs} of {cues.pairs} frame pairs had enough texture to track; "
            "every score is the primitive's prior"
        )
    return cues, measurements, warnings, windows, spans


def window_scores(windows: list[ClipCues], spans: list[tuple[float, float]],
                  calibration: dict[str, dict[str, float]] | None = None) -> list[dict[str, Any]]:
    """``{"start", "end", "scores"}`` of each measured scoring window (``spans``: their (start, end)
    seconds); empty when the shot is scored as one window."""
    return [{"start": round(a, 4), "end": round(b, 4), "scores": score_cues(w, calibration)}
            for w, (a, b) in zip(windows, spans, strict=True) if w.valid_pairs]


def _main_shot(track: Track, pairs: list[list[TrackedPair]]) -> int:
    """The shot the whole-clip reading is: the longest one with a measured pair (the longest at all
    when none has one); the first of equals."""
    order = sorted(range(len(track.shots)), key=lambda i: (-(track.shots[i].end - track.shots[i].start), i))
    return next((i for i in order if any(not p.cut for p in pairs[i])), order[0])


def measure_video(path: str | os.PathLike[str], options: ObserverOptions
                  ) -> tuple[ClipCues, dict[str, Any], list[str], list[ClipCues]]:
    """Stream the clip once and measure its main shot (see :func:`analyze_shots`): cues,
    measurements, warnings and scoring windows."""
    track = track_video(path, options)
    pairs, frames = track.by_shot()
    main = _main_shot(track, pairs)
    return _shot_measurements(track, main, pairs[main], frames[main])[:4]


def layer_summary(cues: ClipCues) -> dict[str, Any]:
    """The ``layers`` entry of the measurements: mean motion layers per pair, the camera layer's
    and the moving subjects' shares of the tracks, the share of pairs in conflict and the verdict."""
    return {"count": round(cues.layers, 2), "camera_share": round(cues.camera_share, 3),
            "subject_share": round(cues.subject_share, 3), "conflict_share": round(cues.conflict_share, 3),
            "conflict": bool(cues.conflict), "local_share": round(cues.local_share, 3)}


def reading_from_cues(video: str, cues: ClipCues, measurements: dict[str, Any], warnings: list[str],
                      calibration: dict[str, dict[str, float]] | None = None,
                      windows: list[ClipCues] | None = None) -> Reading:
    """Scores (:func:`score_shot`), decisions and O-T-A text from a shot's measured cues and its
    scoring windows."""
    from camreasoner.observer.text import observation_text, think_text

    scores = score_shot(cues, windows, calibration)
    primitives = decide(scores, cues.parallax_share)
    measurements = {**measurements, "layers": layer_summary(cues)}
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


def analyze_shots(path: str | os.PathLike[str], options: ObserverOptions | None = None) -> Reading:
    """Read a clip shot by shot in one decode.

    Every shot's motion is integrated over the pairs inside it (a pair straddling a cut is never
    measured); ``reading.shots`` holds each shot and its reading; the whole-clip reading is the
    reading of the longest shot (motion is never added across a cut), its measurements naming
    that shot; ``reading.series`` is every pair's rates (a pair across a cut is invalid).
    """
    options = options or ObserverOptions()
    track = track_video(path, options)
    video = str(path)
    pairs, frames = track.by_shot()
    parts = [_shot_measurements(track, i, pairs[i], frames[i]) for i in range(len(track.shots))]
    shots = []
    for shot, own, (cues, measurements, warnings, windows, spans) in zip(track.shots, pairs, parts, strict=True):
        item = ShotReading(shot, reading_from_cues(video, cues, measurements, warnings, windows=windows))
        item.reading.series = [p.rates() for p in own]
        item.reading.windows = window_scores(windows, spans)
        shots.append(item)
    main = _main_shot(track, pairs)
    cues, shot_measurements, shot_warnings, windows, _ = parts[main]
    n = len(track.shots)  # the whole-clip reading: the main shot's, its measurements naming the clip
    measurements = {**shot_measurements, "cuts": shot_measurements["cuts"] + n - 1, "shots": n, "shot": main,
                    "clip_frames": len(track.frames),
                    "clip_span_s": round(track.frames[-1][1] - track.frames[0][1], 3)}
    warnings = list(shot_warnings)
    reading = reading_from_cues(video, cues, measurements, warnings, windows=windows)
    if n > 1:
        s = track.shots[main]
        reading.observation += (f" The clip holds {n} shots; this reading is shot {main + 1}'s "
                                f"({s.start:.1f}-{s.end:.1f} s), the longest.")
    reading.series = [p.rates() for p in track.pairs]
    reading.windows = shots[main].reading.windows
    reading.shots = shots if options.shots else []
    return reading


def analyze_video(path: str | os.PathLike[str], options: ObserverOptions | None = None) -> Reading:
    """Read the camera motion of one video (see :func:`analyze_shots`)."""
    return analyze_shots(path, options)


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
