"""Map a question and its options to camera primitives, for ``camreasoner ask`` and the backend.

Binary questions (options ``A. No`` / ``B. Yes``, or none) map to the one primitive they ask about;
multiple-choice options each map to the set of primitives they name ("Pan left", "Dolly in and
zoom out", "The camera is static").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import (
    BINARY_OPTIONS,
    FAMILIES,
    PRIMITIVES,
    QUESTION_TO_PRIMITIVE,
    split_option,
)
from camreasoner.qa.vqa import OTHERS, probabilities_from_conditions

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
    (r"\b(mov\w*|truck\w*|track\w*|travel\w*|slid\w*)\s+(to\s+(the|its)\s+)?(left|leftward|leftwards)\b", "Move_Left"),
    (r"\b(mov\w*|truck\w*|track\w*|travel\w*|slid\w*)\s+(to\s+(the|its)\s+)?(right|rightward|rightwards)\b",
     "Move_Right"),
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


# "At least one other motion (than the option's target) holds": a condition key beside primitives.

# A family named by its axis rather than a verb ("move sideways", "forward or backward").
_AXIS_WORDS: tuple[tuple[str, str], ...] = (
    (r"\b(viewing direction|forward or backward|backward or forward|in or out)\b", "dolly"),
    (r"\b(sideways|left or right|right or left)\b", "truck"),
    (r"\b(vertically|up or down|down or up)\b", "pedestal"),
)
# family -> ((direction words of its first primitive), (of its second)), as in taxonomy.FAMILIES.
_DIRECTIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dolly": (("forward", "forwards", "in", "closer"), ("backward", "backwards", "out", "back", "away")),
    "truck": (("left", "leftward", "leftwards"), ("right", "rightward", "rightwards")),
    "pedestal": (("up", "upward", "upwards"), ("down", "downward", "downwards")),
    "pan": (("left",), ("right",)),
    "tilt": (("up", "upward", "upwards"), ("down", "downward", "downwards")),
    "roll": (("clockwise",), ("counterclockwise", "anticlockwise")),
    "zoom": (("in",), ("out",)),
}
_NEGATION = re.compile(r"^(it\s+|the camera\s+)?(does not|doesn't|do not|did not|is not|no)\b")
_BUT_NOT = re.compile(r"\bbut\s+(does not|doesn't|do not|not)\b")


def _norm(text: str) -> str:
    low = " ".join(text.lower().replace("-", " ").split()).rstrip(".?!")
    low = low.replace("counter clockwise", "counterclockwise").replace("anti clockwise", "anticlockwise")
    return re.sub(r"\s*\(.*?\)", "", low)


def family_in_text(text: str) -> str | None:
    """The one motion family a phrase names without a direction ("move sideways" -> truck), or None."""
    low = _norm(text)
    found = {fam for pattern, fam in _AXIS_WORDS if re.search(pattern, low)}
    for pattern, pair in _FAMILY_WORDS:
        if re.search(pattern, low):
            found.add(next(f for f, prims in FAMILIES.items() if prims == pair))
    return found.pop() if len(found) == 1 else None


def _direction(text: str, family: str | None) -> set[str]:
    """A bare direction ("Left", "To its right", "Counterclockwise") read in the question's family."""
    if family is None:
        return set()
    words = set(re.findall(r"[a-z]+", _norm(text)))
    return {prim for prim, dirs in zip(FAMILIES[family], _DIRECTIONS[family], strict=True) if words & set(dirs)}


@dataclass(frozen=True)
class _Parsed:
    positive: frozenset[str]
    negative: frozenset[str]
    others: bool | None  # True: "together with another motion"; False: "and no other motion"
    plain: bool  # names motions only (no negation, both/neither, others)


