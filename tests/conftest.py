"""Session fixtures that build real artefacts once: the tiny Qwen2.5-VL checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random Qwen2.5-VL checkpoint directory (real classes, locally trained tokenizer)."""
    from camreasoner.model.tiny import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2.5-vl"))
