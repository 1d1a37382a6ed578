"""Qwen2-VL and Qwen3-VL checkpoints run through the same hf path as Qwen2.5-VL (tiny random ones)."""

from __future__ import annotations

import json

import pytest
import torch  # noqa: F401

from camreasoner.backends import BackendItem, get_backend
from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS
from camreasoner.testing.sample_clips import sample_clip


def _ids(tiny_model_dir):
    cfg = json.loads((tiny_model_dir / "config.json").read_text())
    keys = ("image_token_id", "video_token_id", "vision_start_token_id", "vision_end_token_id")
    return cfg["text_config"], {k: cfg[k] for k in keys}


def _text(t, **extra):
    keys = ("vocab_size", "bos_token_id", "eos_token_id", "pad_token_id")
    base = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}
    return {**{k: t[k] for k in keys}, **base, "num_key_value_heads": 2, **extra}


def _qwen2_vl(tiny_model_dir, out):
    from transformers import AutoProcessor, Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor

    t, ids = _ids(tiny_model_dir)
    rope = {"rope_type": "default", "rope_theta": 1e6, "mrope_section": [2, 3, 3]}
    vision = {"depth": 2, "embed_dim": 32, "hidden_size": 64, "num_heads": 2, "mlp_ratio": 2}
    model = Qwen2VLForConditionalGeneration(
        Qwen2VLConfig(text_config=_text(t, rope_parameters=rope), vision_config=vision, **ids)
    )
    model.generation_config.max_new_tokens = 8
    model.save_pretrained(out)
    p = AutoProcessor.from_pretrained(tiny_model_dir)
    Qwen2VLProcessor(
        p.image_processor, p.tokenizer, p.video_processor, chat_template=p.chat_template
    ).save_pretrained(out)


def _qwen3_vl(tiny_model_dir, out):
    from transformers import (
        AutoProcessor,
        Qwen2VLImageProcessor,
        Qwen3VLConfig,
        Qwen3VLForConditionalGeneration,
        Qwen3VLProcessor,
        Qwen3VLVideoProcessor,
    )

    t, ids = _ids(tiny_model_dir)
    rope = {"rope_type": "default", "rope_theta": 5e6, "mrope_section": [2, 3, 3], "mrope_interleaved": True}
    vision = {
        "depth": 2,
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_heads": 2,
        "out_hidden_size": 64,
        "num_position_embeddings": 64,
        "deepstack_visual_indexes": [1],
        "patch_size": 16,
    }
    config = Qwen3VLConfig(
        text_config=_text(t, head_dim=16, rope_parameters=rope), vision_config=vision, **ids
    )
    model = Qwen3VLForConditionalGeneration(config)
    model.generation_config.max_new_tokens = 8
    model.save_pretrained(out)
    p = AutoProcessor.from_pretrained(tiny_model_dir)
    Qwen3VLProcessor(
        Qwen2VLImageProcessor(patch_size=16),
        p.tokenizer,
        Qwen3VLVideoProcessor(),
        chat_template=p.chat_template,
    ).save_pretrained(out)


@pytest.mark.parametrize("family", ["qwen2_vl", "qwen3_vl"])
def test_other_qwen_vl_families_answer_with_probabilities(family, tiny_model_dir, tmp_path):
    {"qwen2_vl": _qwen2_vl, "qwen3_vl": _qwen3_vl}[family](tiny_model_dir, tmp_path / family)
    be = get_backend("hf", model=str(tmp_path / family), max_pixels=64 * 28 * 28)
    assert be.runner.model.config.model_type == family
    items = [
        BackendItem(str(sample_clip(c)), QUESTIONS["Pan_Left"], BINARY_OPTIONS) for c in ("bikes", "tree")
    ]
    first, again = be.answer(items), be.answer(items)
    for a, b in zip(first, again, strict=True):
        assert a.error is None and a.text == b.text
        assert sorted(a.option_probs) == ["A", "B"] and sum(a.option_probs.values()) == pytest.approx(1.0)
    p = be.prepare(items[0])
    enc = be.runner.encode([p.video], [p.prompt])
    pads = int((enc["input_ids"] == be.runner.model.config.video_token_id).sum())
    assert pads == int(enc["video_grid_thw"].prod()) // 4
