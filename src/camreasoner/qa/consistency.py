"""Does an ``<observation>`` agree with the measured camera motion?

:func:`parse_claims` reads what an observation claims, in free wording: camera motions ("the camera
pans left", "a slow dolly in", "no zoom", "it remains completely still") and what the image shows
("content slides right with no parallax" -> Pan_Left; "the scene expands" -> Zoom_In or Move_In).
A claim is a set of primitives of which at least one holds (or, negated, none holds).
:func:`check_observation` compares the claims with measured primitives: the score is the mean of the
share of claims that agree (precision) and the share of measured motions that an agreeing claim
names (recall); an observation that claims nothing checkable scores 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from camreasoner.core.taxonomy import PRIMITIVES


@dataclass(frozen=True)
class Claim:
    """At least one of ``primitives`` holds (``negated``: none of them holds). ``text``: the clause."""

    primitives: frozenset[str]
    negated: bool
    text: str


@dataclass
class ConsistencyResult:
    """``score`` in [0, 1]; ``contradictions``: one line per claim the measurements refute."""

    score: float
    contradictions: list[str]
    claims: list[Claim] = field(default_factory=list)
    precision: float = 0.0
    recall: float = 0.0


# Clause boundaries: sentence ends, parentheses, and connectives that start a new statement.
_CLAUSE_SPLIT = re.compile(
    r"(?<!\d)\.|\.(?!\d)|[;:!?\n()\[\]]|,\s*(?=(?:and|but|so|while|whereas|which|meaning|indicating|suggesting)\b)"
    r"|\b(?:and|but|while|whereas|so|hence|thus|because|although|though|meaning|indicating|"
    r"suggesting|which|whilst|then)\b",
    flags=re.I,
)
_NEGATION = re.compile(r"\b(?:no|not|never|neither|nor|without|none|absent|lacks?|n't)\b|n't\b", re.I)
_NEUTRAL_NEG = re.compile(
    r"\b(?:no|without|lacks?|absent|not\s+any)\s+(?:any\s+|strong\s+|visible\s+)?(?:parallax|shake|shaking|"
    r"other\s+motions?)\b",
    re.I,
)
_CAMERA_WORDS = re.compile(r"\b(?:camera|it|we|shot|view|viewpoint|lens)\b", re.I)
_IMAGE_SUBJECT = re.compile(
    r"\b(?:content|image|scene|objects?|background|foreground|everything|pixels?|features?|points?|"
    r"picture|frame|world|buildings?|trees?|people|flow|surroundings|view)\b",
    re.I,
)

_DIR = {
    "left": r"(?:to\s+(?:the|its)\s+)?left(?:ward|wards)?",
    "right": r"(?:to\s+(?:the|its)\s+)?right(?:ward|wards)?",
    "up": r"up(?:ward|wards)?",
    "down": r"down(?:ward|wards)?",
    "in": r"(?:in(?:ward|wards)?|forwards?|ahead|closer|toward(?:s)?\s+the\s+(?:scene|subject))",
    "out": r"(?:out(?:ward|wards)?|backwards?|back|away)",
    "cw": r"(?<!counter)(?<!counter-)(?<!counter\s)(?<!anti)(?<!anti-)clockwise",
    "ccw": r"(?:counter[-\s]?clockwise|anti[-\s]?clockwise)",
}
_DIR_RE = {k: re.compile(rf"\b{v}\b" if k not in ("cw",) else v, re.I) for k, v in _DIR.items()}

# Verb (or noun) families of camera motion.
_VERBS = {
    "pan": r"pan(?:s|ning|ned)?|yaw(?:s|ing|ed)?|swivel(?:s|ling|led|ing|ed)?",
    "tilt": r"tilt(?:s|ing|ed)?|pitch(?:es|ing|ed)?",
    "roll": r"roll(?:s|ing|ed)?|spin(?:s|ning)?|bank(?:s|ing|ed)?",
    "rotate": r"rotat(?:es|e|ing|ed|ion)|turn(?:s|ing|ed)?",
    "zoom": r"zoom(?:s|ing|ed)?",
    "move": (
        r"mov(?:es|e|ing|ed|ement)|travel(?:s|s|ling|ing|led|ed)?|translat(?:es|e|ing|ed|ion)|"
        r"truck(?:s|ing|ed)?|dolly(?:ing)?|dollies|dollied|track(?:s|ing|ed)?|slid(?:es|e|ing)|"
        r"shift(?:s|ing|ed)?|drift(?:s|ing|ed)?|pedestal(?:s|ing|ed)?|boom(?:s|ing|ed)?|"
        r"crane(?:s|d)?|craning|push(?:es|ing|ed)?|pull(?:s|ing|ed)?|glid(?:es|e|ing)|step(?:s|ping)?|"
        r"strafe(?:s|d)?|strafing|walk(?:s|ing)?|fl(?:y|ies|ying)|scroll(?:s|ing)?|flow(?:s|ing)?"
    ),
    "grow": (
        r"expand(?:s|ing)?|expansion|grow(?:s|ing)?|enlarg(?:es|e|ing)|magnif(?:ies|y|ying|ication)|"
        r"gets?\s+(?:larger|bigger)|appears?\s+(?:larger|bigger)|loom(?:s|ing)?"
    ),
    "shrink": (
        r"contract(?:s|ing)?|contraction|shrink(?:s|ing)?|gets?\s+smaller|appears?\s+smaller|"
        r"recede(?:s)?|receding"
    ),
}
_VERB_RE = re.compile("|".join(rf"(?P<{k}>\b(?:{v})\b)" for k, v in _VERBS.items()), re.I)
# Verbs that already carry their direction, by the stem every form of them starts with.
_SELF_DIRECTED = {
    "advanc": "in",
    "approach": "in",
    "retreat": "out",
    "ris": "up",
    "ascend": "up",
    "descend": "down",
    "lower": "down",
}
_SELF_RE = re.compile(
    r"\b(advanc(?:es|e|ing)|approach(?:es|ing)?|retreat(?:s|ing)?|ris(?:es|e|ing)|"
    r"ascend(?:s|ing)?|descend(?:s|ing)?|lower(?:s|ing)?)\b",
    re.I,
)
_STATIC_RE = re.compile(
    r"(?:\b(?:is|isn't|remains?|stays?|appears?|held|kept|seems?|being|looks?)\s+(?:not\s+)?(?:completely\s+|perfectly\s+|"
    r"entirely\s+|totally\s+|fully\s+)?(?:still|static|stationary|motionless|fixed|locked)|"
    r"\bstatic\s+(?:camera|shot)|\b(?:barely|hardly|scarcely)\s+moves?|\b(?:almost\s+no|negligible)\s+motion|"
    r"\bmoves?\s+by\s+less\s+than\s+0\.5|\blocked[-\s]off|"
    r"\b(?:no|zero)\s+(?:camera\s+)?(?:motion|movement)(?:\s+at\s+all)?|"
    r"(?:\bnot|n't|\bnever)\s+mov(?:e|es|ing)\s+at\s+all)\b",
    re.I,
)
_NO_PARALLAX = re.compile(
    r"\b(?:no|without|lacks?|absent)\s+(?:any\s+)?parallax|all\s+depths\s+alike|same\s+(?:speed|rate|amount)|"
    r"uniform(?:ly)?|rigidly|regardless\s+of\s+depth",
    re.I,
)
_PARALLAX = re.compile(
    r"\bparallax\b|near(?:er|by)?\s+(?:things|objects|points|parts)\s+\w+\s+(?:more|faster)|"
    r"depth[-\s]dependent|focus\s+of\s+expansion",
    re.I,
)
_FOCAL = re.compile(r"\bfocal\s+length\s+(increases|grows|lengthens|decreases|shrinks|shortens)", re.I)

_CAMERA_MAP = {
    ("pan", "left"): "Pan_Left",
    ("pan", "right"): "Pan_Right",
    ("pan", "up"): "Tilt_Up",
    ("pan", "down"): "Tilt_Down",
    ("tilt", "up"): "Tilt_Up",
    ("tilt", "down"): "Tilt_Down",
    ("roll", "cw"): "Roll_Clockwise",
    ("roll", "ccw"): "Roll_Counterclockwise",
    ("rotate", "left"): "Pan_Left",
    ("rotate", "right"): "Pan_Right",
    ("rotate", "up"): "Tilt_Up",
    ("rotate", "down"): "Tilt_Down",
    ("rotate", "cw"): "Roll_Clockwise",
    ("rotate", "ccw"): "Roll_Counterclockwise",
    ("zoom", "in"): "Zoom_In",
    ("zoom", "out"): "Zoom_Out",
    ("move", "in"): "Move_In",
    ("move", "out"): "Move_Out",
    ("move", "left"): "Move_Left",
    ("move", "right"): "Move_Right",
    ("move", "up"): "Move_Up",
    ("move", "down"): "Move_Down",
}
# What the image shows -> the camera motions that cause it (rotation or zoom first, translation second).
_IMAGE_MAP = {
    "right": ("Pan_Left", "Move_Left"),
    "left": ("Pan_Right", "Move_Right"),
    "down": ("Tilt_Up", "Move_Up"),
    "up": ("Tilt_Down", "Move_Down"),
    "grow": ("Zoom_In", "Move_In"),
    "shrink": ("Zoom_Out", "Move_Out"),
    "cw": ("Roll_Counterclockwise",),
    "ccw": ("Roll_Clockwise",),
}
# Family-wide denials: "no zoom", "does not pan".
_FAMILY_OF_VERB = {
    "pan": ("Pan_Left", "Pan_Right"),
    "tilt": ("Tilt_Up", "Tilt_Down"),
    "roll": ("Roll_Clockwise", "Roll_Counterclockwise"),
    "zoom": ("Zoom_In", "Zoom_Out"),
}


def _direction_after(text: str, start: int, window: int = 4) -> tuple[str | None, int]:
    """The first direction word within ``window`` words after ``start`` (and where it ends)."""
    words = list(re.finditer(r"\S+", text[start:]))[:window]
    if not words:
        return None, start
    limit = start + words[-1].end()
    next_verb = _VERB_RE.search(text, start, limit)
    if next_verb:  # "pans, then dollies in": the direction belongs to the next verb
        limit = next_verb.start()
    best: tuple[int, str, int] | None = None
    for name, rx in _DIR_RE.items():
        m = rx.search(text, start, limit)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name, m.end())
    if best is None:
        return None, start
    return best[1], best[2]


def _direction_before(text: str, end: int) -> str | None:
    """A direction word right before a noun ("a leftward pan", "clockwise roll", "a dolly-in")."""
    before = text[max(0, end - 30) : end]
    m = re.search(r"(\S+)\s*[-\s]?\s*$", before)
    if not m:
        return None
    word = m.group(1).lower()
    if word.endswith((",", ";")):
        return None  # "zoom in, travel to the left": the word belongs to the previous item
    for name, rx in _DIR_RE.items():
        if rx.fullmatch(word):
            return name
    return None


def _clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c and c.strip()]


# Verb families that a bare denial ("does not pan", "no zoom", "it does not move") denies as a whole.
_ALL_MOVES = ("Move_In", "Move_Out", "Move_Left", "Move_Right", "Move_Up", "Move_Down")
# Verbs whose image motion names its direction ("content slides right"), as opposed to grow/shrink.
_IMAGE_VERBS = frozenset({"move", "pan", "rotate", "roll"})


@dataclass(frozen=True)
class _Clause:
    """One clause and the cues that apply to every motion word in it."""

    text: str
    unneg: str  # the clause with neutral denials ("no parallax") blanked out
    no_parallax: bool
    parallax: bool
    image_level: bool  # about what the image shows, not what the camera does

    @classmethod
    def read(cls, clause: str) -> _Clause:
        no_parallax = bool(_NO_PARALLAX.search(clause))
        return cls(
            text=clause,
            unneg=_NEUTRAL_NEG.sub(lambda m: " " * len(m.group(0)), clause),
            no_parallax=no_parallax,
            parallax=bool(_PARALLAX.search(clause)) and not no_parallax,
            image_level=bool(_IMAGE_SUBJECT.search(clause)) and not re.search(r"\bcamera\b", clause, re.I),
        )

    def negated_before(self, pos: int) -> bool:
        """A negation reaches back through the clause (up to 30 words before ``pos``)."""
        words = list(re.finditer(r"\S+", self.unneg[:pos]))[-30:]
        start = words[0].start() if words else pos
        return bool(_NEGATION.search(self.unneg, start, pos))

    def claim(self, prims: tuple[str, ...], negated: bool) -> list[Claim]:
        """``[Claim]``, or ``[]`` when ``prims`` is empty."""
        return [Claim(frozenset(prims), negated, self.text)] if prims else []

    def image_claim(self, prims: tuple[str, ...], negated: bool) -> list[Claim]:
        """A claim about image motion, narrowed by the clause's parallax cue."""
        return self.claim(_narrow(prims, self.no_parallax, self.parallax), negated)


