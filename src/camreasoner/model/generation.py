"""Generation guards: a policy never writes the model's vision special tokens.

A sampled completion holding ``<|video_pad|>`` (or another vision token) makes the next forward pass
over prompt + completion count more video tokens than the video has features, and transformers'
Qwen2.5-VL raises. Generation is therefore barred from those tokens (``bad_words_ids`` for
transformers, ``bad_words`` for vLLM), and a completion that still holds one is cut there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Qwen2-VL / Qwen2.5-VL / Qwen3-VL vision specials (those a tokenizer lacks are skipped).
VISION_TOKENS = ("<|vision_start|>", "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>")


def vision_token_ids(tokenizer: Any) -> list[int]:
    """The ids of the vision special tokens this tokenizer knows, sorted."""
    vocab = tokenizer.get_vocab()
    return sorted({vocab[t] for t in VISION_TOKENS if t in vocab})


def vision_token_strings(tokenizer: Any) -> list[str]:
    """The vision special tokens this tokenizer knows, as strings (vLLM's ``bad_words``)."""
    vocab = tokenizer.get_vocab()
    return [t for t in VISION_TOKENS if t in vocab]


def bad_words_ids(tokenizer: Any) -> list[list[int]]:
    """transformers' ``bad_words_ids`` barring every vision special token."""
    return [[i] for i in vision_token_ids(tokenizer)]


def cut_at_vision_tokens(ids: Sequence[int], banned: Sequence[int]) -> list[int]:
    """``ids`` up to (not including) the first banned token."""
    banned_set = set(banned)
    for k, token in enumerate(ids):
        if token in banned_set:
            return list(ids[:k])
    return list(ids)
