"""Calibrated scores and decisions of the geometric observer: each primitive's signed cue and context
cues (:data:`FEATURES`, :data:`CONTEXT`), the logistic maps of the shipped calibration file (schema
checked on load), the shrink toward the priors when the evidence conflicts or is local, and the
decisions taken from the scores.

    scores = score_shot(cues, windows)      # cues: a shot's ClipCues; windows: its scoring windows
    decisions = decide(scores, cues.parallax_share)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import read_versioned_json
from camreasoner.core.taxonomy import CONFUSABLE_PAIRS, OPPOSITES, PRIMITIVES
from camreasoner.observer.geometry import ClipCues

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


# Jitter below this (share of the width per pair, about 0.15 px at 320 px) is tracking noise (waving
# leaves, compression), not a shaking camera.
SHAKE_FLOOR = 0.0005


def energy(cues: ClipCues) -> float:
    """Motion energy for the Static decision: the background's speed as the camera model moves it
    (``fitted_motion``, share of width per second; each track's own noise averages out in the fit)
    plus shake above the tracking noise, in percent."""
    return 100.0 * (cues.fitted_motion + 5.0 * max(0.0, cues.shake - SHAKE_FLOOR))


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


def is_number(x: Any) -> bool:
    """Whether ``x`` is a finite int or float (not a bool)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def check_calibration(data: dict[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """The ``primitives`` table of a calibration document (its version checked on reading, see
    :func:`load_calibration`), after checking its schema: all 15 primitives, a positive ``unit``,
    numeric ``a``/``b``, one ``context`` coefficient per context cue and a ``prior`` in (0, 1).
    Raises one-line ``CamReasonerError`` naming ``source``. (The shipped file gives opposite
    primitives the same values, so a mirrored clip gets mirrored scores; a file that does not is
    still valid.)"""
    def bad(problem: str) -> CamReasonerError:
        return CamReasonerError(f"{source}: bad observer calibration: {problem}")

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
        if not is_number(params.get("unit")) or params["unit"] <= 0:
            raise bad(f"{p}.unit must be a positive number")
        for key in ("a", "b"):
            if not is_number(params.get(key)):
                raise bad(f"{p}.{key} must be a number")
        context = params.get("context", [])
        want = len(CONTEXT.get(p, ()))
        if not isinstance(context, list) or len(context) != want or not all(is_number(c) for c in context):
            raise bad(f"{p}.context must be a list of {want} numbers")
        if not is_number(params.get("prior")) or not 0.0 < params["prior"] < 1.0:
            raise bad(f"{p}.prior must be a number in (0, 1)")
    return table


@lru_cache(maxsize=4)
def load_calibration(path: str | None = None) -> dict[str, dict[str, float]]:
    """Per primitive ``{"unit", "a", "b", "context": [c1, ...]}``:
    score = sigmoid(a * asinh(value / unit) + b + sum(c_k * context_k)); version and schema checked
    on load."""
    if path is None:
        path = str(Path(__file__).parents[1] / "data" / CALIBRATION_FILE)
    return check_calibration(read_versioned_json(path, "observer calibration", CALIBRATION_VERSION), path)


# A dolly read beside a lens zoom. Two frames fit a zoom with a dolly in as well as a stronger zoom
# with a dolly out, and the zoom/dolly split then gives the dolly the zoom's sign whichever way the
# camera moved. A dolly's own expansion shows as a zoom of a few per cent; beyond DOLLY_ZOOM_FREE %
# the zoom is the lens's, and Move_In / Move_Out lose DOLLY_ZOOM_WEIGHT * asinh(|zoom| - it) of
# log-odds (see dolly_doubt).
DOLLY_ZOOM_FREE = 10.0
DOLLY_ZOOM_WEIGHT = 0.5


def dolly_doubt(cues: ClipCues) -> float:
    """The log-odds a dolly reading (the primitives read from the ``dolly`` cue: Move_In, Move_Out)
    loses beside the clip's lens zoom."""
    return DOLLY_ZOOM_WEIGHT * math.asinh(max(0.0, abs(cues.zoom_pct) - DOLLY_ZOOM_FREE))


def shrink_to_prior(z: float, prior: float, t: float) -> float:
    """Log-odds ``z`` moved a share ``t`` in [0, 1] of the way to those of ``prior``."""
    if t <= 0.0:
        return z
    t = min(t, 1.0)
    return (1.0 - t) * z + t * math.log(prior / (1.0 - prior))


def calibrated_score(value: float, params: dict, context: list[float] | None = None, conflict: float = 0.0,
                     offset: float = 0.0) -> float:
    """Map a cue value (and its context cues) to a probability of Yes with a fitted logistic map.

    ``offset`` is added to the log-odds (evidence the map does not weigh, e.g. :func:`dolly_doubt`).
    ``conflict`` in [0, 1] (the share of frame pairs where no motion layer dominates) shrinks the
    log-odds toward those of the primitive's ``prior``: conflicting evidence says less."""
    z = params["a"] * math.asinh(value / params["unit"]) + params["b"] + offset
    for coef, x in zip(params.get("context", []), context or [], strict=False):
        z += coef * x
    return sigmoid(shrink_to_prior(z, params["prior"], conflict))


def sigmoid(z: float) -> float:
    """The probability of log-odds ``z`` (clipped to +-50)."""
    return float(1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0))))


