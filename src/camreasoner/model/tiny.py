"""A tiny random Qwen2.5-VL checkpoint, built with the real classes, for tests and smoke runs.

``build_tiny_model(out_dir)`` writes a normal checkpoint directory: a small random
``Qwen2_5_VLForConditionalGeneration``, a byte-level BPE tokenizer trained here on a corpus of our
own words (the O-T-A format, the 15 questions, options, digits) with Qwen2.5-VL's special tokens and
chat template, and a ``Qwen2_5_VLProcessor`` with Qwen2-VL image and video processors holding the
real 7B preprocessing settings. It loads with ``AutoProcessor`` and
``AutoModelForImageTextToText.from_pretrained`` exactly as a real Qwen2.5-VL-7B directory does.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from camreasoner.core.taxonomy import BINARY_OPTIONS, PRIMITIVES, QUESTIONS, format_options
from camreasoner.model.prompt import INSTRUCTION, question_text

# Qwen2.5-VL's chat template, verbatim (also shipped by TRL as chat_templates/qwen2_5_vl.jinja).
QWEN2_5_VL_CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n{% if message['content'] is string %}"
    "{{ message['content'] }}<|im_end|>\n{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}"
    "Picture {{ image_count.value }}: {% endif %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}"
    "Video {{ video_count.value }}: {% endif %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Qwen2.5's added tokens, in Qwen's id order (<|endoftext|> first); the last two are not special.
SPECIAL_TOKENS: tuple[str, ...] = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
NON_SPECIAL_ADDED = ("<tool_call>", "</tool_call>")

# Qwen2.5-VL-7B-Instruct's preprocessing settings (preprocessor_config.json).
QWEN2_5_VL_7B_PREPROCESSING = {
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
    "min_pixels": 3136,
    "max_pixels": 12845056,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
}

_OTA_WORDS = (
    "the picture slides left slides right slides up slides down grows shrinks turns clockwise "
    "counterclockwise near far things shift more less parallax no parallax focus of expansion "
    "contraction uniform magnification about the centre the camera pans tilts rolls zooms moves "
    "forward backward leftward rightward upward downward trucks dollies pedestals stays still shakes "
    "so it is a pan not a move because all depths move alike the background and foreground differ"
)


def _corpus(seed: int) -> list[str]:
    """Lines of text the tokenizer is trained on: our prompt words, questions, options, O-T-A answers."""
    rng = random.Random(seed)
    lines = [INSTRUCTION, _OTA_WORDS, "You are a helpful assistant.", "system user assistant"]
    lines += [" ".join(str(d) for d in range(10)), "0123456789 0.5 1.0 12.3 -4.56 %"]
    for primitive, question in QUESTIONS.items():
        lines.append(question_text(question, BINARY_OPTIONS))
        lines.append(f"{primitive} {primitive.replace('_', ' ')}")
    options = format_options(list(PRIMITIVES))
    lines.append("\n".join(options))
    words = _OTA_WORDS.split()
    for _ in range(200):
        obs = " ".join(rng.choices(words, k=8))
        think = " ".join(rng.choices(words, k=8))
        letter = rng.choice("ABCDEF")
        lines.append(f"<observation>{obs}</observation>\n<think>{think}</think>\n<answer>{letter}</answer>")
    return lines


def _train_tokenizer(seed: int, vocab_size: int):
    """A Qwen2Tokenizer whose byte-level BPE vocabulary is trained here, plus Qwen's added tokens."""
    from tokenizers import AddedToken, Tokenizer, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    base = Qwen2Tokenizer()  # Qwen2's normaliser, pre-tokeniser (split regex + byte level) and decoder
    backend: Tokenizer = base.backend_tokenizer
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    fresh = Tokenizer.from_str(backend.to_str())
    fresh.train_from_iterator(_corpus(seed), trainer=trainer)
    model = json.loads(fresh.to_str())["model"]
    vocab: dict[str, int] = model["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    vocab = {tok: i for i, tok in enumerate(sorted(vocab, key=vocab.__getitem__))}
    tok = Qwen2Tokenizer(
        vocab=vocab,
        merges=merges,
        unk_token=None,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        errors="replace",
        model_max_length=32768,
        clean_up_tokenization_spaces=False,
        split_special_tokens=False,
    )
    tok.add_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS], special_tokens=True
    )
    tok.add_tokens([AddedToken(t, special=False, normalized=False) for t in NON_SPECIAL_ADDED])
    tok.eos_token = "<|im_end|>"  # as in Qwen2.5-VL-Instruct; <|endoftext|> keeps the first added id
    tok.chat_template = QWEN2_5_VL_CHAT_TEMPLATE
    return tok


