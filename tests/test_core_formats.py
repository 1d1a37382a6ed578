"""Taxonomy, O-T-A parsing, question and labels files against conventions.md."""

import json
from pathlib import Path

import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic
from camreasoner.core.ota import extract_letter, format_ota, is_strict_format, parse_strict
from camreasoner.core.taxonomy import (
    OPPOSITES,
    PRIMITIVES,
    QUESTIONS,
    answer_string,
    compatible,
    primitive_from_problem_id,
)
from camreasoner.formats.labels import ClipLabel, read_labels, write_labels
from camreasoner.formats.questions import binary_question, read_questions, write_questions

# The real CameraBench file, beside the repository (CI lays shared/ there too).
SHARED_BINARY = Path(__file__).resolve().parents[2] / "shared" / "camerabench" / "binary.json"


def test_fifteen_primitives_each_with_question_and_opposites_symmetric():
    assert len(PRIMITIVES) == 15 and set(QUESTIONS) == set(PRIMITIVES)
    for a, b in OPPOSITES.items():
        assert OPPOSITES[b] == a


def test_problem_id_maps_to_primitive():
    assert primitive_from_problem_id("Pan_Left_12") == "Pan_Left"
    assert primitive_from_problem_id("Roll_Counterclockwise_3") == "Roll_Counterclockwise"
    assert primitive_from_problem_id("Which_Motion_4") is None


def test_compatibility_rules():
    assert compatible({"Move_In", "Pan_Right"})
    assert not compatible({"Pan_Left", "Pan_Right"})
    assert not compatible({"Static", "Zoom_In"})


def test_answer_string():
    assert answer_string({"Pan_Left": True, "Move_In": True}) == "Move_In, Pan_Left"
    assert answer_string({"Static": True}) == "Static"
    assert answer_string({"Static": False}) == "None"


def test_ota_round_trip_and_strictness():
    text = format_ota("content slides right", "no parallax so a pan", "B")
    parsed = parse_strict(text, "AB")
    assert parsed is not None and parsed.letter == "B"
    assert parsed.observation == "content slides right"
    assert not is_strict_format("preamble " + text)
    assert not is_strict_format(text + text)
    assert not is_strict_format("<think>x</think><observation>y</observation><answer>B</answer>")
    assert not is_strict_format(format_ota("o", "t", "C"), "AB")
    assert is_strict_format(format_ota("o", "t", "B. Yes"), "AB")


def test_answer_block_wins_and_only_the_first_counts():
    assert extract_letter("blah <answer>A</answer> <answer>B</answer>", "AB") == "A"
    assert extract_letter("<answer>A camera pans</answer>", "AB") is None
    assert extract_letter("nothing here", "AB") is None


@pytest.mark.skipif(not SHARED_BINARY.is_file(), reason="../shared/camerabench/binary.json is absent")
def test_shared_camerabench_file_reads_and_majority_is_no():
    qs = read_questions(SHARED_BINARY)
    assert len(qs) == 7679
    assert all(q.primitive in PRIMITIVES for q in qs)
    no = sum(q.answer == "A" for q in qs) / len(qs)
    assert 0.87 < no < 0.88


def test_question_file_round_trip(tmp_path):
    qs = [binary_question("Zoom_In", "clips/a.mp4", True, 0), binary_question("Static", "b.mp4", False, 1)]
    write_questions(tmp_path / "q.json", qs)
    back = read_questions(tmp_path / "q.json")
    assert [(q.primitive, q.answer, q.path) for q in back] == [
        ("Zoom_In", "B", "clips/a.mp4"),
        ("Static", "A", "b.mp4"),
    ]


def test_malformed_question_names_index_and_field(tmp_path):
    bad = tmp_path / "bad.json"
    item = binary_question("Zoom_In", "a.mp4", True, 0).to_item()
    del item["options"]
    bad.write_text(json.dumps([binary_question("Static", "a.mp4", True, 0).to_item(), item]))
    with pytest.raises(CamReasonerError, match=r"item 1: missing field 'options'"):
        read_questions(bad)


def test_camerabench_jsonl_format(tmp_path):
    f = tmp_path / "test.jsonl"
    f.write_text(
        json.dumps(
            {
                "image": "v.mp4",
                "question": QUESTIONS["Pan_Left"],
                "label": "Yes",
                "task": "cam_motion",
                "label_name": "Pan_Left",
            }
        )
        + "\n"
    )
    (q,) = read_questions(f)
    assert q.primitive == "Pan_Left" and q.answer == "B" and q.path == "v.mp4"


def test_labels_round_trip_and_errors(tmp_path):
    lab = ClipLabel(
        "clips/x.mp4",
        {p: (p == "Pan_Left") for p in PRIMITIVES} | {"Roll_Clockwise": None},
        extra={"fps": 12},
    )
    write_labels(tmp_path / "labels.jsonl", [lab])
    (back,) = read_labels(tmp_path / "labels.jsonl")
    assert back.primitives["Pan_Left"] is True and back.primitives["Roll_Clockwise"] is None
    assert back.extra == {"fps": 12}
    (tmp_path / "bad.jsonl").write_text('{"path": "a", "primitives": {"Pan_Up": true}}\n')
    with pytest.raises(CamReasonerError, match="unknown primitive 'Pan_Up'"):
        read_labels(tmp_path / "bad.jsonl")


def test_atomic_json_gets_normal_permissions(tmp_path):
    import os
    import stat


    write_json_atomic(tmp_path / "x.json", {"a": 1})
    mode = stat.S_IMODE(os.stat(tmp_path / "x.json").st_mode)
    assert mode & stat.S_IRGRP and mode & stat.S_IROTH
    assert json.loads((tmp_path / "x.json").read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["x.json"]
