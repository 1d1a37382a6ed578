"""The tiny Qwen2.5-VL checkpoint: real classes, loadable by the Auto classes, Qwen's tokens and template."""

from __future__ import annotations

import json

import pytest
import torch

from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS
from camreasoner.model.prompt import INSTRUCTION, build_messages, render_prompt
from camreasoner.model.tiny import QWEN2_5_VL_CHAT_TEMPLATE, SPECIAL_TOKENS, build_tiny_model
from camreasoner.testing.sample_clips import sample_clip
from camreasoner.video.sampling import VideoSampling, sample_video


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_model_dir, local_files_only=True)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir, local_files_only=True).eval()
    return processor, model


def test_checkpoint_loads_with_the_auto_classes_as_the_real_classes(tiny_model_dir, loaded):
    processor, model = loaded
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["model_type"] == "qwen2_5_vl"
    assert config["architectures"] == ["Qwen2_5_VLForConditionalGeneration"]
    assert type(model).__name__ == "Qwen2_5_VLForConditionalGeneration"
    assert type(processor).__name__ == "Qwen2_5_VLProcessor"
    assert type(processor.video_processor).__name__ == "Qwen2VLVideoProcessor"
    assert type(processor.tokenizer).__name__ == "Qwen2Tokenizer"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_tokenizer_has_qwen_special_tokens_in_qwen_order(loaded):
    processor, model = loaded
    tok = processor.tokenizer
    ids = tok.convert_tokens_to_ids(list(SPECIAL_TOKENS))
    assert ids == list(range(ids[0], ids[0] + len(SPECIAL_TOKENS)))  # consecutive, <|endoftext|> first
    assert model.config.video_token_id == tok.convert_tokens_to_ids("<|video_pad|>")
    assert model.config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    assert model.config.vision_start_token_id == tok.convert_tokens_to_ids("<|vision_start|>")
    assert tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    assert max(ids) < model.config.get_text_config().vocab_size
    # special tokens stay whole; option letters are single tokens; text round-trips
    assert tok.tokenize("<|im_start|>user<|video_pad|>") == ["<|im_start|>", "user", "<|video_pad|>"]
    assert all(len(tok(letter, add_special_tokens=False)["input_ids"]) == 1 for letter in "ABCDEF")
    text = "<observation>the picture slides left</observation><answer>B</answer>"
    assert tok.decode(tok(text)["input_ids"]) == text


def test_chat_template_is_qwen2_5_vl_and_matches_trl(loaded):
    processor, _ = loaded
    messages = build_messages("x.mp4", QUESTIONS["Pan_Left"], BINARY_OPTIONS)
    prompt = render_prompt(processor, messages)
    assert prompt.startswith("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n")
    assert "<|vision_start|><|video_pad|><|vision_end|>Question: Does the camera pan to the left?" in prompt
    assert INSTRUCTION in prompt and prompt.endswith("<|im_start|>assistant\n")
    from trl.chat_template_utils import qwen2_5_vl_chat_template

    assert processor.chat_template == QWEN2_5_VL_CHAT_TEMPLATE == qwen2_5_vl_chat_template


def test_video_pads_match_grid_and_forward_runs(loaded):
    processor, model = loaded
    video = sample_video(sample_clip("carphone_pristine"), VideoSampling(max_pixels=64 * 28 * 28))
    prompt = render_prompt(processor, build_messages("v", QUESTIONS["Zoom_In"], BINARY_OPTIONS))
    batch = processor(
        text=[prompt],
        videos=[video.frames],
        video_metadata=[video.metadata()],
        do_sample_frames=False,
        cap_pixels_per_frame=False,
        return_tensors="pt",
    )
    grid = batch["video_grid_thw"][0].tolist()
    assert tuple(grid) == video.grid_thw  # our sampler predicts the processor's grid
    pads = int((batch["input_ids"] == model.config.video_token_id).sum())
    assert (
        pads == grid[0] * grid[1] * grid[2] // processor.video_processor.merge_size**2 == video.visual_tokens
    )
    assert batch["pixel_values_videos"].shape[0] == grid[0] * grid[1] * grid[2]
    with torch.inference_mode():
        out = model(**batch)
    assert out.logits.shape == (1, batch["input_ids"].shape[1], model.config.get_text_config().vocab_size)
    assert torch.isfinite(out.logits).all()


def test_same_seed_same_weights_other_seed_differs(tmp_path, tiny_model_dir):
    from safetensors.torch import load_file

    again = build_tiny_model(tmp_path / "again", seed=0)
    other = build_tiny_model(tmp_path / "other", seed=1)
    a = load_file(tiny_model_dir / "model.safetensors")
    b = load_file(again / "model.safetensors")
    c = load_file(other / "model.safetensors")
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a if a[k].shape == c[k].shape)
