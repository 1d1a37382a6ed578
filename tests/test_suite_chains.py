"""Grounded chains: strict O-T-A, the labelled answer, and observations the consistency check accepts."""

import random

from camreasoner.core.ota import parse_strict
from camreasoner.core.taxonomy import FAMILIES, PRIMITIVES
from camreasoner.formats.labels import ClipLabel
from camreasoner.formats.questions import binary_question
from camreasoner.qa.consistency import check_observation
from camreasoner.qa.vqa import balanced_binary_questions, vqa_questions
from camreasoner.suite.chains import grounded_chain


def random_measured(rng: random.Random) -> dict[str, bool]:
    prims = dict.fromkeys(PRIMITIVES, False)
    u = rng.random()
    if u < 0.15:
        prims["Static"] = True
    elif u > 0.2:  # else: shake without a direction (nothing holds)
        for fam in rng.sample(list(FAMILIES), rng.choice([1, 2, 3])):
            prims[rng.choice(FAMILIES[fam])] = True
    return prims


def random_cues(rng: random.Random) -> dict[str, float]:
    names = ("pan_deg", "tilt_deg", "roll_deg", "zoom_pct", "dolly", "truck", "pedestal")
    return {n: rng.uniform(-20, 20) if n.endswith(("deg", "pct")) else rng.uniform(-0.3, 0.3) for n in names}


def test_grounded_chains_are_strict_right_and_agree_with_measurements():
    rng = random.Random(0)
    texts = set()
    n = 0
    for i in range(800):
        measured = random_measured(rng)
        clip = ClipLabel(f"c{i}.mp4", dict(measured))
        reading = {"primitives": measured, "measurements": {"cues": random_cues(rng)}}
        questions = vqa_questions(clip, rng, i) + balanced_binary_questions([clip], rng)
        for q in questions:
            text, why = grounded_chain(q, reading, rng)
            assert why == "ok" and text is not None
            parsed = parse_strict(text, q.letters)
            assert parsed is not None and parsed.letter == q.answer
            result = check_observation(parsed.observation, measured)
            assert result.contradictions == [], (parsed.observation, result.contradictions)
            assert result.score == 1.0, parsed.observation
            texts.add(parsed.observation)
            n += 1
    assert n > 2000
    assert len(texts) > 0.5 * n  # varied wording, not one template per motion


def test_chain_refused_when_observer_disagrees_with_label():
    rng = random.Random(1)
    labels = dict.fromkeys(PRIMITIVES, False) | {"Pan_Left": True}
    clip = ClipLabel("c.mp4", labels)
    q = binary_question("Pan_Left", clip.path, True, 0)
    seen = {"primitives": dict.fromkeys(PRIMITIVES, False) | {"Pan_Right": True}, "measurements": {}}
    assert grounded_chain(q, seen, rng) == (None, "observer_disagrees")
    assert grounded_chain(q, {"error": "unreadable"}, rng) == (None, "unreadable_video")
    agree = {"primitives": labels, "measurements": {}}
    text, why = grounded_chain(q, agree, rng)
    assert why == "ok" and text.endswith("<answer>B</answer>")
