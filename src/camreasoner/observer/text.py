"""Words from measurements: the <observation> and <think> blocks of the geometric observer."""

from __future__ import annotations

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.observer.geometry.cues import ClipCues

# family -> (positive primitive, negative primitive, cue name, unit text)
FAMILY_CUES: dict[str, tuple[str, str, str]] = {
    "pan": ("Pan_Right", "Pan_Left", "pan_deg"),
    "tilt": ("Tilt_Up", "Tilt_Down", "tilt_deg"),
    "roll": ("Roll_Clockwise", "Roll_Counterclockwise", "roll_deg"),
    "zoom": ("Zoom_In", "Zoom_Out", "zoom_pct"),
    "truck": ("Move_Right", "Move_Left", "truck"),
    "pedestal": ("Move_Up", "Move_Down", "pedestal"),
    "dolly": ("Move_In", "Move_Out", "dolly"),
}

_WHY = {
    "Pan_Left": "the background slides right with all depths moving alike, a rotation of the camera to its left",
    "Pan_Right": "the background slides left with all depths moving alike, a rotation of the camera to its right",
    "Tilt_Up": "the background slides down with no parallax, the optical axis turning up",
    "Tilt_Down": "the background slides up with no parallax, the optical axis turning down",
    "Roll_Clockwise": "the image rotates counter-clockwise about its centre, so the camera rolls clockwise",
    "Roll_Counterclockwise": "the image rotates clockwise about its centre, so the camera rolls counter-clockwise",
    "Zoom_In": "the image magnifies uniformly about its centre with no parallax, a longer focal length",
    "Zoom_Out": "the image shrinks uniformly with no parallax, a shorter focal length",
    "Move_In": "the scene expands from a focus of expansion with near things growing faster (parallax), "
    "so the camera travels forward",
    "Move_Out": "the scene contracts with parallax, so the camera travels backward",
    "Move_Left": "content slides right with near things sliding more than far ones (parallax), "
    "so the camera travels to its left",
    "Move_Right": "content slides left with parallax, so the camera travels to its right",
    "Move_Up": "content slides down with parallax, so the camera rises",
    "Move_Down": "content slides up with parallax, so the camera descends",
}


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.1f}%"


def _dir(dx: float, dy: float) -> str:
    parts = []
    if abs(dx) >= 0.005:
        parts.append(f"{_pct(dx)} of the frame width {'rightward' if dx > 0 else 'leftward'}")
    if abs(dy) >= 0.005:
        parts.append(f"{_pct(dy)} of the frame height {'downward' if dy > 0 else 'upward'}")
    return ", ".join(parts) if parts else "less than 0.5% of the frame"


# family -> (cue, unit, cue's text threshold, positive-sign phrase, negative-sign phrase); phrases
# are how the camera's own motion is said (camreasoner.qa.consistency reads them back).
_FAMILY_TEXT: dict[str, tuple[str, str, float, str, str]] = {
    "pan": ("pan_deg", "degrees", 0.3, "pans right", "pans left"),
    "tilt": ("tilt_deg", "degrees", 0.3, "tilts up", "tilts down"),
    "roll": ("roll_deg", "degrees", 0.3, "rolls clockwise", "rolls counterclockwise"),
    "zoom": ("zoom_pct", "%", 0.5, "zooms in", "zooms out"),
    "truck": ("truck", "% of the frame", 0.003, "moves to its right (truck right)", "moves to its left (truck left)"),
    "pedestal": ("pedestal", "% of the frame", 0.003, "moves up (pedestal up)", "moves down (pedestal down)"),
    "dolly": ("dolly", "% of the frame", 0.003, "moves forward (dolly in)", "moves backward (dolly out)"),
}
_NEGLIGIBLE = {
    "pan": "no clear pan", "tilt": "no clear tilt", "roll": "no clear roll", "zoom": "no clear zoom",
    "truck": "no clear truck", "pedestal": "no clear pedestal", "dolly": "no clear dolly",
}
# family -> (word for a positive cue, for a negative cue), said after the number
_CUE_WORDS = {
    "pan": ("rightward", "leftward"), "tilt": ("upward", "downward"),
    "roll": ("clockwise", "counterclockwise"), "zoom": ("larger", "smaller"),
    "truck": ("rightward", "leftward"), "pedestal": ("upward", "downward"), "dolly": ("forward", "backward"),
}


def _amount(family: str, value: float) -> str:
    cue, unit, _, _, _ = _FAMILY_TEXT[family]
    if unit == "% of the frame":
        return f"{abs(value) * 100:.1f}% of the frame"
    return f"{abs(value):.1f}{'%' if unit == '%' else ' ' + unit}"


def _family_sentence(family: str, cues: ClipCues, primitives: dict[str, bool]) -> str | None:
    """A decided motion as a claim with its number; a cue below the decision as negligible."""
    cue, _, floor, pos_text, neg_text = _FAMILY_TEXT[family]
    value = float(getattr(cues, cue))
    pos, neg = FAMILY_CUES[family][:2]
    for prim, text in ((pos, pos_text), (neg, neg_text)):
        if primitives.get(prim):
            extra = ""
            if family == "roll":
                extra = f" (the image turns {'counterclockwise' if prim == 'Roll_Clockwise' else 'clockwise'} on screen)"
            if family == "dolly" and cues.foe_x is not None and cues.foe_y is not None:
                extra = f" (epipole at x {cues.foe_x:.2f}, y {cues.foe_y:.2f} of the frame)"
            return f"The camera {text} by {_amount(family, value)}{extra}."
    if abs(value) < floor:
        return None
    up, down = _CUE_WORDS[family]
    return f"{_NEGLIGIBLE[family].capitalize()} ({_amount(family, value)} {up if value > 0 else down}, within noise)."


