"""Grounded O-T-A chains written from the geometric observer's measurements, in varied wording.

A chain is written only when the observer's measured primitives give the labelled answer (so the
reasoning is true to the video, not a rationalisation of a known answer); otherwise the item is
rejected with the reason ``observer_disagrees``. The observation describes what the image shows
(direction, parallax, expansion, rotation, with the measured sizes) and the camera motion it
implies; the think block checks the question (or each option) against it.
"""

from __future__ import annotations

import random
from typing import Any

from camreasoner.core.ota import format_ota
from camreasoner.core.taxonomy import PRIMITIVES, split_option
from camreasoner.formats.questions import Question
from camreasoner.qa.vqa import OTHERS, PHRASES, answer_from_primitives, option_conditions

# Image-level evidence and camera-level claim per primitive: ({n} = a measured size, may be absent).
_EVIDENCE: dict[str, tuple[str, ...]] = {
    "Pan_Left": (
        "The background slides right{size}, near and far parts alike with no parallax",
        "Content shifts to the right at the same rate at every depth{size}",
        "The whole view drifts right uniformly{size}; there is no parallax between near and far objects",
    ),
    "Pan_Right": (
        "The background slides left{size}, near and far parts alike with no parallax",
        "Content shifts to the left at the same rate at every depth{size}",
        "The whole view drifts left uniformly{size}; there is no parallax between near and far objects",
    ),
    "Tilt_Up": (
        "The background slides down{size} with no parallax",
        "Content shifts downward uniformly{size}, all depths alike",
    ),
    "Tilt_Down": (
        "The background slides up{size} with no parallax",
        "Content shifts upward uniformly{size}, all depths alike",
    ),
    "Roll_Clockwise": (
        "The image rotates counter-clockwise about its centre{size}",
        "The picture turns counterclockwise on screen{size}",
    ),
    "Roll_Counterclockwise": (
        "The image rotates clockwise about its centre{size}",
        "The picture turns clockwise on screen{size}",
    ),
    "Zoom_In": (
        "The image magnifies uniformly about the centre{size}, with no parallax",
        "Everything grows uniformly{size}; near and far things scale alike",
    ),
    "Zoom_Out": (
        "The image shrinks uniformly toward the centre{size}, with no parallax",
        "Everything gets smaller uniformly{size}; near and far things scale alike",
    ),
    "Move_In": (
        "The scene expands from a focus of expansion{size}, with near objects growing faster (parallax)",
        "Content expands outward{size} and nearer things grow faster than far ones, which is parallax",
    ),
    "Move_Out": (
        "The scene contracts{size}, with near objects shrinking faster (parallax)",
        "Content contracts toward a point{size} and nearer things shrink faster, which is parallax",
    ),
    "Move_Left": (
        "Content slides right{size} with strong parallax: near things slide more than far ones",
        "The scene shifts to the right{size}, near objects faster than distant ones (parallax)",
    ),
    "Move_Right": (
        "Content slides left{size} with strong parallax: near things slide more than far ones",
        "The scene shifts to the left{size}, near objects faster than distant ones (parallax)",
    ),
    "Move_Up": (
        "Content slides down{size} with parallax, near things more than far ones",
        "The scene shifts downward{size}, near objects faster than distant ones (parallax)",
    ),
    "Move_Down": (
        "Content slides up{size} with parallax, near things more than far ones",
        "The scene shifts upward{size}, near objects faster than distant ones (parallax)",
    ),
}
_CLAIM: dict[str, tuple[str, ...]] = {
    "Pan_Left": ("so the camera pans left{deg}", "a rotation: the camera pans to the left{deg}"),
    "Pan_Right": ("so the camera pans right{deg}", "a rotation: the camera pans to the right{deg}"),
    "Tilt_Up": ("so the camera tilts up{deg}", "meaning the camera tilts upward{deg}"),
    "Tilt_Down": ("so the camera tilts down{deg}", "meaning the camera tilts downward{deg}"),
    "Roll_Clockwise": ("so the camera rolls clockwise{deg}", "meaning the camera rolls clockwise{deg}"),
    "Roll_Counterclockwise": (
        "so the camera rolls counterclockwise{deg}",
        "meaning the camera rolls counter-clockwise{deg}",
    ),
    "Zoom_In": ("so the lens zooms in", "a zoom in: the focal length increases"),
    "Zoom_Out": ("so the lens zooms out", "a zoom out: the focal length decreases"),
    "Move_In": ("so the camera moves forward", "so the camera dollies in"),
    "Move_Out": ("so the camera moves backward", "so the camera dollies out"),
    "Move_Left": ("so the camera moves to its left", "so the camera trucks left"),
    "Move_Right": ("so the camera moves to its right", "so the camera trucks right"),
    "Move_Up": ("so the camera moves up", "so the camera rises (pedestal up)"),
    "Move_Down": ("so the camera moves down", "so the camera descends (pedestal down)"),
}
_STATIC = (
    "The background stays put across the clip and there is no shake: the camera is completely still",
    "Nothing in the background moves; the camera remains static, and only the scene's own objects move",
    "The view is fixed from the first frame to the last: the camera stays completely still",
)
_NOTHING_CLEAR = (
    "The camera is not static: the view jitters, but it neither pans, tilts, rolls nor zooms, "
    "and it does not move in any direction",
)
# cue name, sign meaning the primitive, unit
_CUE: dict[str, tuple[str, float, str]] = {
    "Pan_Left": ("pan_deg", -1, "deg"),
    "Pan_Right": ("pan_deg", 1, "deg"),
    "Tilt_Up": ("tilt_deg", 1, "deg"),
    "Tilt_Down": ("tilt_deg", -1, "deg"),
    "Roll_Clockwise": ("roll_deg", 1, "deg"),
    "Roll_Counterclockwise": ("roll_deg", -1, "deg"),
    "Zoom_In": ("zoom_pct", 1, "pct"),
    "Zoom_Out": ("zoom_pct", -1, "pct"),
    "Move_In": ("dolly", 1, "frac"),
    "Move_Out": ("dolly", -1, "frac"),
    "Move_Left": ("truck", -1, "frac"),
    "Move_Right": ("truck", 1, "frac"),
    "Move_Up": ("pedestal", 1, "frac"),
    "Move_Down": ("pedestal", -1, "frac"),
}
_NOUN = {
    "Static": "complete stillness",
    "Move_In": "forward travel",
    "Move_Out": "backward travel",
    "Move_Left": "travel to the left",
    "Move_Right": "travel to the right",
    "Move_Up": "upward travel",
    "Move_Down": "downward travel",
    "Pan_Left": "pan to the left",
    "Pan_Right": "pan to the right",
    "Tilt_Up": "upward tilt",
    "Tilt_Down": "downward tilt",
    "Roll_Clockwise": "clockwise roll",
    "Roll_Counterclockwise": "counterclockwise roll",
    "Zoom_In": "zoom in",
    "Zoom_Out": "zoom out",
}


