"""One video -> its shot rows (or one error line). Never raises for a bad video."""

from __future__ import annotations

import json
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.label.ask import ShotAnswers, backend_for, shot_answers, shot_items
from camreasoner.label.cmotion import cmotion
from camreasoner.label.options import LabelOptions
from camreasoner.label.series import series_from_samples
from camreasoner.label.timeline import MotionSeries, Window, format_timeline, timeline
from camreasoner.video.shots import Shot


def series_from_reading(reading: Any) -> MotionSeries | None:
    """The observer's per-pair motion (``Reading.series``) as arrays; None when the reading has none."""
    samples = getattr(reading, "series", None)
    return series_from_samples(samples) if samples else None


def _label_values(decisions: dict[str, bool], scores: dict[str, float], unsure: float) -> dict[str, bool | None]:
    """Decisions with the unsure ones (score within ``unsure`` of 0.5) as None."""
    return {p: (None if abs(scores[p] - 0.5) < unsure else bool(decisions[p])) for p in PRIMITIVES}


def allowed_windows(reading: Any, shot: Shot, unsure: float) -> list[Window]:
    """Per scoring window of the observer's reading (the whole shot when it is scored as one):
    its span and the primitives it does not reject (score above 0.5 - ``unsure``, so Yes or unsure);
    the first and last windows stretched to the shot's bounds."""
    windows = getattr(reading, "windows", None) or [{"start": shot.start, "end": shot.end, "scores": reading.scores}]
    out = [(float(w["start"]), float(w["end"]), frozenset(p for p in PRIMITIVES if w["scores"][p] > 0.5 - unsure))
           for w in windows]
    first, last = min(a for a, _, _ in out), max(b for _, b, _ in out)
    return [(shot.start if a == first else a, shot.end if b == last else b, ok) for a, b, ok in out]


def _magnitude(reading: Any) -> float:
    """Median background speed, percent of the frame width per second."""
    cues = reading.measurements.get("cues", {})
    return round(100.0 * float(cues.get("motion", 0.0)), 4)


def shot_row(video: str, rel: str, index: int, shot: Shot, reading: Any, opts: LabelOptions,
             asked: ShotAnswers | None = None) -> dict[str, Any]:
    """One row of shots.parquet from a shot's observer reading; with ``asked`` (another backend's
    answers) the labels, scores and text are the backend's, the timeline and measurements the observer's."""
    if asked is None:
        values = _label_values(reading.primitives, reading.scores, opts.unsure)
        scores: dict[str, float | None] = {p: round(float(reading.scores[p]), 4) for p in PRIMITIVES}
        text = (reading.observation, reading.think, reading.answer, list(reading.warnings))
    else:
        values, scores = asked.primitives, asked.scores
        text = (asked.observation or reading.observation, asked.think, asked.answer,
                [*reading.warnings, *asked.warnings])
    held = [p for p in PRIMITIVES if values[p]]
    series = series_from_reading(reading)  # None (a shot too short for a pair): one segment
    segments = timeline(series, shot.start, shot.end, opts.timeline, held,
                        allowed_windows(reading, shot, opts.unsure))
    return {
        "video": video,
        "path": rel,
        "shot": index,
        "start": shot.start,
        "end": shot.end,
        "start_frame": shot.start_frame,
        "end_frame": shot.end_frame,
        "primitives": values,
        "scores": scores,
        "segments": segments,
        "timeline": format_timeline(segments),
        "cmotion": cmotion(values),
        "magnitude": _magnitude(reading),
        "observation": text[0],
        "think": text[1],
        "answer": text[2],
        "measurements": json.dumps(reading.measurements, sort_keys=True),
        "warnings": text[3],
        "backend": opts.backend,
    }


def _ask(video: str, spans: list[tuple[float | None, float | None]], opts: LabelOptions) -> list[ShotAnswers] | None:
    """The backend's answers per shot (one batch for the whole video); None for the geometric backend."""
    if opts.backend == "geometric":
        return None
    backend = backend_for(opts.backend, opts.backend_options)
    items = [it for i, (a, b) in enumerate(spans) for it in shot_items(video, a, b, f"shot{i}")]
    responses = backend.answer(items)
    n = len(PRIMITIVES)
    return [shot_answers(responses[i * n:(i + 1) * n]) for i in range(len(spans))]


def label_video(video: str, rel: str, opts: LabelOptions) -> dict[str, Any]:
    """``{"video", "duration", "rows": [...], "error": None}`` or with ``"error": "<one line>"``."""
    from camreasoner.observer.reading import ObserverOptions, ShotReading, analyze_shots
    from camreasoner.video.decode import probe

    result: dict[str, Any] = {"video": video, "duration": 0.0, "rows": [], "error": None}
    try:
        info = probe(video)
        duration = float(info.duration or 0.0)
        result["duration"] = round(duration, 4)
        n_frames = max(1, round(duration * info.fps))
        obs = ObserverOptions(fps=opts.fps, max_frames=None, max_side=opts.max_side, shots=opts.shots,
                              min_shot=opts.min_shot, shot_threshold=opts.shot_threshold, dissolves=opts.dissolves,
                              lens=opts.lens)
        reading = analyze_shots(video, obs)  # one decode: shots, per-shot readings and series
        if reading.damage:  # nothing of a broken stream is labelled
            raise CamReasonerError(f"{reading.damage}; not labelled")
        shots = reading.shots or [ShotReading(Shot(0.0, round(duration, 4), 0, n_frames), reading)]
        spans = [(it.shot.start if i else None, None if i == len(shots) - 1 else it.shot.end)
                 for i, it in enumerate(shots)]
        asked = _ask(video, spans, opts)
        for i, item in enumerate(shots):
            result["rows"].append(shot_row(video, rel, i, item.shot, item.reading, opts, asked[i] if asked else None))
    except CamReasonerError as exc:
        result.update(rows=[], error=str(exc).splitlines()[0])
    except Exception as exc:  # noqa: BLE001 - one bad video is an error line, the run goes on
        result.update(rows=[], error=f"{video}: {type(exc).__name__}: {exc}".splitlines()[0])
    return result
