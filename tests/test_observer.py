"""The observer end to end on rendered clips of exactly known motion, its O-T-A text, and no torch."""

import json
import subprocess
import sys

import pytest
from observer_scenes import STEPS, render_clip, write_clip

from camreasoner.backends import BackendItem, get_backend
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.ota import parse_strict
from camreasoner.core.taxonomy import BINARY_OPTIONS, PRIMITIVES, QUESTIONS
from camreasoner.observer.answer import answer_question
from camreasoner.observer.reading import Reading, analyze_video
from camreasoner.observer.scoring import decide
from camreasoner.qa.question_map import map_question, primitives_in_text


@pytest.fixture(scope="module")
def readings(tmp_path_factory) -> dict[str, Reading]:
    root = tmp_path_factory.mktemp("scenes")
    out = {}
    for prim in STEPS:
        path = write_clip(root / f"{prim}.mp4", render_clip(prim, 12, seed=1), fps=6)
        out[prim] = analyze_video(path)
    return out


# Known miss (docs/observer.md, Limits): in this 1.7-s truck the near planes, rigid, form one layer
# over a far background that barely moves, and are left out as a subject in most pairs.
TRUCK_MISS = pytest.mark.xfail(strict=True, reason="a lone rigid near layer over a still background is "
                               "taken for a subject (layers are judged pair by pair)")


@pytest.mark.parametrize("primitive", [pytest.param(p, marks=TRUCK_MISS) if p == "Move_Left" else p for p in STEPS])
def test_rendered_clip_reads_its_primitive(readings, primitive):
    r = readings[primitive]
    assert r.answer == primitive, (r.answer, r.measurements["cues"])
    assert r.scores[primitive] > 0.5
    assert all(0.0 <= s <= 1.0 for s in r.scores.values())


def test_reading_json_has_the_contract_keys(readings):
    obj = readings["Pan_Left"].to_json()
    keys = ["primitives", "scores", "measurements", "observation", "think", "answer"]
    assert list(obj) == ["video", *keys, "shots"]
    assert set(obj["primitives"]) == set(PRIMITIVES) and json.loads(json.dumps(obj)) == obj
    (shot,) = obj["shots"]  # one shot: its reading is the top-level one
    assert list(shot) == ["start", "end", "start_frame", "end_frame", "reading"] and list(shot["reading"]) == keys
    assert shot["reading"]["primitives"] == obj["primitives"]


def test_observation_states_measured_cues(readings):
    obs = readings["Pan_Left"].observation
    assert "width rightward" in obs and "Parallax is absent" in obs and "The camera pans left by" in obs
    assert "Parallax is present" in readings["Move_Right"].observation
    assert "The camera moves forward (dolly in) by" in readings["Move_In"].observation
    assert "The camera zooms in by" in readings["Zoom_In"].observation
    assert "The camera is still" in readings["Static"].observation


@pytest.mark.parametrize("primitive", PRIMITIVES)
def test_binary_answers_parse_back_to_the_same_answer(readings, primitive):
    reading = readings["Pan_Right"]
    resp = answer_question(reading, QUESTIONS[primitive], list(BINARY_OPTIONS))
    parsed = parse_strict(resp.text, "AB")
    assert parsed is not None and parsed.letter == resp.letter
    assert (resp.letter == "B") == reading.primitives[primitive]
    assert resp.option_probs["B"] == pytest.approx(reading.scores[primitive])
    assert sum(resp.option_probs.values()) == pytest.approx(1.0)


def test_multiple_choice_picks_the_measured_motion(readings):
    opts = ["A. The camera trucks left", "B. The camera pans left", "C. The camera zooms in", "D. Static"]
    assert answer_question(readings["Pan_Left"], "How does the camera move?", opts).letter == "B"
    assert answer_question(readings["Move_Left"], "How does the camera move?", opts).letter == "A"
    assert answer_question(readings["Static"], "How does the camera move?", opts).letter == "D"


def test_a_motion_without_direction_asks_about_either_sign(readings):
    resp = answer_question(readings["Pan_Left"], "Does the camera pan?")
    assert resp.letter == "B" and resp.option_probs["B"] >= readings["Pan_Left"].scores["Pan_Left"]
    assert answer_question(readings["Static"], "Is the camera zooming?").letter == "A"


def test_question_mapping():
    for p, q in QUESTIONS.items():
        assert map_question(q).primitive == p
    assert primitives_in_text("Dolly in and zoom out") == {"Move_In", "Zoom_Out"}
    assert primitives_in_text("rolls counter-clockwise") == {"Roll_Counterclockwise"}
    with pytest.raises(CamReasonerError, match="cannot map"):
        map_question("What colour is the car?")
    with pytest.raises(CamReasonerError, match="cannot map option"):
        map_question("Which?", ["A. Pan left", "B. Something else"])


def test_decisions_respect_opposites_and_static():
    scores = {p: 0.1 for p in PRIMITIVES} | {"Pan_Left": 0.7, "Pan_Right": 0.8, "Static": 0.9}
    d = decide(scores)
    assert d["Pan_Right"] and not d["Pan_Left"] and not d["Static"]


def test_parallax_keeps_one_of_a_confusable_pair():
    scores = {p: 0.1 for p in PRIMITIVES} | {"Zoom_In": 0.9, "Move_In": 0.8}
    with_parallax, without = decide(scores, parallax_share=0.9), decide(scores, parallax_share=0.1)
    assert with_parallax["Move_In"] and not with_parallax["Zoom_In"]
    assert without["Zoom_In"] and not without["Move_In"]
    assert decide(scores)["Zoom_In"] and decide(scores)["Move_In"]


def test_geometric_backend_answers_and_reports_bad_items(readings, tmp_path):
    backend = get_backend("geometric", model=None, hint="geometry")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"no video")
    out = backend.answer([BackendItem(readings["Tilt_Up"].video, QUESTIONS["Tilt_Up"], BINARY_OPTIONS),
                          BackendItem(str(bad), QUESTIONS["Tilt_Up"], BINARY_OPTIONS)])
    assert out[0].letter == "B" and out[0].error is None
    assert out[1].letter is None and "bad.mp4" in out[1].error


def test_geometric_path_does_not_import_torch():
    code = ("import sys, camreasoner.observer.reading, camreasoner.backends.geometric, camreasoner.cli.analyze;"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
