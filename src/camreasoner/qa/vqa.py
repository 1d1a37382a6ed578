"""Question generation from clip labels: balanced binary questions and multiple-choice VQA.

VQA skills (the ``problem_id`` is ``<Skill>_<index>``, the ``extra["skill"]`` field names it too):

- ``Which_Motion``: which of 2-6 listed motions happens (exactly one listed motion is true).
- ``Which_Direction``: in which direction a family moves (left/right, …, optionally "not at all").
- ``Confusable_Pair``: pan vs truck, tilt vs pedestal, zoom vs dolly ("X", "Y", "both", "neither").
- ``Only_Or_More``: only X, X together with another motion, or no X at all.

No wording or position predicts the answer: every skill uses one question template per family
whatever the answer, distractors are drawn uniformly from the options that are known to be false,
the options are shuffled (so the answer letter is uniform), and :func:`balance_answers` evens out
the answer contents of a whole corpus. Unknown (null) labels never decide an answer.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from camreasoner.core.taxonomy import CONFUSABLE_PAIRS, FAMILIES, PRIMITIVES, format_options, split_option
from camreasoner.formats.labels import ClipLabel
from camreasoner.formats.questions import Question, binary_question

SKILLS: tuple[str, ...] = ("Which_Motion", "Which_Direction", "Confusable_Pair", "Only_Or_More")

# How an option names each primitive ("The camera pans left").
PHRASES: dict[str, str] = {
    "Static": "stays completely still",
    "Move_In": "moves forward (dolly in)",
    "Move_Out": "moves backward (dolly out)",
    "Move_Left": "moves to its left (truck left)",
    "Move_Right": "moves to its right (truck right)",
    "Move_Up": "moves up (pedestal up)",
    "Move_Down": "moves down (pedestal down)",
    "Pan_Left": "pans left",
    "Pan_Right": "pans right",
    "Tilt_Up": "tilts up",
    "Tilt_Down": "tilts down",
    "Roll_Clockwise": "rolls clockwise",
    "Roll_Counterclockwise": "rolls counterclockwise",
    "Zoom_In": "zooms in",
    "Zoom_Out": "zooms out",
}

# Family -> (verb phrase for the question, direction words of its two signs, the "none" option).
_FAMILY_WORDS: dict[str, tuple[str, tuple[str, str], str]] = {
    "dolly": (
        "move along its viewing direction",
        ("Forward", "Backward"),
        "It does not move forward or backward",
    ),
    "truck": ("move sideways", ("To its left", "To its right"), "It does not move sideways"),
    "pedestal": ("move vertically", ("Upward", "Downward"), "It does not move up or down"),
    "pan": ("pan", ("Left", "Right"), "It does not pan"),
    "tilt": ("tilt", ("Up", "Down"), "It does not tilt"),
    "roll": ("roll", ("Clockwise", "Counterclockwise"), "It does not roll"),
    "zoom": ("zoom", ("In", "Out"), "It does not zoom"),
}

_WHICH_MOTION_TEMPLATES = (
    "Which of the following camera motions happens in this video?",
    "Which one of these describes a motion the camera performs in the video?",
)


def _known(clip: ClipLabel, name: str) -> bool:
    return clip.primitives.get(name) is not None


def _is(clip: ClipLabel, name: str) -> bool:
    return clip.primitives.get(name) is True


def _make(
    skill: str,
    index: int,
    clip: ClipLabel,
    question: str,
    right: str,
    wrong: Sequence[str],
    rng: random.Random,
    extra: dict | None = None,
) -> Question:
    """Shuffle ``right`` among ``wrong`` options, letter them and build the Question."""
    texts = [right, *wrong]
    rng.shuffle(texts)
    answer = "ABCDEF"[texts.index(right)]
    qid = f"{skill}_{index}"
    return Question(
        id=qid,
        problem_id=qid,
        question=question,
        options=format_options(texts),
        answer=answer,
        path=clip.path,
        extra={"skill": skill, **(extra or {})},
    )


def _n_options(rng: random.Random, available: int, min_options: int, max_options: int) -> int:
    hi = min(max_options, available)
    return rng.randint(min_options, hi) if hi >= min_options else 0


def which_motion(
    clip: ClipLabel, rng: random.Random, index: int, min_options: int = 2, max_options: int = 6
) -> Question | None:
    """One true motion among known-false distractors; None if no motion is known true."""
    true = [p for p in PRIMITIVES if _is(clip, p)]
    false = [p for p in PRIMITIVES if clip.primitives.get(p) is False]
    n = _n_options(rng, len(false) + 1, min_options, max_options)
    if not true or n == 0:
        return None
    target = rng.choice(true)
    wrong = rng.sample(false, n - 1)
    template = rng.choice(_WHICH_MOTION_TEMPLATES)
    return _make(
        "Which_Motion",
        index,
        clip,
        template,
        f"The camera {PHRASES[target]}",
        [f"The camera {PHRASES[w]}" for w in wrong],
        rng,
        {"target": target},
    )


def _family_state(clip: ClipLabel, family: str) -> str | None:
    """``"pos"``, ``"neg"``, ``"none"`` or None (unknown/contradictory) for a family."""
    a, b = FAMILIES[family]
    va, vb = clip.primitives.get(a), clip.primitives.get(b)
    if va is None or vb is None or (va and vb):
        return None
    return "pos" if va else "neg" if vb else "none"


def which_direction(clip: ClipLabel, rng: random.Random, index: int) -> Question | None:
    """Direction of one family's motion, with "not at all" as a third option half the time."""
    states = {f: _family_state(clip, f) for f in FAMILIES}
    moving = [f for f, s in states.items() if s in ("pos", "neg")]
    still = [f for f, s in states.items() if s == "none"]
    with_none = rng.random() < 0.5
    # With "none" offered, it is the answer one time in three (as often as each direction).
    if with_none and still and (not moving or rng.random() < 1 / 3):
        family = rng.choice(still)
    elif moving:
        family = rng.choice(moving)
    else:
        return None
    verb, (pos, neg), none = _FAMILY_WORDS[family]
    state = states[family]
    right = {"pos": pos, "neg": neg, "none": none}[state]
    wrong = [t for t in ((pos, neg, none) if with_none else (pos, neg)) if t != right]
    question = f"In which direction does the camera {verb}?"
    return _make("Which_Direction", index, clip, question, right, wrong, rng, {"family": family})


