"""build_tiny_model's size options: a wider, deeper tiny model is a real, loadable Qwen2.5-VL that sees video."""

from __future__ import annotations

import pytest
import torch

from camreasoner.model.tiny import build_tiny_model


def test_sizes_reach_the_config_and_the_model_runs_on_video(tmp_path):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    out = build_tiny_model(tmp_path / "m", text_hidden=128, text_layers=3, vision_hidden=48, vision_depth=3)
    model = AutoModelForImageTextToText.from_pretrained(out, local_files_only=True).eval()
    processor = AutoProcessor.from_pretrained(out, local_files_only=True)
    text, vision = model.config.text_config, model.config.vision_config
    assert (text.hidden_size, text.num_hidden_layers, text.intermediate_size) == (128, 3, 256)
    assert (vision.hidden_size, vision.depth, vision.out_hidden_size) == (48, 3, 128)
    assert vision.fullatt_block_indexes == [2]
    frames = torch.randint(0, 255, (4, 56, 56, 3), dtype=torch.uint8).numpy()
    batch = processor(text=["<|vision_start|><|video_pad|><|vision_end|> pan"], videos=[frames],
                      do_sample_frames=False, return_tensors="pt")
    with torch.no_grad():
        logits = model(**batch).logits
        blank = model(**{**batch, "pixel_values_videos": torch.zeros_like(batch["pixel_values_videos"])}).logits
    assert logits.shape[-1] == model.config.text_config.vocab_size
    assert not torch.allclose(logits, blank)  # the video reaches the output


def test_bad_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="multiple of 64"):
        build_tiny_model(tmp_path / "bad", text_hidden=100)
