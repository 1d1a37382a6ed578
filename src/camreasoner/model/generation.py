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


def cut_at_vision_tokens(ids: Sequence[int], banned: Sequence[int], end_id: int) -> list[int]:
    """``ids`` with the first banned token replaced by ``end_id`` (the EOS) and the rest dropped.

    The cut completion is never empty (TRL reads its last token) and reads as ended, not clipped.
    The length is kept up to the cut, so a per-token log-prob list cut to the same length stays
    aligned (its last entry is the sampled vision token's, re-scored by the trainer's own pass).
    """
    banned_set = set(banned)
    for k, token in enumerate(ids):
        if token in banned_set:
            return [*ids[:k], end_id]
    return list(ids)
