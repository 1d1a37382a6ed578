"""Words from measurements: the <observation> and <think> blocks of the geometric observer."""

from __future__ import annotations

from camreasoner.geometry.cues import ClipCues
from camreasoner.taxonomy import PRIMITIVES

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
        parts.append(f"{'right' if dx > 0 else 'left'} by {_pct(dx)} of the frame width")
    if abs(dy) >= 0.005:
        parts.append(f"{'down' if dy > 0 else 'up'} by {_pct(dy)} of the frame height")
    return " and ".join(parts) if parts else "by less than 0.5% of the frame"


def observation_text(cues: ClipCues, frames: int, span: float, moving_share: float) -> str:
    """The measured cues in words with numbers."""
    out = [
        f"Tracked points across {frames} sampled frames over {span:.1f} s.",
        f"The background moves {_dir(cues.content_dx, cues.content_dy)} over the clip "
        f"(median speed {cues.motion * 100:.2f}% of the frame width per second).",
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
    if abs(cues.zoom_pct) >= 0.5:
        out.append(f"Uniform {'magnification' if cues.zoom_pct > 0 else 'shrinking'} of {abs(cues.zoom_pct):.1f}%.")
    if abs(cues.dolly) >= 0.003:
        foe = ""
        if cues.foe_x is not None and cues.foe_y is not None:
            foe = f" from a focus of expansion at ({cues.foe_x:.2f}, {cues.foe_y:.2f}) of the frame"
        word = "Expansion" if cues.dolly > 0 else "Contraction"
        out.append(f"{word} with parallax{foe}, {_pct(cues.dolly)} of the frame.")
    if abs(cues.roll_deg) >= 0.3:
        way = "counter-clockwise" if cues.roll_deg > 0 else "clockwise"
        out.append(f"The image rotates {abs(cues.roll_deg):.1f} degrees {way} on screen.")
    rot = []
    if abs(cues.pan_deg) >= 0.3:
        rot.append(f"pan {abs(cues.pan_deg):.1f} degrees {'right' if cues.pan_deg > 0 else 'left'}")
    if abs(cues.tilt_deg) >= 0.3:
        rot.append(f"tilt {abs(cues.tilt_deg):.1f} degrees {'up' if cues.tilt_deg > 0 else 'down'}")
    if rot:
        out.append("Camera rotation estimated: " + ", ".join(rot) + ".")
    trans = []
    for cue, pos, neg in (("truck", "right", "left"), ("pedestal", "up", "down"), ("dolly", "forward", "backward")):
        value = getattr(cues, cue)
        if abs(value) >= 0.003:
            trans.append(f"{pos if value > 0 else neg} {_pct(value)}")
    if trans:
        out.append("Camera translation estimated (as image motion): " + ", ".join(trans) + ".")
    out.append(f"Shake {cues.shake * 100:.2f}% of the frame per frame pair.")
    if moving_share >= 0.05:
        out.append(f"{moving_share * 100:.0f}% of tracked points move on their own and are left out.")
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
    if primitives.get("Static"):
        return (
            f"The background barely moves ({cues.motion * 100:.2f}% of the frame per second) and shake is "
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
