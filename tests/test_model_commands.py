"""ask, analyze and eval end to end through the hf backend with the tiny model (CPU)."""

from __future__ import annotations

import json

import pytest
import torch  # noqa: F401
import transformers  # noqa: F401
from typer.testing import CliRunner

from camreasoner.cli.app import app
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.testing.sample_clips import sample_clip

runner = CliRunner()


def test_ask_answers_with_probabilities(tiny_model_dir):
    clip = str(sample_clip("bikes"))
    args = [
        "ask",
        clip,
        "Does the camera pan to the left?",
        "--backend",
        "hf",
        "--model",
        str(tiny_model_dir),
    ]
    result = runner.invoke(app, [*args, "--fps", "1", "--json"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output.strip().splitlines()[-1])
    assert set(obj["option_probs"]) == {"A", "B"} and sum(obj["option_probs"].values()) == pytest.approx(1)


def test_analyze_reads_fifteen_primitives(tiny_model_dir):
    clip = str(sample_clip("carphone_pristine"))
    args = ["analyze", clip, "--backend", "hf", "--model", str(tiny_model_dir), "--fps", "1", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output.strip().splitlines()[-1])
    assert set(obj["scores"]) == set(PRIMITIVES)
    assert all(0.0 <= s <= 1.0 for s in obj["scores"].values())


def test_eval_scores_a_question_file(tiny_model_dir, tmp_path):
    from camreasoner.formats.questions import binary_question, write_questions

    clip = sample_clip("carphone_pristine")
    questions = [
        binary_question(p, clip.name, p == "Zoom_In", i)
        for i, p in enumerate(["Zoom_In", "Pan_Left", "Static"])
    ]
    write_questions(tmp_path / "q.json", questions)
    args = [
        "eval",
        "run",
        "--bench",
        str(tmp_path / "q.json"),
        "--video-root",
        str(clip.parent),
        "--backend",
        "hf",
        "--model",
        str(tiny_model_dir),
        "--out",
        str(tmp_path / "run"),
        "--bootstrap",
        "20",
        "--no-report",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == 3
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())["scores"]
    assert len(scores) == 3 and all(0.0 <= s["score"] <= 1.0 for s in scores)


def test_ask_refuses_a_video_beyond_the_caps_in_one_line(tiny_model_dir):
    from camreasoner.core.errors import CamReasonerError

    clip = str(sample_clip("vtest"))  # 79.5 s: 300 frames at 4 fps make 35,100 visual tokens
    args = ["ask", clip, "Does the camera pan?", "--backend", "hf", "--model", str(tiny_model_dir)]
    result = runner.invoke(app, [*args, "--fps", "4", "--max-frames", "300"])
    assert result.exit_code != 0 and isinstance(result.exception, CamReasonerError)
    message = str(result.exception)
    assert (
        message.startswith(f"{clip}: 300 frames of ") and "above the cap" in message and "\n" not in message
    )
