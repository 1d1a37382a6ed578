"""Map a question and its options to camera primitives, for ``camreasoner ask`` and the backend.

Binary questions (options ``A. No`` / ``B. Yes``, or none) map to the one primitive they ask about;
multiple-choice options each map to the set of primitives they name ("Pan left", "Dolly in and
zoom out", "The camera is static").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from camreasoner.errors import CamReasonerError
from camreasoner.taxonomy import BINARY_OPTIONS, QUESTION_TO_PRIMITIVE, split_option

# (pattern, primitive); patterns run on lower-cased text. Order matters only for readability.
_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\b(static|still|stationary|no (camera )?motion|not mov\w*|fixed camera|motionless)\b", "Static"),
    (r"\bpan\w*\s+(to\s+the\s+)?left", "Pan_Left"),
    (r"\bpan\w*\s+(to\s+the\s+)?right", "Pan_Right"),
    (r"\btilt\w*\s+(up|upward|upwards)\b", "Tilt_Up"),
    (r"\btilt\w*\s+(down|downward|downwards)\b", "Tilt_Down"),
    (r"\broll\w*\s+(counter[- ]?clockwise|anti[- ]?clockwise)", "Roll_Counterclockwise"),
    (r"\broll\w*\s+clockwise", "Roll_Clockwise"),
    (r"\bzoom\w*\s+in\b", "Zoom_In"),
    (r"\bzoom\w*\s+out\b", "Zoom_Out"),
    (r"\b(mov\w*|dolly\w*|push\w*|travel\w*|track\w*)\s+(in|forward|forwards|closer)\b", "Move_In"),
    (r"\b(mov\w*|dolly\w*|pull\w*|travel\w*|track\w*)\s+(out|backward|backwards|back|away)\b", "Move_Out"),
    (r"\b(mov\w*|truck\w*|track\w*|travel\w*|slid\w*)\s+(to\s+the\s+)?(left|leftward|leftwards)\b", "Move_Left"),
    (r"\b(mov\w*|truck\w*|track\w*|travel\w*|slid\w*)\s+(to\s+the\s+)?(right|rightward|rightwards)\b", "Move_Right"),
    (r"\b(mov\w*|pedestal\w*|crane\w*|boom\w*|rais\w*|ris\w*|lift\w*)\s+(up|upward|upwards)\b", "Move_Up"),
    (r"\b(mov\w*|pedestal\w*|crane\w*|boom\w*|lower\w*|descend\w*)\s+(down|downward|downwards)\b", "Move_Down"),
    (r"\bdolly\w*\s+in\b", "Move_In"),
    (r"\bdolly\w*\s+out\b", "Move_Out"),
)
# A motion named without a direction ("Does the camera pan?") asks about either sign.
_FAMILY_WORDS: tuple[tuple[str, tuple[str, str]], ...] = (
    (r"\bpan(s|ning|ned)?\b", ("Pan_Left", "Pan_Right")),
    (r"\btilt(s|ing|ed)?\b", ("Tilt_Up", "Tilt_Down")),
    (r"\broll(s|ing|ed)?\b", ("Roll_Clockwise", "Roll_Counterclockwise")),
    (r"\bzoom(s|ing|ed)?\b", ("Zoom_In", "Zoom_Out")),
    (r"\bdolly(ing)?\b", ("Move_In", "Move_Out")),
    (r"\btruck(s|ing|ed)?\b", ("Move_Left", "Move_Right")),
    (r"\bpedestal(s|ing|ed)?\b", ("Move_Up", "Move_Down")),
)
_NEGATED = re.compile(r"\b(not|no)\s+(zoom|tilt|pan|roll)\w*\s+(in|out|up|down|left|right)\b")


def primitives_in_text(text: str) -> set[str]:
    """The primitives a phrase names ("The camera pans left and zooms in" -> Pan_Left, Zoom_In)."""
    low = " ".join(text.lower().replace("-", " ").split())
    low = low.replace("counter clockwise", "counterclockwise").replace("anti clockwise", "anticlockwise")
    low = _NEGATED.sub(" ", low)  # "(not zooming in)" qualifies, it does not ask
    low = re.sub(r"\(.*?\)", " ", low)
    found = {name for pattern, name in _PATTERNS if re.search(pattern, low)}
    if "Roll_Counterclockwise" in found and not re.search(r"(?<!counter)(?<!anti)clockwise", low):
        found.discard("Roll_Clockwise")
    return found


@dataclass(frozen=True)
class QuestionMapping:
    """``binary``: the Yes letter's primitives are asked about (one, or both signs of a motion named
    without a direction: Yes if either holds); ``primitive`` is set when one. Otherwise ``options``
    maps each letter to the primitives its option names."""

    binary: bool
    primitive: str | None
    options: dict[str, frozenset[str]]


def map_question(question: str, options: list[str] | tuple[str, ...] | None = None) -> QuestionMapping:
    """Map ``question`` with lettered ``options`` to primitives; a clear error when it cannot."""
    opts = list(options) if options else list(BINARY_OPTIONS)
    try:
        parsed = [split_option(o) for o in opts]
    except ValueError as exc:
        raise CamReasonerError(f"options: {exc}") from None
    texts = [t.strip().rstrip(".").lower() for _, t in parsed]
    if len(opts) == 2 and texts in (["no", "yes"], ["yes", "no"]):
        asked = _asked(question)
        yes_letter = parsed[texts.index("yes")][0]
        no_letter = parsed[texts.index("no")][0]
        single = next(iter(asked)) if len(asked) == 1 else None
        return QuestionMapping(True, single, {yes_letter: asked, no_letter: frozenset()})
    mapped = {letter: frozenset(primitives_in_text(text)) for letter, text in parsed}
    unmapped = [f"{letter}. {text}" for letter, text in parsed if not mapped[letter]]
    if unmapped:
        raise CamReasonerError(
            f"cannot map option {unmapped[0]!r} to camera primitives (name a pan, tilt, roll, zoom, "
            "move or static)"
        )
    return QuestionMapping(False, None, mapped)


def _asked(question: str) -> frozenset[str]:
    exact = QUESTION_TO_PRIMITIVE.get(question.strip())
    if exact:
        return frozenset([exact])
    found = primitives_in_text(question)
    if not found:
        low = re.sub(r"\(.*?\)", " ", question.lower())
        families = [pair for pattern, pair in _FAMILY_WORDS if re.search(pattern, low)]
        if len(families) == 1:
            return frozenset(families[0])
    if len(found) != 1:
        what = "no camera motion" if not found else f"several motions ({', '.join(sorted(found))})"
        raise CamReasonerError(f"cannot map question {question!r} to one camera motion: it names {what}")
    return frozenset(found)