def _static_claims(c: _Clause) -> list[Claim] | None:
    """The clause's claim about a still camera, or None when it says nothing about one."""
    static = _STATIC_RE.search(c.text)
    if not static:
        return None
    phrase = static.group(0).lower()
    denies_motion = phrase.startswith(("no ", "zero ")) or "at all" in phrase
    return c.claim(("Static",), c.negated_before(static.end()) and not denies_motion)


def _focal_claims(c: _Clause) -> list[Claim]:
    """Zoom_In when "the focal length increases", Zoom_Out when it "decreases"."""
    focal = _FOCAL.search(c.text)
    if not focal:
        return []
    grows = focal.group(1).lower() in ("increases", "grows", "lengthens")
    return c.claim(("Zoom_In" if grows else "Zoom_Out",), c.negated_before(focal.start()))


def _verb_direction(c: _Clause, m: re.Match[str], kind: str) -> str | None:
    """The direction a motion word goes with: a word before a bare noun ("a leftward pan"), else the
    first direction after it ("pans to the left"), else one before it."""
    word = m.group(0).lower()
    bare = not re.search(r"(?:s|ing|ed)$", word) or word in ("dollies", "pitches")
    before = _direction_before(c.text, m.start()) if bare else None
    if before is not None and (c.image_level or (kind, before) in _CAMERA_MAP):
        return before
    after, _ = _direction_after(c.text, m.end())
    if after is None or ((kind, after) not in _CAMERA_MAP and not c.image_level):
        return _direction_before(c.text, m.start()) or after
    return after