def _parse_option(text: str, asked: frozenset[str], family: str | None) -> _Parsed:
    low = _norm(text)
    if re.search(r"\b(does|do) both\b|^both\b", low):
        return _Parsed(asked, frozenset(), None, False)
    if re.search(r"\b(does|do) neither\b|^neither\b", low):
        return _Parsed(frozenset(), asked, None, False)
    others = None
    if re.search(r"\bno other (camera )?motion|\bonly\b", low):
        others = False
    elif re.search(r"\b(at least one )?other (camera )?motion|\btogether with\b", low):
        others = True
    low = re.sub(r"\b(and makes no|together with at least one|together with) other (camera )?motions?\b", " ", low)
    head, neg_part = low, ""
    split = _BUT_NOT.split(low, maxsplit=1)
    if len(split) > 1:
        head, neg_part = split[0], split[-1]
    elif _NEGATION.match(low):
        head, neg_part = "", _NEGATION.sub(" ", low, count=1)
    pos = primitives_in_text(head) if head.strip() else set()
    if head.strip() and not pos:
        pos = _direction(head, family)
    neg: set[str] = set()
    if neg_part.strip():
        neg = primitives_in_text(neg_part) or _direction(neg_part, family)
        fam = family_in_text(neg_part)
        if fam and (not neg or " or " in neg_part):
            neg = set(FAMILIES[fam])
    return _Parsed(frozenset(pos), frozenset(neg), others, not neg and others is None and not neg_part)


@dataclass(frozen=True)
class QuestionMapping:
    """``binary``: the Yes letter's primitives are asked about (one, or both signs of a motion named
    without a direction: Yes if either holds); ``primitive`` is set when one. Otherwise ``options``
    maps each letter to the primitives its option names as holding.

    ``conditions``: per letter, the primitive values that make that option right (``OTHERS`` as a
    key: at least one motion other than ``target`` holds), e.g. ``"It pans right but does not move
    to its right"`` -> ``{"Pan_Right": True, "Move_Right": False}``; for options that only name
    motions, every motion named by any option is False unless the option names it.
    """

    binary: bool
    primitive: str | None
    options: dict[str, frozenset[str]]
    conditions: dict[str, dict[str, bool]] = field(default_factory=dict)
    target: str | None = None


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
        return QuestionMapping(True, single, {yes_letter: asked, no_letter: frozenset()},
                               {yes_letter: {p: True for p in sorted(asked)},
                                no_letter: {p: False for p in sorted(asked)}},
                               single)
    asked_q = frozenset(primitives_in_text(question))
    family = family_in_text(question)
    options_parsed = {letter: _parse_option(text, asked_q, family) for letter, text in parsed}
    unmapped = [f"{letter}. {text}" for letter, text in parsed
                if not (options_parsed[letter].positive or options_parsed[letter].negative)]
    if unmapped:
        raise CamReasonerError(
            f"cannot map option {unmapped[0]!r} to camera primitives (name a pan, tilt, roll, zoom, "
            "move or static)"
        )
    mentioned = set().union(*(o.positive for o in options_parsed.values() if o.plain))
    targets = {p for o in options_parsed.values() if o.others is not None for p in o.positive}
    target = next(iter(targets)) if len(targets) == 1 else None
    conditions: dict[str, dict[str, bool]] = {}
    for letter, o in options_parsed.items():
        if o.plain:
            cond = {p: p in o.positive for p in sorted(mentioned)}
        else:
            cond = {**{p: True for p in sorted(o.positive)}, **{p: False for p in sorted(o.negative)}}
            if o.others is False:
                cond.update({p: False for p in PRIMITIVES if p != "Static" and p not in o.positive})
            elif o.others is True:
                cond[OTHERS] = True
        conditions[letter] = cond
    return QuestionMapping(False, None, {k: o.positive for k, o in options_parsed.items()}, conditions, target)


def conditions_hold(cond: dict[str, bool], primitives: dict[str, bool], target: str | None = None) -> bool:
    """Whether the decided ``primitives`` meet an option's conditions (see QuestionMapping)."""
    for key, want in cond.items():
        value = (any(primitives.get(p, False) for p in PRIMITIVES if p not in ("Static", target))
                 if key == OTHERS else bool(primitives.get(key, False)))
        if value != want:
            return False
    return True


def option_probabilities(mapping: QuestionMapping, scores: dict[str, float]) -> dict[str, float]:
    """P(each option is right) from independent per-primitive P(Yes) ``scores``, normalised."""
    return probabilities_from_conditions(mapping.conditions, mapping.target, scores)


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
