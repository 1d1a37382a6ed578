"""The hf backend with the tiny Qwen2.5-VL: prompt and video tokens, P(option), determinism, bad input."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
import torch
import transformers  # noqa: F401

from camreasoner.backends import BackendItem, get_backend
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS, format_options
from camreasoner.model.prompt import INSTRUCTION
from camreasoner.model.scoring import answer_prefix, letter_continuations
from camreasoner.testing.sample_clips import sample_clip

SMALL = {"max_pixels": 64 * 28 * 28, "max_new_tokens": 12}
EIGHT = tuple(
    format_options(["Pan_Left", "Pan_Right", "Tilt_Up", "Tilt_Down", "Zoom_In", "Zoom_Out", "Static", "Roll"])
)


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    return get_backend("hf", model=str(tiny_model_dir), batch_size=4, **SMALL)


@pytest.fixture(scope="module")
def items():
    return [
        BackendItem(str(sample_clip("carphone_pristine")), QUESTIONS["Zoom_In"], BINARY_OPTIONS, "a"),
        BackendItem(str(sample_clip("bikes")), QUESTIONS["Pan_Left"], BINARY_OPTIONS, "b"),
        BackendItem(str(sample_clip("Megamind")), "Which camera motion is present?", EIGHT, "c"),
    ]


@pytest.fixture(scope="module")
def answered(backend, items):
    return backend.answer(items)


def test_prompt_holds_instruction_question_options_and_one_pad_per_merged_patch(backend, items):
    prepared = [backend.prepare(it) for it in items]
    batch = backend.runner.encode([p.video for p in prepared], [p.prompt for p in prepared])
    pad_id = backend.runner.model.config.video_token_id
    merge = backend.runner.processor.video_processor.merge_size
    for row, (p, it) in enumerate(zip(prepared, items, strict=True)):
        grid = batch["video_grid_thw"][row].tolist()
        assert tuple(grid) == p.video.grid_thw
        assert int((batch["input_ids"][row] == pad_id).sum()) == math.prod(grid) // merge**2
        text = backend.runner.tokenizer.decode(batch["input_ids"][row][batch["attention_mask"][row].bool()])
        assert text.count("<|vision_start|>") == 1 and INSTRUCTION in text
        assert it.question in text and all(o in text for o in it.options)
        assert text.endswith("<|im_start|>assistant\n")
    # left padding: the shorter prompts are padded at the start, all end on the assistant header
    assert bool((batch["attention_mask"][:, -1] == 1).all())
    assert batch["pixel_values_videos"].shape[0] == int(batch["video_grid_thw"].prod(dim=1).sum())


def test_option_probabilities_cover_the_letters_and_sum_to_one(answered, items):
    for item, resp in zip(items, answered, strict=True):
        assert resp.error is None
        letters = [o[0] for o in item.options]
        assert sorted(resp.option_probs) == sorted(letters)
        assert abs(sum(resp.option_probs.values()) - 1.0) < 1e-9
        assert all(0.0 <= p <= 1.0 for p in resp.option_probs.values())
        assert resp.meta["frames"] >= 2 and resp.meta["visual_tokens"] > 0
        assert resp.letter is None or resp.letter in letters


def test_letter_scores_equal_teacher_forced_sequence_probabilities(backend, items):
    """The answer-position scores are P(prefix<answer>L) renormalised, fused '>B' tokens included."""
    item = items[2]
    p = backend.prepare(item)
    head = "<observation>the picture slides left</observation>\n<think>a pan</think>\n"
    response = head + "<answer>C</answer>"
    ((probs, forced),) = backend.runner.score_letters([p.video], [p.prompt], [response], [p.letters])
    assert not forced and answer_prefix(response).text == head
    conts = letter_continuations(backend.runner.tokenizer, head, p.letters)
    assert any(len(s) > 1 for s in conts.suffixes.values())  # G, H are two tokens in the tiny vocab
    enc = backend.runner.encode([p.video], [p.prompt])
    n = enc["input_ids"].shape[1]
    direct = {}
    for letter, suffix in conts.suffixes.items():
        ids = torch.tensor([conts.common + suffix])
        full = {**enc, "input_ids": torch.cat([enc["input_ids"], ids], 1)}
        full["attention_mask"] = torch.ones_like(full["input_ids"])
        full["mm_token_type_ids"] = torch.cat([enc["mm_token_type_ids"], torch.zeros_like(ids)], 1)
        with torch.inference_mode():
            lp = torch.log_softmax(backend.runner.model(**full).logits[0].float(), -1)
        start = n + len(conts.common)
        direct[letter] = sum(float(lp[start + j - 1, t]) for j, t in enumerate(suffix))
    top = max(direct.values())
    z = sum(math.exp(v - top) for v in direct.values())
    for letter, value in direct.items():
        assert probs[letter] == pytest.approx(math.exp(value - top) / z, rel=1e-4, abs=1e-6)


def test_answer_is_forced_after_broken_output():
    assert answer_prefix("<observation>o</observation><think>t</think><answer>B</answer>").text == (
        "<observation>o</observation><think>t</think>"
    )
    broken = answer_prefix("rambling without tags  ")
    assert broken.forced and broken.text == "rambling without tags\n"
    assert answer_prefix("").text == "" and answer_prefix("").forced


def test_greedy_generation_is_deterministic_and_batch_equals_single(backend, items, answered):
    first = answered
    again = backend.answer(items)
    alone = [backend.answer([it])[0] for it in items]
    for a, b, c in zip(first, again, alone, strict=True):
        assert a.text == b.text == c.text
        assert a.option_probs == b.option_probs
        for letter in a.option_probs:
            assert a.option_probs[letter] == pytest.approx(c.option_probs[letter], abs=1e-4)


def test_sampling_is_reproducible_with_a_seed(tiny_model_dir, items):
    sampled = get_backend("hf", model=str(tiny_model_dir), temperature=1.0, seed=7, **SMALL)
    a = [r.text for r in sampled.answer(items[:2])]
    b = [r.text for r in sampled.answer(items[:2])]
    assert a == b
    greedy = get_backend("hf", model=str(tiny_model_dir), **SMALL)
    assert a != [r.text for r in greedy.answer(items[:2])]


def test_bad_items_get_one_line_errors_and_the_rest_are_answered(tiny_model_dir, tmp_path, items):
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    be = get_backend("hf", model=str(tiny_model_dir), max_frames=64, max_pixels=1024 * 1024, max_new_tokens=4)
    bad = [
        BackendItem(str(tmp_path / "missing.mp4"), "q?", BINARY_OPTIONS),
        BackendItem(str(empty), "q?", BINARY_OPTIONS),
        BackendItem(str(sample_clip("vtest")), "q?", BINARY_OPTIONS),  # 64 frames at 1 MP: too many tokens
        items[0],
    ]
    out = be.answer(bad)
    assert "missing.mp4: no such file" in out[0].error
    assert "empty.mp4" in out[1].error
    assert "vtest.avi" in out[2].error and "visual tokens, above the cap" in out[2].error
    assert all("\n" not in r.error for r in out[:3])
    assert out[3].error is None and sum(out[3].option_probs.values()) == pytest.approx(1.0)


def test_loading_errors_are_one_clear_line(tmp_path, tiny_model_dir):
    from transformers import GPT2Config, GPT2LMHeadModel

    GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=64)).save_pretrained(
        tmp_path / "gpt2"
    )
    cases = {
        "no such model directory": dict(model=str(tmp_path / "nope")),
        "a gpt2 checkpoint (GPT2LMHeadModel), not a video VLM": dict(model=str(tmp_path / "gpt2")),
        "no model given": dict(),
        "unknown hint mode": dict(model=str(tiny_model_dir), hint="magic"),
    }
    if not torch.cuda.is_available():
        cases["no CUDA GPU is visible"] = dict(model=str(tiny_model_dir), device="cuda")
    for expected, kw in cases.items():
        with pytest.raises(CamReasonerError, match=expected.replace("(", r"\(").replace(")", r"\)")):
            get_backend("hf", **kw)
    if not torch.cuda.is_available():
        with pytest.raises(CamReasonerError, match="the vllm backend needs a CUDA GPU"):
            get_backend("vllm", model=str(tiny_model_dir))


def test_cli_builds_the_tiny_model_and_reports_bad_dirs_in_one_line(tmp_path):
    exe = [sys.executable, "-m", "camreasoner.cli.app"]
    out = subprocess.run([*exe, "model", "tiny", "--out", str(tmp_path / "m")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "m" / "model.safetensors").is_file()
    again = subprocess.run([*exe, "model", "tiny", "--out", str(tmp_path / "m")], capture_output=True, text=True)
    assert again.returncode != 0 and again.stderr.strip().count("\n") == 0
    assert "already holds a tiny checkpoint" in again.stderr
    from typer.testing import CliRunner

    from camreasoner.cli.app import app

    info = CliRunner().invoke(app, ["model", "info", str(tmp_path / "m")])
    assert info.exit_code == 0 and '"model_type": "qwen2_5_vl"' in info.output
    bad = subprocess.run([*exe, "model", "info", str(tmp_path / "none")], capture_output=True, text=True)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert (
        bad.stderr.strip() == f"error: {tmp_path / 'none'}: no such model directory (models are never "
        "downloaded at run time; download the checkpoint first, or build one with `camreasoner model tiny --out DIR`)"
    )