def observation_text(cues: ClipCues, frames: int, span: float, moving_share: float,
                     primitives: dict[str, bool] | None = None) -> str:
    """The measured cues in words with numbers, worded to agree with the decided ``primitives``:
    a motion is claimed only when it was decided; a cue below its decision is said to be noise."""
    primitives = primitives or {}
    if not cues.measured:
        return (f"Tracked points across {frames} sampled frames over {span:.1f} s, but only {cues.valid_pairs} "
                f"of {cues.pairs} frame pairs held enough trackable texture to be measured, too few to tell whether "
                "the camera moves: no clear pan, tilt, roll, zoom or travel can be read from so little.")
    out = [
        f"Tracked points across {frames} sampled frames over {span:.1f} s.",
        f"Background displacement over the clip: {_dir(cues.content_dx, cues.content_dy)} "
        f"(median speed {cues.motion * 100:.2f}% of the frame width per second, shake {cues.shake * 100:.2f}% "
        "of the frame per frame pair).",
    ]
    if cues.parallax_share >= 0.5:
        out.append(
            f"Parallax is present in {cues.parallax_share * 100:.0f}% of frame pairs: near and far points move "
            f"differently (residual {cues.parallax_ratio:.2f} of the motion against a single homography)."
        )
    else:
        out.append(
            f"Parallax is absent in {100 - cues.parallax_share * 100:.0f}% of frame pairs: all depths move alike "
            f"(residual {cues.parallax_ratio:.2f} of the motion against a single homography)."
        )
    if primitives.get("Static"):
        out.append("The camera is still: the background displacement is within noise.")
    elif not any(primitives.get(p) for p in PRIMITIVES if p != "Static"):
        out.append("The camera is not still, yet no direction of motion stands out of the noise.")
    else:
        out.append("The camera is not still.")
    for family in _FAMILY_TEXT:
        sentence = _family_sentence(family, cues, primitives)
        if sentence:
            out.append(sentence)
    if moving_share >= 0.05:
        out.append(f"{moving_share * 100:.0f}% of tracked points move on their own and are left out.")
    if cues.overlay_share >= 0.3:  # a pair or two of a short shot may be chance
        out.append(
            f"Text or a logo fixed on the frame stays put while the scene moves in {cues.overlay_share * 100:.0f}% "
            "of frame pairs; it is left out."
        )
    if cues.conflict:
        out.append(
            f"The evidence conflicts: a moving subject covers much of the frame (no motion layer dominates in "
            f"{cues.conflict_share * 100:.0f}% of frame pairs), so every reading here is uncertain."
        )
    if cues.local_weight > 0.0 and not primitives.get("Static"):
        out.append(
            f"The motion is seen on part of the frame only: in {cues.local_share * 100:.0f}% of frame pairs the "
            "tracked points that carry it reach less than half of the frame, the rest too plain or dark to track; "
            "a figure filling a still shot could move the same way, so "
            + ("every motion reading here is uncertain." if cues.local_weight >= 1.0 else
               "the motion scores here are lowered.")
        )
    return " ".join(out)


def _why(primitive: str, cues: ClipCues) -> str:
    """The reason for ``primitive``; with parallax in the clip, a rotation or zoom is not said to
    lack it (the parallax then belongs to a translation alongside)."""
    why = _WHY[primitive]
    if cues.parallax_share >= 0.5 and not primitive.startswith("Move_"):
        for claim in (" with all depths moving alike", " with no parallax", " no parallax,"):
            why = why.replace(claim, "")
    return why


def think_text(primitives: dict[str, bool], scores: dict[str, float], cues: ClipCues) -> str:
    """Reasoning from the cues to the primitives that hold."""
    held = [p for p in PRIMITIVES if p != "Static" and primitives.get(p)]
    if not cues.measured:
        return ("Most frame pairs could not be measured, so the cues are too thin to read: every primitive "
                "keeps its prior probability and none holds.")
    if primitives.get("Static"):
        return (
            f"The background barely moves ({cues.fitted_motion * 100:.2f}% of the frame per second as the camera "
            f"model moves it) and shake is "
            f"{cues.shake * 100:.2f}%, so the camera is completely still (confidence {scores['Static']:.2f}); "
            "whatever moves belongs to the scene."
        )
    if not held:
        return (
            f"The background moves ({cues.motion * 100:.2f}% of the frame per second) but no direction "
            "dominates: shake without a clear pan, tilt, roll, zoom or travel. So the camera is not still, "
            "and no primitive holds."
        )
    lines = [f"{p}: {_why(p, cues)} (confidence {scores[p]:.2f})." for p in held]
    lines.append(f"So the camera motion is {', '.join(held)}.")
    return " ".join(lines)


def question_think(base: str, asked: str, verdict: bool, score: float) -> str:
    """The think block for a binary question about ``asked``."""
    word = "Yes" if verdict else "No"
    return f"{base} The question asks about {asked}: it {'holds' if verdict else 'does not hold'} (P(Yes) = {score:.2f}), so {word}."
