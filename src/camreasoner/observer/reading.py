"""The geometric observer's readings: video -> tracked points (:mod:`.track`) -> per-pair motion and
clip cues (:mod:`.geometry`) -> calibrated scores and decisions (:mod:`.scoring`), the No side of the
translations ordered by :mod:`.ranking` -> O-T-A text
(:mod:`.text`), per shot and for the whole clip. CPU only (OpenCV, NumPy, PyAV); never imports torch.

    reading = analyze_video("clip.mp4", ObserverOptions(fps=6))
    reading.primitives["Pan_Left"], reading.scores["Pan_Left"], reading.observation
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from camreasoner.core.taxonomy import answer_string
from camreasoner.observer.geometry import (
    ClipCues,
    integrate_pairs,
    integrate_windows,
    intrinsics,
    merge_chains,
)
from camreasoner.observer.ranking import rank_shot, rank_windows, ranked_scores
from camreasoner.observer.scoring import combine_windows, decide, score_windows
from camreasoner.observer.text import observation_text, think_text
from camreasoner.observer.track import ObserverOptions, Track, TrackedPair, cut_count, track_video
from camreasoner.video.shots import Shot


@dataclass
class Reading:
    """One clip's reading: decisions, calibrated scores, the measurements and the O-T-A text;
    ``series``: every frame pair's rates; ``windows``: a shot longer than one scoring window has
    each measured window's ``start``, ``end`` and ``scores`` (see :func:`reading_from_cues`);
    ``damage``: the cause when the stream broke part-way (a warning says it too, with what was
    analysed); none of these is in :meth:`to_json`."""

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
    damage: str | None = None

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

def _shot_measurements(track: Track, index: int, pairs: list[TrackedPair], frames: list[float]
                       ) -> tuple[ClipCues, dict[str, Any], list[str], list[ClipCues], list[tuple[float, float]]]:
    """Cues, measurements, warnings, scoring windows (see :func:`~.scoring.score_shot`) and the windows'
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
        "lens": round(track.lens[index].coefficient, 3) if index < len(track.lens) else 0.0,
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
    and the moving subjects' shares of the tracks, the share of pairs in conflict and the verdict,
    the shares of local pairs and of pairs with text fixed on the frame left out."""
    return {"count": round(cues.layers, 2), "camera_share": round(cues.camera_share, 3),
            "subject_share": round(cues.subject_share, 3), "conflict_share": round(cues.conflict_share, 3),
            "conflict": bool(cues.conflict), "local_share": round(cues.local_share, 3),
            "overlay_share": round(cues.overlay_share, 3)}


def reading_from_cues(video: str, cues: ClipCues, measurements: dict[str, Any], warnings: list[str],
                      calibration: dict[str, dict[str, float]] | None = None,
                      windows: list[ClipCues] | None = None,
                      spans: list[tuple[float, float]] | None = None) -> Reading:
    """Scores (:func:`~.scoring.score_shot`, the translations' No side ordered by
    :func:`~.ranking.ranked_scores`), decisions and O-T-A text from a shot's measured cues and its
    scoring windows; with ``spans`` (the windows' (start, end) seconds), ``reading.windows`` holds
    each measured window's span and scores (none when the shot is scored as one window)."""
    scored, ranked = score_windows(windows, calibration), rank_windows(windows, calibration)
    scores = ranked_scores(cues, combine_windows(cues, scored, calibration), rank_shot(cues, ranked, calibration),
                           calibration)
    reading = reading_from_scores(video, cues, scores, measurements, warnings)
    if spans is not None:
        measured = [span for w, span in zip(windows or (), spans, strict=True) if w.valid_pairs]
        reading.windows = [{"start": round(a, 4), "end": round(b, 4), "scores": ranked_scores(w, s, r, calibration)}
                           for (w, s), (_, r), (a, b) in zip(scored, ranked, measured, strict=True)]
    return reading


def reading_from_scores(video: str, cues: ClipCues, scores: dict[str, float], measurements: dict[str, Any],
                        warnings: list[str]) -> Reading:
    """Decisions and O-T-A text from a shot's scores and measured cues."""
    primitives = decide(scores, cues.parallax_share)
    measurements = {**measurements, "layers": layer_summary(cues)}
    moving_share = max(0.0, 1.0 - cues.rigid_share)
    obs = observation_text(cues, measurements.get("frames", 0), measurements.get("span_s", 0.0), moving_share,
                           primitives)
    if measurements.get("lens"):
        obs += (" The lens bends straight lines (barrel distortion, division-model coefficient "
                f"{measurements['lens']:g}); the tracks were straightened before the motion was measured.")
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
        item = ShotReading(shot, reading_from_cues(video, cues, measurements, warnings, windows=windows, spans=spans))
        item.reading.series = [p.rates() for p in own]
        item.reading.damage = track.damage
        shots.append(item)
    main = _main_shot(track, pairs)
    cues, shot_measurements, shot_warnings, _, _ = parts[main]
    n = len(track.shots)  # the whole-clip reading: the main shot's, its measurements naming the clip
    measurements = {**shot_measurements, "cuts": shot_measurements["cuts"] + n - 1, "shots": n, "shot": main,
                    "dissolves": len(track.dissolves),
                    "clip_frames": len(track.frames),
                    "clip_span_s": round(track.frames[-1][1] - track.frames[0][1], 3)}
    warnings = list(shot_warnings)
    reading = reading_from_scores(video, cues, shots[main].reading.scores, measurements, warnings)
    if n > 1:
        s = track.shots[main]
        reading.observation += (f" The clip holds {n} shots; this reading is shot {main + 1}'s "
                                f"({s.start:.1f}-{s.end:.1f} s), the longest.")
    reading.series = [p.rates() for p in track.pairs]
    reading.windows = shots[main].reading.windows
    reading.shots = shots if options.shots else []
    reading.damage = track.damage
    return reading


def analyze_video(path: str | os.PathLike[str], options: ObserverOptions | None = None) -> Reading:
    """Read the camera motion of one video (see :func:`analyze_shots`)."""
    return analyze_shots(path, options)