def shrink_weights(cues: ClipCues) -> dict[str, float]:
    """How far (0-1) each primitive's log-odds go toward its prior (see :func:`score_cues`)."""
    if not cues.measured:
        return {p: 1.0 for p in PRIMITIVES}
    moving = max(cues.conflict_share, cues.local_weight)
    return {p: cues.conflict_share if p == "Static" else moving for p in PRIMITIVES}


def score_cues(cues: ClipCues, calibration: dict[str, dict] | None = None) -> dict[str, float]:
    """Calibrated probability of Yes for each of the 15 primitives, shrunk toward the priors by the
    clip's conflict share, and the motion primitives by its ``local_weight`` when that is larger
    (see :func:`calibrated_score`, ``ClipCues.local_weight``: motion seen on a part of the frame may
    be a subject's, while still content there is still whatever covers the rest); a clip whose frame
    pairs could mostly not be measured (``ClipCues.measured`` false) scores the priors themselves.
    A dolly read beside a lens zoom says less (:func:`dolly_doubt`)."""
    cal = calibration or load_calibration()
    shrink = shrink_weights(cues)
    doubt = dolly_doubt(cues)
    return {p: calibrated_score(feature_value(p, cues), cal[p], context_values(p, cues), shrink[p],
                                -doubt if FEATURES[p][0] == "dolly" else 0.0)
            for p in PRIMITIVES}


def score_windows(windows: list[ClipCues] | None, calibration: dict[str, dict] | None = None
                  ) -> list[tuple[ClipCues, dict[str, float]]]:
    """Each measured scoring window (one with a valid pair) and its scores."""
    return [(w, score_cues(w, calibration)) for w in windows or () if w.valid_pairs]


def score_shot(cues: ClipCues, windows: list[ClipCues] | None = None,
               calibration: dict[str, dict] | None = None) -> dict[str, float]:
    """A shot's scores: those of its cues when it fits in one scoring window (``windows`` empty);
    otherwise, per primitive, the mean of its windows' scores weighted by their measured duration,
    so the decisions do not depend on the shot's length."""
    return combine_windows(cues, score_windows(windows, calibration), calibration)


def combine_windows(cues: ClipCues, scored: list[tuple[ClipCues, dict[str, float]]],
                    calibration: dict[str, dict] | None = None,
                    score: Callable[[ClipCues, dict[str, dict] | None], dict[str, float]] = score_cues,
                    ) -> dict[str, float]:
    """:func:`score_shot` from the windows already scored (:func:`score_windows`): their mean weighted
    by measured duration, or ``score`` of the shot's own cues when it is one window or too thinly
    measured (``score``: another per-cues scorer, e.g. the ranking forests')."""
    if not scored or not cues.measured:
        return score(cues, calibration)
    weights = [w.duration * w.valid_pairs / w.pairs for w, _ in scored]
    total = sum(weights)
    return {p: sum(wt * s[p] for wt, (_, s) in zip(weights, scored, strict=True)) / total for p in scored[0][1]}


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
