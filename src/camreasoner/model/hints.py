"""``--hint geometry``: the geometric observer's measurements as a short cue block in the prompt.

The block names the primitives the observer finds likely (with its scores) and a few of its scalar
measurements. The model still writes its own observation, reasoning and answer; the block is
labelled as measured and fallible so the model may disagree.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES

HINT_MODES = ("geometry",)


def check_hint_mode(hint: str | None) -> str | None:
    """``hint`` itself if it is None or a known mode; a clear error otherwise."""
    if hint is not None and hint not in HINT_MODES:
        raise CamReasonerError(f"unknown hint mode {hint!r}; use one of {', '.join(HINT_MODES)}")
    return hint

HEADER = "Measured motion cues (from a geometric tracker; they may be wrong):"
MAX_MEASUREMENTS = 8
# The observer's clip-level motion cues, shown when present (measurements["cues"]), in this order.
CUE_KEYS = (
    "pan_deg",
    "tilt_deg",
    "roll_deg",
    "zoom_pct",
    "truck",
    "pedestal",
    "dolly",
    "parallax_ratio",
    "shake",
)


def _flat_numbers(measurements: Mapping[str, Any], prefix: str = "") -> list[tuple[str, float]]:
    """Scalar numbers of a nested measurement dict as ``(dotted.key, value)``, in dict order."""
    out: list[tuple[str, float]] = []
    for key, value in measurements.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out.append((name, float(value)))
        elif isinstance(value, Mapping):
            out.extend(_flat_numbers(value, prefix=f"{name}."))
    return out


def _cue_numbers(measurements: Mapping[str, Any]) -> list[tuple[str, float]]:
    """The motion cues named in :data:`CUE_KEYS` if the measurements hold them, else any scalars."""
    cues = measurements.get("cues")
    if isinstance(cues, Mapping):
        chosen = [(k, float(cues[k])) for k in CUE_KEYS if isinstance(cues.get(k), (int, float))]
        if chosen:
            return chosen
    return _flat_numbers(measurements)


def cue_block(
    scores: Mapping[str, float],
    measurements: Mapping[str, Any] | None = None,
    threshold: float = 0.5,
    max_measurements: int = MAX_MEASUREMENTS,
) -> str:
    """The cue block text from per-primitive scores in [0, 1] and a measurement dict."""
    ranked = sorted(((p, float(scores[p])) for p in PRIMITIVES if p in scores), key=lambda x: -x[1])
    likely = [f"{p} {s:.2f}" for p, s in ranked if s >= threshold]
    lines = [HEADER]
    lines.append("- likely: " + (", ".join(likely) if likely else "none above " + f"{threshold:.2f}"))
    runner_up = [f"{p} {s:.2f}" for p, s in ranked if s < threshold][:2]
    if runner_up:
        lines.append("- next: " + ", ".join(runner_up))
    numbers = _cue_numbers(measurements or {})[:max_measurements]
    if numbers:
        lines.append("- measured: " + ", ".join(f"{k}={v:.3g}" for k, v in numbers))
    return "\n".join(lines)


def geometry_hint(video: str | os.PathLike[str], options: Any = None, start: float | None = None,
                  end: float | None = None) -> str:
    """Run the geometric observer on ``video`` (only [start, end] seconds when given) and return its cue block."""
    from dataclasses import replace

    from camreasoner.observer.reading import ObserverOptions, analyze_video

    if start is not None or end is not None:
        options = replace(options or ObserverOptions(), start=start, end=end)
    reading = analyze_video(video, options)
    return cue_block(reading.scores, reading.measurements)
