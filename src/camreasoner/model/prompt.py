"""The O-T-A instruction (in our own words) and the chat messages that carry a video and a question.

The messages follow the Qwen2.5-VL chat format: one user turn whose content is a video entry
followed by a text entry; the processor's chat template turns the video entry into
``<|vision_start|><|video_pad|><|vision_end|>`` and the processor expands ``<|video_pad|>`` to one
token per merged visual patch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

INSTRUCTION = (
    "Work out how the camera itself moves in this video. "
    "First, in <observation></observation>, describe what changes from one frame to the next: "
    "which way the picture slides, grows, shrinks or turns, and whether near and far things shift "
    "by different amounts. "
    "Then, in <think></think>, reason from those changes to the camera motion that explains them. "
    "Finally, in <answer></answer>, give only the letter of the one correct option."
)

ANSWER_OPEN = "<answer>"
ANSWER_CLOSE = "</answer>"


def question_text(
    question: str, options: Sequence[str], hint: str | None = None, instruction: bool = True
) -> str:
    """The user text: an optional cue block, the question, the lettered options, the instruction.

    ``instruction=False`` leaves the O-T-A instruction out (the SFT warm-up of a model trained from
    scratch, ``data.bare_prompt_steps``); every backend asks with it.
    """
    parts = []
    if hint:
        parts.append(hint.strip())
    parts.append(f"Question: {question.strip()}")
    parts.append("Options:\n" + "\n".join(o.strip() for o in options))
    if instruction:
        parts.append(INSTRUCTION)
    return "\n".join(parts)


def build_messages(
    video: Any, question: str, options: Sequence[str], hint: str | None = None, instruction: bool = True
) -> list[dict[str, Any]]:
    """Chat messages for one item: a user turn holding the video, then the question text.

    ``video`` is whatever the caller passes to the processor (a path, or frames); the chat template
    only needs to know a video is there.
    """
    return [
        {
            "role": "user",
            "content": [
                {"type": "video", "video": video},
                {"type": "text", "text": question_text(question, options, hint, instruction)},
            ],
        }
    ]


def render_prompt(processor: Any, messages: list[dict[str, Any]]) -> str:
    """The prompt string (before the video pads are expanded), ending with the assistant header."""
    return processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