def _sizes(prim: str, cues: dict[str, Any]) -> tuple[str, str]:
    """(" (about 12% of the frame)", " by about 12 degrees") from the cues, or empty strings."""
    name, sign, unit = _CUE[prim]
    value = cues.get(name)
    if not isinstance(value, (int, float)) or value * sign <= 0:
        return "", ""
    v = abs(float(value))
    if round(v * (100 if unit == "frac" else 1)) == 0:
        return "", ""  # too small to quote as a whole number
    if unit == "deg":
        deg = f"{v:.0f} degree{'' if round(v) == 1 else 's'}"
        return (f" (about {deg} of rotation)" if prim.startswith("Roll") else ""), f" by about {deg}"
    if unit == "pct":
        return f" (about {v:.0f}% in scale)", ""
    return f" (about {v * 100:.0f}% of the frame)", ""


def observation_sentences(measured: dict[str, bool], cues: dict[str, Any], rng: random.Random) -> list[str]:
    """One sentence per measured motion (or one for a still camera), in random wording and order."""
    if measured.get("Static"):
        return [rng.choice(_STATIC) + "."]
    held = [p for p in PRIMITIVES if p != "Static" and measured.get(p)]
    if not held:
        return [rng.choice(_NOTHING_CLEAR) + "."]
    out = []
    for p in held:
        size, deg = _sizes(p, cues)
        evidence = rng.choice(_EVIDENCE[p]).format(size=size)
        claim = rng.choice(_CLAIM[p]).format(deg=deg)
        out.append(f"{evidence}, {claim}.")
    rng.shuffle(out)
    return out


