"""Frames, visual tokens and tokens per clip for the default VLM sampling at Qwen2.5-VL-7B scale,
and a peak-memory estimate for 7B bf16 weights + KV cache.

The visual tokens come from transformers' Qwen2-VL video processor built here with
Qwen2.5-VL-7B-Instruct's preprocessing settings (patch 14, merge 2, temporal patch 2,
min/max pixels 3136/12845056), run on real clips sampled by camreasoner's default sampling
(1 fps, <= 64 frames, <= 200,704 pixels per frame). The 7B parameter count is exact (the model is
built on the meta device from the published 7B configuration); the KV cache follows from its
attention shape. Text tokens are an estimate (characters / 4): the real 7B tokenizer is not on
this machine.

    nice .venv/bin/python bench/bench_vlm_tokens.py
"""

from __future__ import annotations

import math
import time

import numpy as np

from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS
from camreasoner.model.prompt import question_text
from camreasoner.model.tiny import QWEN2_5_VL_7B_PREPROCESSING
from camreasoner.testing.sample_clips import available_clips
from camreasoner.video.sampling import VideoSampling, sample_video, smart_resize

# Qwen2.5-VL-7B-Instruct's config.json (text and vision towers).
QWEN2_5_VL_7B = {
    "text_config": {
        "vocab_size": 152064,
        "hidden_size": 3584,
        "intermediate_size": 18944,
        "num_hidden_layers": 28,
        "num_attention_heads": 28,
        "num_key_value_heads": 4,
        "max_position_embeddings": 128000,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
    },
    "vision_config": {
        "depth": 32,
        "hidden_size": 1280,
        "intermediate_size": 3420,
        "num_heads": 16,
        "out_hidden_size": 3584,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "fullatt_block_indexes": [7, 15, 23, 31],
        "tokens_per_second": 2,
    },
}
MAX_NEW_TOKENS = 1024
GIB = 1024**3


def video_processor():
    """transformers' Qwen2-VL video processor with the 7B preprocessing settings."""
    from transformers import Qwen2VLVideoProcessor

    pre = QWEN2_5_VL_7B_PREPROCESSING
    return Qwen2VLVideoProcessor(**{k: pre[k] for k in pre})


def seven_b_parameters() -> tuple[int, int]:
    """(total, vision) parameters of Qwen2.5-VL-7B, counted on the meta device (no weights)."""
    import torch
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    config = Qwen2_5_VLConfig(**QWEN2_5_VL_7B)
    with torch.device("meta"):
        model = Qwen2_5_VLForConditionalGeneration(config)
    total = sum(p.numel() for p in model.parameters())
    vision = sum(p.numel() for p in model.model.visual.parameters())
    return total, vision


def kv_bytes_per_token() -> int:
    """K and V, every layer, bf16."""
    t = QWEN2_5_VL_7B["text_config"]
    head_dim = t["hidden_size"] // t["num_attention_heads"]
    return 2 * t["num_hidden_layers"] * t["num_key_value_heads"] * head_dim * 2


def text_tokens_estimate() -> int:
    """Chat template + instruction + a binary question, at ~4 characters per token."""
    chars = len("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n")
    chars += len(question_text(QUESTIONS["Move_In"], BINARY_OPTIONS)) + len(
        "<|im_end|>\n<|im_start|>assistant\n"
    )
    return math.ceil(chars / 4) + 2  # + vision start / end


def main() -> None:
    """Print the per-clip table, the 10-second table and the memory estimate."""
    vp = video_processor()
    sampling = VideoSampling()
    text = text_tokens_estimate()
    print(
        f"default sampling: {sampling.fps:g} fps, <= {sampling.max_frames} frames, <= {sampling.max_pixels} px/frame"
    )
    print(f"text tokens per binary question (estimate): {text}\n")
    print(
        f"{'clip':<20}{'source':>11}{'secs':>7}{'frames':>7}{'frame':>10}{'grid t,h,w':>13}"
        f"{'visual tok':>11}{'tok/clip':>9}{'decode s':>9}"
    )
    rows = []
    for name, path in available_clips().items():
        t0 = time.perf_counter()
        video = sample_video(path, sampling)
        dt = time.perf_counter() - t0
        out = vp(
            videos=[video.frames],
            video_metadata=[video.metadata()],
            do_sample_frames=False,
            cap_pixels_per_frame=False,
            return_tensors="np",
        )
        grid = [int(x) for x in out["video_grid_thw"][0]]
        assert tuple(grid) == video.grid_thw, (grid, video.grid_thw)
        visual = int(np.prod(grid)) // vp.merge_size**2
        h, w = video.frames.shape[1:3]
        rows.append((name, visual))
        print(
            f"{name:<20}{video.source_size[0]:>5}x{video.source_size[1]:<5}{video.duration:>7.1f}"
            f"{len(video.frames):>7}{w:>5}x{h:<4}{str(tuple(grid)):>13}{visual:>11}{visual + text:>9}{dt:>9.2f}"
        )
    print("\n10-second clips at 1 fps (10 frames), from the processor's own token count:")
    print(f"{'source':>11}{'frame':>11}{'visual tok':>11}{'tok/clip':>9}{'+1024 gen':>10}")
    ten = {}
    for w0, h0 in ((640, 360), (1280, 720), (1920, 1080), (3840, 2160), (1080, 1920)):
        hh, ww = smart_resize(h0, w0, sampling.min_pixels, sampling.max_pixels)
        patches = vp.get_num_of_video_patches(10, hh, ww, {})
        visual = patches // vp.merge_size**2
        ten[(w0, h0)] = visual
        print(
            f"{w0:>5}x{h0:<5}{ww:>5}x{hh:<5}{visual:>11}{visual + text:>9}{visual + text + MAX_NEW_TOKENS:>10}"
        )
    total, vision = seven_b_parameters()
    kv = kv_bytes_per_token()
    weights = total * 2
    print(
        f"\nQwen2.5-VL-7B: {total / 1e9:.3f} B parameters ({vision / 1e6:.0f} M vision); bf16 weights "
        f"{weights / GIB:.2f} GiB; KV cache {kv // 1024} KiB per token"
    )
    per_seq = ten[(1920, 1080)] + text + MAX_NEW_TOKENS
    hh, ww = smart_resize(1080, 1920, sampling.min_pixels, sampling.max_pixels)
    full = vp.get_num_of_video_patches(sampling.max_frames, hh, ww, {}) // vp.merge_size**2
    worst = full + text + MAX_NEW_TOKENS
    print(
        f"sequence of a 10 s 1080p clip + {MAX_NEW_TOKENS} generated tokens: {per_seq} tokens; "
        f"a 64-frame 1080p clip: {worst} tokens"
    )
    print(
        f"{'batch':>6}{'KV 10 s clip GiB':>18}{'peak est. GiB':>15}{'KV 64-frame GiB':>17}{'peak est. GiB':>15}"
    )
    for batch in (1, 8, 32, 64):
        kv10 = batch * per_seq * kv / GIB
        kv64 = batch * worst * kv / GIB
        # + 10% of the weights for activations, the vision tower's buffers and allocator slack
        print(
            f"{batch:>6}{kv10:>18.2f}{weights / GIB * 1.1 + kv10:>15.2f}{kv64:>17.2f}{weights / GIB * 1.1 + kv64:>15.2f}"
        )


if __name__ == "__main__":
    main()