_PAIR_OPTIONS = ("only_a", "only_b", "both", "neither")


def confusable_pair(
    clip: ClipLabel, rng: random.Random, index: int, min_options: int = 2, max_options: int = 4
) -> Question | None:
    """Rotation vs translation (or zoom vs dolly) in one direction: which one, both or neither."""
    cases: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for a, b in CONFUSABLE_PAIRS:
        if not (_known(clip, a) and _known(clip, b)):
            continue
        case = {(True, False): "only_a", (False, True): "only_b", (True, True): "both"}.get(
            (_is(clip, a), _is(clip, b)), "neither"
        )
        cases[case].append((a, b))
    if not cases:
        return None
    # Pick the answer's case uniformly among those the clip offers, so "neither" does not dominate.
    case = rng.choice(sorted(cases))
    a, b = rng.choice(cases[case])
    texts = {
        "only_a": f"It {PHRASES[a]} but does not {_base_verb(_short(b))}",
        "only_b": f"It {PHRASES[b]} but does not {_base_verb(_short(a))}",
        "both": "It does both",
        "neither": "It does neither",
    }
    n = _n_options(rng, 4, min_options, max_options)
    others = [c for c in _PAIR_OPTIONS if c != case]
    wrong = [texts[c] for c in rng.sample(others, n - 1)]
    question = f"Does the camera {_base_verb(_short(a))} or {_base_verb(_short(b))}, both, or neither?"
    return _make("Confusable_Pair", index, clip, question, texts[case], wrong, rng, {"pair": [a, b]})


def only_or_more(clip: ClipLabel, rng: random.Random, index: int, min_options: int = 2) -> Question | None:
    """ "Only X" vs "X and another motion" vs "no X"; needs every label known."""
    if any(clip.primitives.get(p) is None for p in PRIMITIVES):
        return None
    true = [p for p in PRIMITIVES if p != "Static" and _is(clip, p)]
    false = [p for p in PRIMITIVES if p != "Static" and not _is(clip, p)]
    possible = ["none"] + (["only"] if len(true) == 1 else ["more"] if true else [])
    case = rng.choice(possible)
    target = rng.choice(false if case == "none" else true)
    phrase = _short(target)
    texts = {
        "only": f"It {phrase} and makes no other motion",
        "more": f"It {phrase} together with at least one other motion",
        "none": f"It does not {_base_verb(phrase)}",
    }
    n = rng.randint(min_options, 3) if min_options <= 3 else 3
    others = [c for c in texts if c != case]
    wrong = [texts[c] for c in rng.sample(others, n - 1)]
    question = f"Consider whether the camera {_base_verb(phrase)}. Which statement is true?"
    return _make("Only_Or_More", index, clip, question, texts[case], wrong, rng, {"target": target})


def _short(primitive: str) -> str:
    """The phrase of a primitive without its parenthesis: ``"moves forward"``."""
    return PHRASES[primitive].split(" (")[0]