def build_tiny_model(
    out_dir: str | Path,
    seed: int = 0,
    *,
    text_hidden: int = 64,
    text_layers: int = 2,
    vision_hidden: int = 32,
    vision_depth: int = 2,
) -> Path:
    """Build and save a tiny random Qwen2.5-VL checkpoint into ``out_dir``; return the directory.

    The sizes default to the smallest model (text 64 wide x 2 layers, vision 32 wide x 2 blocks);
    ``text_hidden`` must be a multiple of 64 and ``vision_hidden`` of 16 (4 text / 2 vision heads).

    The directory holds ``config.json``, ``model.safetensors``, ``generation_config.json``, the
    tokenizer files, ``processor_config.json`` / preprocessor configs and ``chat_template.jinja``.
    """
    import torch
    from transformers import (
        GenerationConfig,
        Qwen2_5_VLConfig,
        Qwen2_5_VLForConditionalGeneration,
        Qwen2_5_VLProcessor,
        Qwen2VLImageProcessor,
        Qwen2VLVideoProcessor,
    )

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = _train_tokenizer(seed, vocab_size=1024)
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab_size = ((len(tokenizer) + 63) // 64) * 64

    if text_hidden % 64 or vision_hidden % 16 or min(text_layers, vision_depth) < 1:
        raise ValueError("text_hidden must be a multiple of 64, vision_hidden of 16, depths >= 1")
    hidden, heads = text_hidden, 4
    k = text_hidden // 64  # M-RoPE sections sum to head_dim / 2
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": vocab_size,
            "hidden_size": hidden,
            "intermediate_size": 2 * hidden,
            "num_hidden_layers": text_layers,
            "num_attention_heads": heads,
            "num_key_value_heads": 2,
            "max_position_embeddings": 32768,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [2 * k, 3 * k, 3 * k]},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "tie_word_embeddings": False,
        },
        vision_config={
            "depth": vision_depth,
            "hidden_size": vision_hidden,
            "intermediate_size": 2 * vision_hidden,
            "num_heads": 2,
            "out_hidden_size": hidden,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
            "window_size": 112,
            "fullatt_block_indexes": [vision_depth - 1],
            "tokens_per_second": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    model.generation_config = GenerationConfig(
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=[ids["<|im_end|>"], ids["<|endoftext|>"]],
        pad_token_id=ids["<|endoftext|>"],
        do_sample=False,
        max_new_tokens=48,  # a random model never stops on its own: keep smoke runs short
    )
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model.save_pretrained(out)

    pre = QWEN2_5_VL_7B_PREPROCESSING
    common = {
        "patch_size": pre["patch_size"],
        "temporal_patch_size": pre["temporal_patch_size"],
        "merge_size": pre["merge_size"],
        "min_pixels": pre["min_pixels"],
        "max_pixels": pre["max_pixels"],
        "image_mean": pre["image_mean"],
        "image_std": pre["image_std"],
    }
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**common),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(**common),
        chat_template=QWEN2_5_VL_CHAT_TEMPLATE,
    )
    processor.save_pretrained(out)
    return out
