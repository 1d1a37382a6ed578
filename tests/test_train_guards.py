"""Start-up guards of training: the TRL / transformers versions it is tested on, and ``trl:`` keys
that would collide with what the recipe already sets (one line, before any compute)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from camreasoner.core.errors import CamReasonerError
from camreasoner.train.configs import (
    GRPO_TRL_FIELDS,
    SFT_TRL_FIELDS,
    load_recipe,
    recipe_from_dict,
)
from camreasoner.train.versions import SUPPORTED, check_installed, check_version

ROOT = Path(__file__).resolve().parents[1]


# -- versions -------------------------------------------------------------------------------------
@pytest.mark.parametrize("installed", ["1.16.0", "1.16.3", "1.16.10"])
def test_supported_trl_versions_pass(installed):
    check_version("trl", installed)


@pytest.mark.parametrize("installed", ["1.15.2", "1.17.0", "1.17.0rc1", "2.0.0", "0.9"])
def test_other_trl_versions_are_one_line_errors(installed):
    with pytest.raises(CamReasonerError) as info:
        check_version("trl", installed)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"trl {installed} is installed") and SUPPORTED["trl"] in message


def test_transformers_range_and_a_missing_package():
    check_version("transformers", "5.24.0")
    with pytest.raises(CamReasonerError, match=r"transformers 5\.25\.0 is installed.*transformers>=5\.24,<5\.25"):
        check_version("transformers", "5.25.0")
    with pytest.raises(CamReasonerError, match="trl is not installed"):
        check_version("trl", None)
    with pytest.raises(CamReasonerError, match="not a version number"):
        check_version("trl", "banana")


def test_the_installed_versions_are_the_supported_ones():
    check_installed()


def test_pyproject_pins_the_supported_ranges():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["train"]
    for package, wanted in SUPPORTED.items():
        assert f"{package}{wanted}" in extra, (package, extra)


# -- trl: keys the recipe already sets ------------------------------------------------------------
@pytest.mark.parametrize(
    ("stage", "trl", "message"),
    [
        ("grpo", {"beta": 0.1}, "'trl.beta' (set by grpo.beta)"),
        ("grpo", {"learning_rate": 1e-4, "reward_weights": [1.0]},
         "'trl.learning_rate' (set by train.learning_rate), 'trl.reward_weights' (set by grpo.rewards)"),
        ("sft", {"max_length": 128}, "'trl.max_length' (set by train.max_length)"),
        ("sft", {"remove_unused_columns": True}, "'trl.remove_unused_columns' (set by camreasoner itself"),
        ("grpo", {"gradient_checkpointing": True}, "(set by model.gradient_checkpointing)"),
    ],
)
def test_trl_keys_the_recipe_sets_are_refused(stage, trl, message):
    with pytest.raises(CamReasonerError) as info:
        recipe_from_dict({"stage": stage, "trl": trl}, "r.yaml")
    text = str(info.value)
    assert "\n" not in text and text.startswith("r.yaml: the recipe already sets ") and message in text


def test_trl_keys_the_recipe_does_not_set_pass():
    recipe = recipe_from_dict({"stage": "grpo", "trl": {"mask_truncated_completions": True}}, "r.yaml")
    assert recipe.trl == {"mask_truncated_completions": True}


def test_the_collision_tables_cover_every_field_the_trainers_set(tmp_path):
    """Every TRL field grpo_kwargs / sft_kwargs set is in the table the recipe check uses."""
    from camreasoner.train.common import Prepared
    from camreasoner.train.grpo import grpo_kwargs
    from camreasoner.train.sft import sft_kwargs

    raw = {"train": {"eval_steps": 5, "deepspeed": "ds.json"}}  # (the fields set only when asked)

    def prepared(stage: str) -> Prepared:
        recipe = recipe_from_dict({**raw, "stage": stage}, "r.yaml")
        return Prepared(recipe=recipe, model_dir="m", splits=None, output_dir=tmp_path, resume=False)

    sft = set(sft_kwargs(prepared("sft")))
    grpo_prep = prepared("grpo")
    grpo = set(grpo_kwargs(grpo_prep.recipe, grpo_prep))
    assert {"eval_strategy", "deepspeed", "learning_rate"} <= sft
    assert sft <= set(SFT_TRL_FIELDS), sft - set(SFT_TRL_FIELDS)
    assert grpo <= set(GRPO_TRL_FIELDS), grpo - set(GRPO_TRL_FIELDS)


def test_ema_needs_the_weighted_sum_and_sane_settings():
    with pytest.raises(CamReasonerError, match="drop 'trl.multi_objective_aggregation'"):
        recipe_from_dict({"stage": "grpo", "grpo": {"scale_rewards": "ema"},
                          "trl": {"multi_objective_aggregation": "normalize_then_sum"}}, "r.yaml")
    with pytest.raises(CamReasonerError, match="'grpo.scale_rewards' must be one of group, batch, none, ema"):
        recipe_from_dict({"stage": "grpo", "grpo": {"scale_rewards": "emma"}}, "r.yaml")
    with pytest.raises(CamReasonerError, match="0 < ema_decay < 1 and ema_floor > 0"):
        recipe_from_dict({"stage": "grpo", "grpo": {"scale_rewards": "ema", "ema_decay": 1.0}}, "r.yaml")
    recipe = recipe_from_dict({"stage": "grpo", "grpo": {"scale_rewards": "ema"}}, "r.yaml")
    assert (recipe.grpo.ema_decay, recipe.grpo.ema_floor) == (0.99, 1e-3)


def test_cli_refuses_a_colliding_trl_key_in_one_line(tmp_path):
    exe = Path(sys.executable).with_name("camreasoner")
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump({"stage": "grpo", "model": {"build_tiny": True}, "trl": {"beta": 0.1}}))
    with pytest.raises(CamReasonerError, match=r"r\.yaml: the recipe already sets 'trl\.beta'"):
        load_recipe(path)
    for command in (["train", "grpo", "--config", str(path), "--output-dir", str(tmp_path / "out")],
                    ["train", "check", "--config", str(path)]):
        proc = subprocess.run([str(exe), *command], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "'trl.beta' (set by grpo.beta)" in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # refused before building anything