def _base_verb(phrase: str) -> str:
    """``"pans left"`` -> ``"pan left"``; ``"moves forward"`` -> ``"move forward"``."""
    verb, _, rest = phrase.partition(" ")
    base = (
        verb[:-2] if verb.endswith("es") and verb[-3] in "sxz" else verb[:-1] if verb.endswith("s") else verb
    )
    return f"{base} {rest}".strip()


_SKILL_FUNCS: dict[str, Callable[..., Question | None]] = {
    "Which_Motion": which_motion,
    "Which_Direction": which_direction,
    "Confusable_Pair": confusable_pair,
    "Only_Or_More": only_or_more,
}


def vqa_questions(
    clip: ClipLabel,
    rng: random.Random,
    index: int,
    skills: Iterable[str] = SKILLS,
    data_source: str = "",
    dataset: str = "",
) -> list[Question]:
    """At most one multiple-choice question per skill about ``clip`` (ids ``<Skill>_<index>``).

    Skills whose answer the labels cannot decide (unknown values) are left out.
    """
    out: list[Question] = []
    for skill in skills:
        if skill not in _SKILL_FUNCS:
            raise ValueError(f"unknown VQA skill {skill!r}; choose from {', '.join(SKILLS)}")
        q = _SKILL_FUNCS[skill](clip, rng, index)
        if q is not None:
            q.data_source, q.dataset = data_source, dataset
            out.append(q)
    return out


def answer_text(q: Question) -> str:
    """The text of the right option (without its letter)."""
    for option in q.options:
        letter, text = split_option(option)
        if letter == q.answer:
            return text
    raise ValueError(f"{q.id}: answer {q.answer!r} is not among its options")


def _balance_key(q: Question, universe: set[str]) -> tuple:
    """Questions that must share one answer distribution: same wording and the same option set
    (or, when the wording's options are drawn from a large pool, the same number of options)."""
    if len(universe) <= 6:
        return (q.question, tuple(sorted(split_option(o)[1] for o in q.options)))
    return (q.question, len(q.options))


def balance_answers(questions: Sequence[Question], rng: random.Random) -> list[Question]:
    """Subsample so that no wording or option set predicts which option text is right.

    Within each group (:func:`_balance_key`), every option text that appears is kept as the answer
    only as often as the rarest one (a text that is offered but never right empties the group).
    Order is kept. Binary questions are left alone (use :func:`balanced_binary_questions`).
    """
    universes: dict[str, set[str]] = defaultdict(set)
    for q in questions:
        if not q.is_binary:
            universes[q.question].update(split_option(o)[1] for o in q.options)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, q in enumerate(questions):
        if not q.is_binary:
            groups[_balance_key(q, universes[q.question])].append(i)
    keep = {i for i, q in enumerate(questions) if q.is_binary}
    for idx in groups.values():
        by_answer: dict[str, list[int]] = defaultdict(list)
        offered: set[str] = set()
        for i in idx:
            offered.update(split_option(o)[1] for o in questions[i].options)
            by_answer[answer_text(questions[i])].append(i)
        cap = min(len(by_answer.get(t, [])) for t in offered)
        for members in by_answer.values():
            keep.update(rng.sample(members, cap) if len(members) > cap else members)
    return [q for i, q in enumerate(questions) if i in keep]


def balanced_binary_questions(
    clips: Sequence[ClipLabel],
    rng: random.Random,
    yes_ratio: float = 0.5,
    primitives: Iterable[str] = PRIMITIVES,
    data_source: str = "",
    dataset: str = "",
) -> list[Question]:
    """Binary questions with a Yes share of ``yes_ratio`` per primitive (unknown labels never asked).

    Per primitive, keeps as many clips as the ratio allows (all of the scarcer answer, a random
    subset of the other). The id is ``<Primitive>_<clip index>``; the result is in clip order.
    """
    if not 0.0 <= yes_ratio <= 1.0:
        raise ValueError(f"yes_ratio must be in [0, 1], got {yes_ratio}")
    out: list[tuple[int, int, Question]] = []
    for p_order, prim in enumerate(primitives):
        yes = [i for i, c in enumerate(clips) if c.primitives.get(prim) is True]
        no = [i for i, c in enumerate(clips) if c.primitives.get(prim) is False]
        if yes_ratio == 0.0:
            n_yes, n_no = 0, len(no)
        elif yes_ratio == 1.0:
            n_yes, n_no = len(yes), 0
        else:
            n_yes = min(len(yes), int(len(no) * yes_ratio / (1 - yes_ratio)))
            n_no = min(len(no), round(n_yes * (1 - yes_ratio) / yes_ratio))
        chosen = rng.sample(yes, n_yes) + rng.sample(no, n_no)
        for i in chosen:
            q = binary_question(
                prim, clips[i].path, clips[i].primitives[prim], i, data_source=data_source, dataset=dataset
            )
            out.append((i, p_order, q))
    out.sort(key=lambda t: (t[0], t[1]))
    return [q for _, _, q in out]


