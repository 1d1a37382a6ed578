"""The 15 camera primitives, their questions, opposites and option letters (conventions.md in code).

Directions are the camera operator's. Camera axes: x right, y down, z forward (optical axis).
"""

from __future__ import annotations

import re
import string

PRIMITIVES: tuple[str, ...] = (
    "Static",
    "Move_In",
    "Move_Out",
    "Move_Left",
    "Move_Right",
    "Move_Up",
    "Move_Down",
    "Pan_Left",
    "Pan_Right",
    "Tilt_Up",
    "Tilt_Down",
    "Roll_Clockwise",
    "Roll_Counterclockwise",
    "Zoom_In",
    "Zoom_Out",
)

QUESTIONS: dict[str, str] = {
    "Static": "Is the camera completely still without any motion or shaking?",
    "Move_In": "Does the camera move forward (not zooming in) with respect to the initial frame?",
    "Move_Out": "Does the camera move backward (not zooming out) with respect to the initial frame?",
    "Move_Left": "Does the camera move leftward in the scene?",
    "Move_Right": "Does the camera move rightward in the scene?",
    "Move_Up": "Does the camera move upward (not tilting up) with respect to the initial frame?",
    "Move_Down": "Does the camera move downward (not tilting down) with respect to the initial frame?",
    "Pan_Left": "Does the camera pan to the left?",
    "Pan_Right": "Does the camera pan to the right?",
    "Tilt_Up": "Does the camera tilt upward?",
    "Tilt_Down": "Does the camera tilt downward?",
    "Roll_Clockwise": "Does the camera roll clockwise?",
    "Roll_Counterclockwise": "Does the camera roll counterclockwise?",
    "Zoom_In": "Does the camera zoom in?",
    "Zoom_Out": "Does the camera zoom out?",
}

QUESTION_TO_PRIMITIVE: dict[str, str] = {q: p for p, q in QUESTIONS.items()}

OPPOSITES: dict[str, str] = {
    "Move_In": "Move_Out",
    "Move_Out": "Move_In",
    "Move_Left": "Move_Right",
    "Move_Right": "Move_Left",
    "Move_Up": "Move_Down",
    "Move_Down": "Move_Up",
    "Pan_Left": "Pan_Right",
    "Pan_Right": "Pan_Left",
    "Tilt_Up": "Tilt_Down",
    "Tilt_Down": "Tilt_Up",
    "Roll_Clockwise": "Roll_Counterclockwise",
    "Roll_Counterclockwise": "Roll_Clockwise",
    "Zoom_In": "Zoom_Out",
    "Zoom_Out": "Zoom_In",
}

# Pairs that look alike on screen and are told apart only by parallax (or its absence).
CONFUSABLE_PAIRS: tuple[tuple[str, str], ...] = (
    ("Pan_Left", "Move_Left"),
    ("Pan_Right", "Move_Right"),
    ("Tilt_Up", "Move_Up"),
    ("Tilt_Down", "Move_Down"),
    ("Zoom_In", "Move_In"),
    ("Zoom_Out", "Move_Out"),
)

# Families: each is one degree of freedom with two signs.
FAMILIES: dict[str, tuple[str, str]] = {
    "dolly": ("Move_In", "Move_Out"),
    "truck": ("Move_Left", "Move_Right"),
    "pedestal": ("Move_Up", "Move_Down"),
    "pan": ("Pan_Left", "Pan_Right"),
    "tilt": ("Tilt_Up", "Tilt_Down"),
    "roll": ("Roll_Clockwise", "Roll_Counterclockwise"),
    "zoom": ("Zoom_In", "Zoom_Out"),
}

BINARY_OPTIONS: tuple[str, str] = ("A. No", "B. Yes")
YES_LETTER = "B"
NO_LETTER = "A"
LETTERS = string.ascii_uppercase

_PROBLEM_ID_SUFFIX = re.compile(r"_\d+$")


def primitive_from_problem_id(problem_id: str) -> str | None:
    """The primitive of a binary item: its ``problem_id`` without the trailing ``_<number>``."""
    name = _PROBLEM_ID_SUFFIX.sub("", problem_id)
    return name if name in QUESTIONS else None


def compatible(primitives: set[str] | list[str] | tuple[str, ...]) -> bool:
    """Whether a set of primitives can hold at once (no opposites; Static stands alone)."""
    chosen = set(primitives)
    if "Static" in chosen and len(chosen) > 1:
        return False
    return not any(OPPOSITES.get(p) in chosen for p in chosen)


def option_letter(index: int) -> str:
    """The letter of the option at ``index`` (0 -> 'A')."""
    return LETTERS[index]


def split_option(option: str) -> tuple[str, str]:
    """Split ``"B. Yes"`` into ``("B", "Yes")``; an option without a letter prefix raises ValueError."""
    match = re.match(r"^\s*([A-Z])\s*[.)::]\s*(.*)$", option, flags=re.S)
    if not match:
        raise ValueError(f"option {option!r} does not start with a letter such as 'A.'")
    return match.group(1), match.group(2).strip()


def format_options(texts: list[str] | tuple[str, ...]) -> list[str]:
    """Prefix option texts with letters: ``["No", "Yes"] -> ["A. No", "B. Yes"]``."""
    return [f"{option_letter(i)}. {t}" for i, t in enumerate(texts)]


def answer_string(primitives: dict[str, bool | None]) -> str:
    """The primitives that hold, in canonical order (``"Move_In, Pan_Left"``), or ``"Static"``.

    A clip where nothing holds and Static is false (shake without a direction) reads ``"None"``.
    """
    held = [p for p in PRIMITIVES if p != "Static" and primitives.get(p)]
    if held:
        return ", ".join(held)
    return "None" if primitives.get("Static") is False else "Static"


def skill_of(problem_id: str) -> str:
    """The skill of a VQA item: its ``problem_id`` without the trailing ``_<number>``."""
    return re.sub(r"_\d+$", "", problem_id)
