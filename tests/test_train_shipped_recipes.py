"""The shipped tiny recipes as a user runs them: SFT for 3 steps, then GRPO for 4 steps.

An early SFT model samples freely (the shipped GRPO recipe: 2 prompts x 8 completions of up to 96
tokens at temperature 1.0); this is where a sampled vision special token used to make the forward
pass count more video tokens than the clip has features.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from camreasoner.testing.sample_clips import OPENCV_DOC_DATA
from camreasoner.train.configs import load_recipe, recipe_from_dict, recipe_to_dict

ROOT = Path(__file__).resolve().parents[1]
CLIP = OPENCV_DOC_DATA / "vtest.avi"

from train_fixtures import write_suite  # noqa: E402


def _shipped(stage: str, suite: Path, out: Path, model: dict, steps: int):
    raw = recipe_to_dict(load_recipe(ROOT / "configs" / f"tiny_cpu_{stage}.yaml"))
    raw.pop("source")
    raw["model"].update(model)
    raw["data"]["suite_dir"] = str(suite)
    raw["train"].update(output_dir=str(out), max_steps=steps, report_to="none", save_steps=1000)
    return recipe_from_dict(raw, f"configs/tiny_cpu_{stage}.yaml (test)")


@pytest.mark.slow
def test_shipped_recipes_sft_3_steps_then_grpo_4_steps(tmp_path, tiny_model_dir):
    from camreasoner.train.grpo import build_trainer
    from camreasoner.train.sft import run_sft

    suite = write_suite(tmp_path / "suite", CLIP, ["Static", "Pan_Left", "Zoom_In", "Move_Up"])
    sft = run_sft(_shipped("sft", suite, tmp_path / "sft", {"build_tiny": False,
                                                            "name_or_path": str(tiny_model_dir)}, 3))
    trainer, _, _ = build_trainer(_shipped("grpo", suite, tmp_path / "grpo", {"name_or_path": str(sft)}, 4))
    trainer.train()
    assert trainer.state.global_step == 4
    logs = [h for h in trainer.state.log_history if "completions/mean_length" in h]
    assert len(logs) == 4 and all(h["completions/min_length"] >= 1 for h in logs)