def _absent_sentence(prims: list[str], rng: random.Random) -> str:
    nouns = [_NOUN[p] for p in prims]
    listed = nouns[0] if len(nouns) == 1 else ", ".join(nouns[:-1]) + " or " + nouns[-1]
    return rng.choice(("There is no {x}.", "No {x} is measured.", "I see no {x}.")).format(x=listed)


def _asked_primitives(q: Question) -> list[str]:
    keys: list[str] = []
    for cond in option_conditions(q):
        for k in cond:
            if k != OTHERS and k not in keys:
                keys.append(k)
    return keys


def write_observation(
    q: Question, measured: dict[str, bool], cues: dict[str, Any], rng: random.Random
) -> str:
    """The observation: the measured motions, then the absence of the motions the question asks about."""
    sentences = observation_sentences(measured, cues, rng)
    if not measured.get("Static"):
        absent = [p for p in _asked_primitives(q) if p != "Static" and measured.get(p) is False]
        if absent:
            sentences.append(_absent_sentence(absent[:4], rng))
    return " ".join(sentences)


def _condition_text(cond: dict[str, bool], measured: dict[str, bool], target: str | None) -> tuple[bool, str]:
    parts, ok = [], True
    for key, want in cond.items():
        if key == OTHERS:
            others = [p for p in PRIMITIVES if p not in ("Static", target) and measured.get(p)]
            fact = bool(others)
            text = f"other motion ({', '.join(_NOUN[p] for p in others)})" if others else "no other motion"
        else:
            fact = bool(measured.get(key))
            text = f"{_NOUN[key]} {'measured' if fact else 'absent'}"
        ok &= fact == want
        parts.append(text)
    return ok, "; ".join(parts[:4]) + ("; …" if len(parts) > 4 else "")


def write_think(q: Question, measured: dict[str, bool], rng: random.Random) -> str:
    """Reasoning from the observation to the answer letter."""
    if q.is_binary:
        prim = q.primitive or ""
        yes = bool(measured.get(prim))
        verb = PHRASES[prim].split(" (")[0]
        lead = rng.choice(
            (
                "The question asks whether the camera {v}.",
                "I need to decide if the camera {v}.",
                "Asked: does the camera {v}?",
            )
        ).format(v=verb)
        if yes:
            body = rng.choice(
                (
                    "The observation shows exactly this motion.",
                    "The measured motion includes it.",
                    "That is what I observed.",
                )
            )
        else:
            body = rng.choice(
                (
                    "Nothing observed matches it.",
                    "The measured motion does not include it.",
                    "I observed no such motion.",
                )
            )
        return f"{lead} {body} So the answer is {'B (Yes)' if yes else 'A (No)'}."
    target = q.extra.get("target")
    lines = [
        rng.choice(
            (
                "Checking each option against the observation:",
                "Let me test every option:",
                "Option by option:",
            )
        )
    ]
    right = None
    for option, cond in zip(q.options, option_conditions(q), strict=True):
        letter, text = split_option(option)
        ok, why = _condition_text(cond, measured, target)
        lines.append(f"{letter} ({text}): {why}, so {'it fits' if ok else 'it does not fit'}.")
        if ok:
            right = letter
    lines.append(f"Only {right} fits the measured motion.")
    return " ".join(lines)


def grounded_chain(q: Question, reading: dict[str, Any], rng: random.Random) -> tuple[str | None, str]:
    """(O-T-A response, "ok") or (None, reason): ``observer_disagrees``, ``unreadable_video``,
    ``unknown_answer``."""
    if "error" in reading or "primitives" not in reading:
        return None, "unreadable_video"
    if q.answer is None:
        return None, "unknown_answer"
    measured = {p: bool(v) for p, v in reading["primitives"].items()}
    if answer_from_primitives(q, measured) != q.answer:
        return None, "observer_disagrees"
    cues = reading.get("measurements", {}).get("cues", {}) or {}
    observation = write_observation(q, measured, cues, rng)
    think = write_think(q, measured, rng)
    return format_ota(observation, think, q.answer), "ok"
