"""Answers to CameraBench-style questions from a reading: the question mapped to primitives
(:mod:`camreasoner.qa.question_map`), the letter the decisions make true and P(option) from the
calibrated scores, as O-T-A text."""

from __future__ import annotations

from camreasoner.core.ota import format_ota
from camreasoner.core.types import BackendResponse
from camreasoner.observer.reading import Reading
from camreasoner.observer.text import question_think
from camreasoner.qa.question_map import OTHERS, conditions_hold, map_question, option_probabilities


def describe_conditions(cond: dict[str, bool]) -> str:
    """``{"Pan_Left": True, "Move_Left": False}`` -> ``"Pan_Left, not Move_Left"``."""
    yes = [k if k != OTHERS else "another motion" for k, v in cond.items() if v]
    no = [k for k, v in cond.items() if not v and k != OTHERS]
    if len(no) > 3:
        return ", ".join(yes) + (" and " if yes else "") + "no other motion" if yes else "none of " + ", ".join(no)
    return ", ".join(yes + [f"not {k}" for k in no])


def answer_question(reading: Reading, question: str, options: list[str] | tuple[str, ...] | None = None
                    ) -> BackendResponse:
    """Answer a CameraBench-style question from a reading: O-T-A text, letter and P(option)."""
    mapping = map_question(question, options)
    s = reading.scores
    if mapping.binary:
        yes = [letter for letter, prims in mapping.options.items() if prims][0]
        no = [letter for letter, prims in mapping.options.items() if not prims][0]
        asked = sorted(mapping.options[yes])
        p_no = 1.0
        for p in asked:
            p_no *= 1.0 - s[p]
        p_yes = 1.0 - p_no
        verdict = any(reading.primitives[p] for p in asked)
        letter = yes if verdict else no
        probs = {yes: p_yes, no: 1.0 - p_yes}
        think = question_think(reading.think, " or ".join(asked), verdict, p_yes)
    else:
        probs = option_probabilities(mapping, s)
        # The option the decisions make right; the most probable one when none or several do.
        held = [k for k, cond in mapping.conditions.items()
                if conditions_hold(cond, reading.primitives, mapping.target)]
        letter = held[0] if len(held) == 1 else max(probs, key=probs.__getitem__)
        think = (f"{reading.think} Of the options, {letter} ({describe_conditions(mapping.conditions[letter])}) "
                 f"agrees best with the measured motion (P = {probs[letter]:.2f}).")
    text = format_ota(reading.observation, think, letter)
    return BackendResponse(text=text, letter=letter, option_probs=probs,
                           meta={"primitives": dict(reading.primitives), "warnings": list(reading.warnings)})