def _family_denial(m: re.Match[str], kind: str) -> tuple[str, ...]:
    """What a denied motion word without a direction denies: its whole family ("no zoom")."""
    if kind in _FAMILY_OF_VERB:
        return _FAMILY_OF_VERB[kind]
    if kind == "move" and re.match(r"mov", m.group(0), re.I):
        return _ALL_MOVES
    return ()


def _verb_claims(c: _Clause, m: re.Match[str]) -> list[Claim]:
    """The claim one motion word makes."""
    kind = m.lastgroup or ""
    neg = c.negated_before(m.start())
    if kind in ("grow", "shrink"):  # expansion and contraction are always image motion
        return c.image_claim(_IMAGE_MAP[kind], neg)
    direction = _verb_direction(c, m, kind)
    if c.image_level:
        if kind in _IMAGE_VERBS and direction in _IMAGE_MAP:
            return c.image_claim(_IMAGE_MAP[direction], neg)
        return []
    if direction is None:
        return c.claim(_family_denial(m, kind), True) if neg else []
    prim = _CAMERA_MAP.get((kind, direction))
    return c.claim((prim,), neg) if prim is not None else []


def _self_directed_claims(c: _Clause) -> list[Claim]:
    """Verbs that carry their direction: "the camera rises" -> Move_Up (camera-level clauses only)."""
    if c.image_level:
        return []
    claims: list[Claim] = []
    for m in _SELF_RE.finditer(c.text):
        word = m.group(1).lower()
        direction = next((d for stem, d in _SELF_DIRECTED.items() if word.startswith(stem)), None)
        if direction is not None:
            claims += c.claim((_CAMERA_MAP[("move", direction)],), c.negated_before(m.start()))
    return claims


