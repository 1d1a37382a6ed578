"""A shot's label in Open-Sora's camera-motion vocabulary (the ``cmotion`` column of its tagger).

Open-Sora's tagger reads image motion, so a translation is named by its look-alike: content sliding
right is ``pan left`` whether the camera panned or trucked, expansion is ``zoom in`` whether it
zoomed or dollied. One motion gives its name; only pans and tilts together give ``pan/tilt``; any
other mix (or a roll) gives ``dynamic``; nothing held, not static either, gives ``unknown``.
"""

from __future__ import annotations

CMOTION_VOCABULARY = ("static", "pan left", "pan right", "tilt up", "tilt down", "zoom in", "zoom out",
                      "pan/tilt", "dynamic", "unknown")
LOOKS_LIKE: dict[str, str] = {
    "Pan_Left": "pan left", "Move_Left": "pan left", "Pan_Right": "pan right", "Move_Right": "pan right",
    "Tilt_Up": "tilt up", "Move_Up": "tilt up", "Tilt_Down": "tilt down", "Move_Down": "tilt down",
    "Zoom_In": "zoom in", "Move_In": "zoom in", "Zoom_Out": "zoom out", "Move_Out": "zoom out",
    "Roll_Clockwise": "dynamic", "Roll_Counterclockwise": "dynamic",
}


def cmotion(primitives: dict[str, bool | None]) -> str:
    """Open-Sora's label for a shot's primitives (True held, False/None not)."""
    if primitives.get("Static"):
        return "static"
    names = {LOOKS_LIKE[p] for p, v in primitives.items() if v and p in LOOKS_LIKE}
    if not names:
        return "unknown"
    if len(names) == 1:
        return names.pop()
    if names <= {"pan left", "pan right", "tilt up", "tilt down"}:
        return "pan/tilt"
    return "dynamic"