# The conditions under which each option is the right one. Keys are primitives; the special key
# ``OTHERS`` (with the target in ``Question.extra``) means "at least one other motion holds".
OTHERS = "+others"


def option_conditions(q: Question) -> list[dict[str, bool]]:
    """Per option (in order), the primitive values that make it the right answer.

    Binary: ``{prim: False}`` for A, ``{prim: True}`` for B. VQA items need the ``skill`` (and its
    ``target``/``family``/``pair``) in ``q.extra``, as :func:`vqa_questions` writes them.
    """
    if q.is_binary:
        prim = q.primitive
        if prim is None:
            raise ValueError(f"{q.id}: binary question about no known primitive")
        return [{prim: False}, {prim: True}]
    texts = [split_option(o)[1] for o in q.options]
    skill = q.extra.get("skill")
    if skill == "Which_Motion":
        by_text = {f"The camera {PHRASES[p]}": p for p in PRIMITIVES}
        listed = [by_text[t] for t in texts]
        return [{p: p == chosen for p in listed} for chosen in listed]
    if skill == "Which_Direction":
        a, b = FAMILIES[q.extra["family"]]
        _, (pos, neg), none = _FAMILY_WORDS[q.extra["family"]]
        table = {pos: {a: True, b: False}, neg: {a: False, b: True}, none: {a: False, b: False}}
        return [table[t] for t in texts]
    if skill == "Confusable_Pair":
        a, b = q.extra["pair"]
        table = {
            "It does both": {a: True, b: True},
            "It does neither": {a: False, b: False},
            f"It {PHRASES[a]} but does not {_base_verb(_short(b))}": {a: True, b: False},
            f"It {PHRASES[b]} but does not {_base_verb(_short(a))}": {a: False, b: True},
        }
        return [table[t] for t in texts]
    if skill == "Only_Or_More":
        t = q.extra["target"]
        phrase = _short(t)
        others = {p: False for p in PRIMITIVES if p not in ("Static", t)}
        table = {
            f"It {phrase} and makes no other motion": {t: True, **others},
            f"It {phrase} together with at least one other motion": {t: True, OTHERS: True},
            f"It does not {_base_verb(phrase)}": {t: False},
        }
        return [table[x] for x in texts]
    raise ValueError(f"{q.id}: unknown skill {skill!r}")


def _holds(cond: dict[str, bool], prims: dict[str, bool | None], target: str | None) -> bool | None:
    """Whether all conditions hold under ``prims`` (None when an unknown value decides it)."""
    unknown = False
    for key, want in cond.items():
        if key == OTHERS:
            rest = [prims.get(p) for p in PRIMITIVES if p not in ("Static", target)]
            value: bool | None = True if any(rest) else (None if None in rest else False)
        else:
            value = prims.get(key)
        if value is None:
            unknown = True
        elif value != want:
            return False
    return None if unknown else True


def answer_from_primitives(q: Question, prims: dict[str, bool | None]) -> str | None:
    """The letter that ``prims`` (labels or measurements) make right; None if none or several."""
    target = q.extra.get("target")
    verdicts = [_holds(c, prims, target) for c in option_conditions(q)]
    if verdicts.count(True) != 1 or None in verdicts:
        return None
    return q.letters[verdicts.index(True)]


def option_probabilities(q: Question, scores: dict[str, float]) -> dict[str, float]:
    """P(each option is right) from independent per-primitive P(Yes) ``scores``, normalised."""
    conditions = dict(zip(q.letters, option_conditions(q), strict=True))
    return probabilities_from_conditions(conditions, q.extra.get("target"), scores)


def probabilities_from_conditions(
    conditions: dict[str, dict[str, bool]], target: str | None, scores: dict[str, float]
) -> dict[str, float]:
    """P(each letter's conditions hold), treating primitives as independent, normalised to sum 1.

    ``conditions`` maps a letter to {primitive or OTHERS: wanted truth}; OTHERS stands for "any
    primitive other than Static and ``target``".
    """
    like: dict[str, float] = {}
    for letter, cond in conditions.items():
        value = 1.0
        for key, want in cond.items():
            if key == OTHERS:
                p_none = 1.0
                for p in PRIMITIVES:
                    if p not in ("Static", target):
                        p_none *= 1.0 - scores.get(p, 0.0)
                p = 1.0 - p_none
            else:
                p = scores.get(key, 0.0)
            value *= p if want else 1.0 - p
        like[letter] = max(value, 1e-12)
    total = sum(like.values())
    return {k: v / total for k, v in like.items()}