def _claims_in_clause(clause: str) -> list[Claim]:
    """The claims one clause makes: a still camera (and nothing else), or the focal length, each
    motion word and each self-directed verb, in that order."""
    c = _Clause.read(clause)
    static = _static_claims(c)
    if static is not None:
        return static
    claims = _focal_claims(c)
    for m in _VERB_RE.finditer(c.text):
        claims += _verb_claims(c, m)
    return claims + _self_directed_claims(c)


def _narrow(prims: tuple[str, ...], no_parallax: bool, parallax: bool) -> tuple[str, ...]:
    """Use a parallax cue to choose between rotation/zoom (no parallax) and translation."""
    if len(prims) == 2 and no_parallax:
        return prims[:1]
    if len(prims) == 2 and parallax:
        return prims[1:]
    return prims


def parse_claims(observation: str) -> list[Claim]:
    """Every claim an observation makes, clause by clause, duplicates removed (order kept)."""
    seen: set[tuple[frozenset[str], bool]] = set()
    out: list[Claim] = []
    for clause in _clauses(observation):
        for claim in _claims_in_clause(clause):
            key = (claim.primitives, claim.negated)
            if key not in seen:
                seen.add(key)
                out.append(claim)
    return out


def check_observation(observation: str, measured: dict[str, bool]) -> ConsistencyResult:
    """Compare what ``observation`` claims with ``measured`` primitives (name -> bool).

    Primitives missing from ``measured`` (or None there) are not checked.
    """
    claims = parse_claims(observation)
    known = {p: bool(v) for p, v in measured.items() if p in PRIMITIVES and v is not None}
    checked = agreeing = 0
    contradictions: list[str] = []
    named: set[str] = set()
    for claim in claims:
        values = [known[p] for p in claim.primitives if p in known]
        unknown = len(values) < len(claim.primitives)
        if not values or (unknown and not claim.negated and not any(values)):
            continue  # nothing measured could refute or confirm it
        checked += 1
        names = " or ".join(sorted(claim.primitives))
        if claim.negated:
            held = sorted(p for p in claim.primitives if known.get(p))
            if held:
                contradictions.append(f"denies {', '.join(held)} but it was measured")
            else:
                agreeing += 1
        elif any(values):
            agreeing += 1
            named.update(p for p in claim.primitives if known.get(p))
        else:
            contradictions.append(f"claims {names} but it was not measured")
    if checked == 0:
        return ConsistencyResult(0.0, [], claims, 0.0, 0.0)
    precision = agreeing / checked
    true_set = {p for p, v in known.items() if v}
    recall = len(named & true_set) / len(true_set) if true_set else 1.0
    return ConsistencyResult(round((precision + recall) / 2, 6), contradictions, claims, precision, recall)
