"""The observer against the suite's VQA generator and consistency check, and the CLI's VLM options.

- every multiple-choice item camreasoner.qa.vqa can write maps to the same option conditions as
  vqa.option_conditions, and the geometric backend answers every item of a small synth set, well
  above chance and the majority letter;
- the observer's own observation never contradicts its decisions (check_observation = 1.0);
- `analyze`/`ask` leave sampling to a VLM backend unless asked, and pass the generation options.
"""

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from camreasoner.backends import BackendItem, BackendResponse, get_backend
from camreasoner.backends.base import register
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES, compatible
from camreasoner.formats.labels import ClipLabel, read_labels
from camreasoner.observer.answer import answer_question
from camreasoner.observer.reading import analyze_video
from camreasoner.qa.consistency import check_observation
from camreasoner.qa.question_map import OTHERS, map_question
from camreasoner.qa.vqa import OTHERS as VQA_OTHERS
from camreasoner.qa.vqa import option_conditions, vqa_questions


def _random_clip(rng: random.Random) -> ClipLabel:
    moving = [p for p in PRIMITIVES if p != "Static"]
    while True:
        chosen = set(rng.sample(moving, rng.randint(0, 3)))
        if compatible(chosen):
            break
    prims: dict[str, bool | None] = {p: p in chosen for p in PRIMITIVES}
    prims["Static"] = not chosen
    if rng.random() < 0.2:
        prims[rng.choice(moving)] = None
    return ClipLabel(path="clip.mp4", primitives=prims)


def test_every_vqa_item_maps_to_the_generators_conditions():
    rng = random.Random(3)
    skills = Counter()
    for i in range(400):
        for q in vqa_questions(_random_clip(rng), rng, i):
            want = [{OTHERS if k == VQA_OTHERS else k: v for k, v in c.items()} for c in option_conditions(q)]
            mapping = map_question(q.question, q.options)
            assert [mapping.conditions[letter] for letter in q.letters] == want, (q.question, q.options)
            skills[q.extra["skill"]] += 1
    assert set(skills) == {"Which_Motion", "Which_Direction", "Confusable_Pair", "Only_Or_More"}


@pytest.fixture(scope="module")
def synth_set(tmp_path_factory) -> Path:
    from camreasoner.synth import generate_dataset

    root = tmp_path_factory.mktemp("synth") / "set"
    generate_dataset(root, 14, 4321, progress=False, workers=1)
    return root


def test_geometric_backend_answers_every_synth_vqa_item(synth_set):
    items = json.loads((synth_set / "vqa.json").read_text())
    assert len(items) >= 30
    backend = get_backend("geometric")
    responses = backend.answer([BackendItem(str(synth_set / it["path"]), it["problem"], tuple(it["options"]))
                                for it in items])
    gold = [it["solution"].split("<answer>")[1][0] for it in items]
    assert [r.error for r in responses] == [None] * len(items)
    for r, it in zip(responses, items, strict=True):
        assert sum(r.option_probs.values()) == pytest.approx(1.0)
        assert set(r.option_probs) == {o[0] for o in it["options"]}
        assert r.letter in r.option_probs and f"<answer>{r.letter}</answer>" in r.text
    accuracy = sum(r.letter == g for r, g in zip(responses, gold, strict=True)) / len(items)
    chance = sum(1 / len(it["options"]) for it in items) / len(items)
    majority = Counter(gold).most_common(1)[0][1] / len(items)
    assert accuracy >= max(chance, majority) + 0.3, (accuracy, chance, majority)


def test_observation_never_contradicts_the_decisions(synth_set):
    for label in read_labels(synth_set / "labels.jsonl"):
        reading = analyze_video(synth_set / label.path)
        result = check_observation(reading.observation, reading.primitives)
        assert result.score == 1.0, (reading.answer, result.contradictions, reading.observation)
        assert "Note:" not in reading.observation


def test_multiple_choice_answer_follows_the_decisions(synth_set):
    label = next(lab for lab in read_labels(synth_set / "labels.jsonl") if lab.primitives["Static"] is False)
    reading = analyze_video(synth_set / label.path)
    held = [p for p in PRIMITIVES if reading.primitives[p]]
    q = "Does the camera do it, both, or neither?"
    resp = answer_question(reading, f"Consider whether the camera {held[0].lower().replace('_', ' ')}. Which?",
                           ["A. It does not " + held[0].lower().replace("_", " "),
                            "B. It " + held[0].lower().replace("_", " ") + " together with at least one other motion",
                            "C. It " + held[0].lower().replace("_", " ") + " and makes no other motion"])
    assert resp.letter == ("B" if len(held) > 1 else "C"), (held, resp.text)
    with pytest.raises(CamReasonerError, match="cannot map option"):
        answer_question(reading, q, ["A. It does both", "B. Something else"])


class RecordingBackend:
    """Answers No to everything and records the options the CLI built it with."""

    name = "recording"
    seen: dict = {}

    def __init__(self, **options):
        RecordingBackend.seen = dict(options)

    def answer(self, items):
        return [BackendResponse(text="<answer>A</answer>", letter="A", option_probs={"A": 1.0, "B": 0.0})
                for _ in items]


@pytest.mark.parametrize("command", ["analyze", "ask"])
def test_vlm_backends_get_their_own_sampling_defaults_and_generation_options(tmp_path, command):
    from camreasoner.cli.app import app

    register("recording", f"{__name__}:RecordingBackend")
    video = tmp_path / "v.mp4"
    video.write_bytes(b"not read by this backend")
    extra = ["Does the camera pan left?"] if command == "ask" else []
    runner = CliRunner()
    out = runner.invoke(app, [command, str(video), *extra, "--backend", "recording", "--json"])
    assert out.exit_code == 0, out.output
    assert RecordingBackend.seen["fps"] is None and RecordingBackend.seen["max_frames"] is None
    assert "temperature" not in RecordingBackend.seen
    out = runner.invoke(app, [command, str(video), *extra, "--backend", "recording", "--fps", "2",
                              "--max-new-tokens", "64", "--max-pixels", "50176", "--temperature", "0.7"])
    assert out.exit_code == 0, out.output
    seen = RecordingBackend.seen
    assert (seen["fps"], seen["max_new_tokens"], seen["max_pixels"], seen["temperature"]) == (2.0, 64, 50176, 0.7)
    out = runner.invoke(app, [command, str(video), *extra, "--backend", "recording", "--temperature", "-1"])
    assert out.exit_code != 0 and isinstance(out.exception, CamReasonerError)
    assert "--temperature must be >= 0" in str(out.exception)
