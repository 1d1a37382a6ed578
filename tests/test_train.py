"""Training on the tiny Qwen2.5-VL with real video: SFT overfits a batch, resume continues, GRPO
steps see the video, online filtering drops groups without signal, bad recipes fail in one line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import peft  # noqa: F401  (the train extra: missing, these tests fail)
import pytest
import trl  # noqa: F401
import yaml
from train_fixtures import write_suite

from camreasoner.core.errors import CamReasonerError
from camreasoner.testing.sample_clips import sample_clip
from camreasoner.train.common import apply_overrides
from camreasoner.train.configs import load_recipe, recipe_from_dict

ROOT = Path(__file__).resolve().parents[1]

PRIMS = ["Static", "Pan_Left", "Zoom_In", "Move_Up"]
VIDEO = {"fps": 4.0, "max_frames": 2, "max_pixels": 3136, "min_pixels": 3136}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_suite(tmp_path_factory.mktemp("suite"), sample_clip("vtest"), PRIMS)


def _recipe(stage: str, suite: Path, out: Path, model_dir: Path, **sections):
    raw = {
        "stage": stage,
        "hardware": "CPU",
        "model": {"name_or_path": str(model_dir)},
        "data": {"suite_dir": str(suite)},
        "video": VIDEO,
        "train": {"output_dir": str(out), "report_to": "none", "save_steps": 1000, "seed": 0},
    }
    for key, value in sections.items():
        raw[key] = {**raw.get(key, {}), **value}
    return recipe_from_dict(raw, f"<{stage} test recipe>")


# -- recipes --------------------------------------------------------------------------------------
def test_every_shipped_recipe_validates():
    files = sorted((ROOT / "configs").glob("*.yaml"))
    assert len(files) >= 5
    for f in files:
        recipe = load_recipe(f)
        assert recipe.hardware, f"{f} does not state its hardware"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"train": {"learnin_rate": 1}}, "unknown key 'train.learnin_rate'"),
        ({"optimizer": {}}, "unknown key 'optimizer'"),
        ({"train": {"max_steps": "ten"}}, "key 'train.max_steps' must be int"),
        ({"stage": "ppo"}, "'stage' must be 'sft' or 'grpo'"),
        ({"grpo": {"num_generations": 1}}, "at least 2"),
        ({"grpo": {"rewards": {"acuracy": 1.0}}}, "unknown reward 'acuracy'"),
        ({"stage": "grpo", "trl": {"not_a_field": 1}}, "unknown key 'trl.not_a_field'"),
        ({"data": {"bare_prompt_steps": -1}}, "'data.bare_prompt_steps' must be >= 0"),
        ({"stage": "grpo", "data": {"bare_prompt_steps": 5}}, "is for SFT recipes only"),
        ({"data": {"bare_prompt_steps": 5}, "train": {"dataloader_num_workers": 2}}, "dataloader_num_workers: 0"),
    ],
)
def test_bad_recipes_are_one_line_errors(raw, message):
    with pytest.raises(CamReasonerError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        recipe_from_dict(raw, "r.yaml")
    assert "\n" not in str(info.value) and str(info.value).startswith("r.yaml: ")


def _cli(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("camreasoner")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


def test_cli_rejects_bad_configs_before_any_compute(tmp_path, suite):
    wrong = tmp_path / "llama"
    wrong.mkdir()
    (wrong / "config.json").write_text('{"model_type": "llama"}')
    cases = {
        "unknown.yaml": ({"stage": "sft", "train": {"lr": 1}}, "unknown key 'train.lr'"),
        "nodata.yaml": (
            {"stage": "sft", "model": {"build_tiny": True}, "data": {"train_file": str(tmp_path / "x.parquet")}},
            "no such file",
        ),
        "arch.yaml": (
            {"stage": "sft", "model": {"name_or_path": str(wrong)}, "data": {"suite_dir": str(suite)}},
            "model_type is 'llama'",
        ),
    }
    for name, (raw, message) in cases.items():
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw))
        proc = _cli("train", "sft", "--config", str(path), "--output-dir", str(tmp_path / "out"))
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "base_model").exists()  # failed before building anything
    for raw, message in (({"stage": "sft", "data": {"suite_dir": str(suite)}}, "pass rates are for GRPO recipes"),
                         ({"stage": "grpo", "model": {"name_or_path": str(wrong)}, "data": {"suite_dir": str(suite)}},
                          "model_type is 'llama'")):
        path = tmp_path / "pass.yaml"
        path.write_text(yaml.safe_dump(raw))
        proc = _cli("train", "pass-rate", "--config", str(path), "--out", str(tmp_path / "kept.parquet"))
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    path.write_text(yaml.safe_dump({"stage": "grpo", "data": {"suite_dir": str(suite)}}))
    for args, message in ((["--samples", "0"], "at least 1 sample"), (["--low", "0.9", "--high", "0.1"], "0 <= low <= high")):
        proc = _cli("train", "pass-rate", "--config", str(path), "--out", str(tmp_path / "kept.parquet"), *args)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr
    assert not (tmp_path / "kept.parquet").exists()


# -- SFT ------------------------------------------------------------------------------------------
def test_sft_labels_cover_only_the_response(suite, tiny_model_dir, tmp_path):
    from camreasoner.train.sft import build_trainer

    recipe = _recipe("sft", suite, tmp_path / "sft", tiny_model_dir, train={"max_steps": 1})
    trainer, processor, _ = build_trainer(recipe)
    rows = [trainer.train_dataset[i] for i in range(2)]
    batch = trainer.data_collator(rows)
    assert batch["pixel_values_videos"].shape[0] == 2 * batch["video_grid_thw"].prod(-1)[0]
    for row, ids, labels in zip(rows, batch["input_ids"], batch["labels"], strict=True):
        kept = [t for t in labels.tolist() if t != -100]
        text = processor.tokenizer.decode(kept)
        assert text.strip() == row["response"] + "<|im_end|>\n".strip()
        assert (ids == processor.tokenizer.convert_tokens_to_ids("<|video_pad|>")).sum() > 0


def test_sft_bare_prompt_warm_up_switches_to_the_full_prompt(suite, tiny_model_dir, tmp_path):
    from camreasoner.model.prompt import INSTRUCTION
    from camreasoner.train.sft import build_trainer

    recipe = _recipe("sft", suite, tmp_path / "sft", tiny_model_dir,
                     data={"bare_prompt_steps": 2}, train={"max_steps": 5, "per_device_train_batch_size": 2})
    trainer, processor, _ = build_trainer(recipe)
    collator = trainer.data_collator
    has_instruction: list[bool] = []  # one entry per batch the trainer collated, in order

    def collate(rows):
        batch = collator(rows)
        has_instruction.append(INSTRUCTION[:40] in processor.tokenizer.decode(batch["input_ids"][0]))
        return batch

    trainer.data_collator = collate
    trainer.train()
    assert trainer.state.global_step == 5
    # the first two steps' batches leave the instruction out (the loader may prefetch one more);
    # the rest carry the full prompt the backends use
    assert has_instruction[:2] == [False, False] and has_instruction.count(False) <= 3
    assert has_instruction[-1] is True
    collator.bare = False
    full = collator([trainer.train_dataset[0]])["labels"][0].tolist()
    collator.bare = True
    bare = collator([trainer.train_dataset[0]])["labels"][0].tolist()
    assert [t for t in full if t != -100] == [t for t in bare if t != -100]  # same response targets
    assert len(bare) < len(full)


def test_sft_loss_falls_on_a_batch_it_overfits(suite, tiny_model_dir, tmp_path):
    from camreasoner.train.sft import build_trainer

    recipe = _recipe(
        "sft", suite, tmp_path / "sft", tiny_model_dir,
        train={"max_steps": 15, "learning_rate": 5e-3, "per_device_train_batch_size": 4,
               "lr_scheduler_type": "constant"},
        model={"freeze_vision": False},
    )
    trainer, _, _ = build_trainer(recipe)
    trainer.train()
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert len(losses) == 15
    assert losses[-1] < 0.5 * losses[0], losses


def test_sft_lora_trains_only_adapters(suite, tiny_model_dir, tmp_path):
    from camreasoner.train.sft import build_trainer

    recipe = _recipe("sft", suite, tmp_path / "lora", tiny_model_dir, train={"max_steps": 2},
                     lora={"enabled": True, "r": 4, "alpha": 8})
    trainer, _, _ = build_trainer(recipe)
    names = [n for n, p in trainer.model.named_parameters() if p.requires_grad]
    assert names and all("lora_" in n and "language_model" in n for n in names)
    trainer.train()
    assert trainer.state.global_step == 2


def test_sft_resume_continues_from_the_step_it_stopped_at(suite, tiny_model_dir, tmp_path):
    """Stopping at step 3 and resuming gives the same steps 4-5 as one uninterrupted run, saving at
    the resumed recipe's save_steps."""
    from camreasoner.train.sft import build_trainer, run_sft

    train = {"per_device_train_batch_size": 2, "learning_rate": 3e-3, "save_steps": 3,
             "lr_scheduler_type": "constant"}
    straight, _, _ = build_trainer(_recipe("sft", suite, tmp_path / "straight", tiny_model_dir,
                                           train={**train, "max_steps": 5}))
    straight.train()
    want = {h["step"]: h["loss"] for h in straight.state.log_history if "loss" in h}

    out = tmp_path / "resume"
    run_sft(_recipe("sft", suite, out, tiny_model_dir, train={**train, "max_steps": 3}))
    assert (out / "checkpoint-3").is_dir() and (out / "final" / "config.json").is_file()
    again = _recipe("sft", suite, out, tiny_model_dir,  # a finer checkpoint grid than the checkpoint's
                    train={**train, "max_steps": 5, "save_steps": 1, "resume_from_checkpoint": True})
    trainer, _, prep = build_trainer(again)
    assert prep.resume == str(out / "checkpoint-3")
    trainer.train(resume_from_checkpoint=prep.resume)
    got = {h["step"]: h["loss"] for h in trainer.state.log_history if "loss" in h}
    assert sorted(got) == [1, 2, 3, 4, 5] and trainer.state.global_step == 5  # 1-3 from the checkpoint
    for step in (4, 5):
        assert got[step] == pytest.approx(want[step], rel=1e-3), (got, want)
    # the recipe's save_steps, not the 3 that transformers restores from trainer_state.json
    assert (out / "checkpoint-4").is_dir() and (out / "checkpoint-5").is_dir()


# -- GRPO -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sft_model(suite, tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny model after a short SFT: it writes O-T-A text, so sampled groups differ in reward."""
    from camreasoner.train.sft import run_sft

    out = tmp_path_factory.mktemp("sft-for-grpo")
    recipe = _recipe("sft", suite, out, tiny_model_dir,
                     train={"max_steps": 12, "learning_rate": 1e-2, "per_device_train_batch_size": 4,
                            "lr_scheduler_type": "constant"})
    return run_sft(recipe)


def _grpo(suite, model, out, steps=2, batch=4, **grpo):
    from camreasoner.train.grpo import build_trainer

    recipe = _recipe(
        "grpo", suite, out, model,
        train={"max_steps": steps, "per_device_train_batch_size": batch, "learning_rate": 1e-3},
        grpo={"num_generations": 4, "max_completion_length": 48, "temperature": 1.2, **grpo},
    )
    return build_trainer(recipe)


def test_grpo_logps_see_the_video(suite, sft_model, tmp_path):
    """The trainer's per-token log-probs equal a direct forward of the model on the clip."""
    import torch

    from camreasoner.train.video_grpo import _VideoBatch

    trainer, processor, _ = _grpo(suite, sft_model, tmp_path / "g")
    row = trainer.train_dataset[0]
    text = processor.apply_chat_template(row["prompt"] and _clean(row["prompt"]), tokenize=False,
                                         add_generation_prompt=True)
    text += "<observation>x</observation>"
    enc = trainer.video_inputs.encode([text], [row["video"]])
    model = trainer.model.eval()
    with torch.no_grad():
        direct = (model(**enc).logits[0, :-1] / trainer.temperature).log_softmax(-1)  # TRL scores at the sampling temperature
        want = direct.gather(-1, enc["input_ids"][0, 1:, None])[-5:, 0]
        trainer._active_video = _VideoBatch([enc["pixel_values_videos"]], [enc["video_grid_thw"]],
                                            [enc["second_per_grid_ts"]])
        got, _, _ = trainer._get_per_token_logps_and_entropies(model, enc["input_ids"], enc["attention_mask"], 5)
        trainer._active_video = None
        blind, _, _ = trainer._get_per_token_logps_and_entropies(model, enc["input_ids"], enc["attention_mask"], 5)
    assert torch.allclose(got[0], want, atol=1e-4)
    assert not torch.allclose(blind[0], want, atol=1e-4)  # without the pixels the answer differs


def _clean(messages):
    from camreasoner.train.video_grpo import _clean as clean

    return clean(messages)


def test_grpo_steps_run_and_log_rewards(suite, sft_model, tmp_path):
    """Three GRPO steps with sampled video rollouts run and log rewards in range.

    With the strict answer reader, the tiny model after a short SFT earns no accuracy or format
    reward on any sample, so its groups carry no signal (``frac_reward_zero_std`` 1.0) and the
    policy need not move: that is measured by bench/bench_rl_gain-style runs, not asserted here.
    """
    trainer, _, _ = _grpo(suite, sft_model, tmp_path / "g2", steps=3, batch=8, online_filtering=False)
    trainer.train()
    assert trainer.state.global_step == 3
    logs = [h for h in trainer.state.log_history if "raw/reward" in h]
    assert len(logs) == 3 and all(0.0 <= h["raw/reward"] <= 1.0 for h in logs)


def test_online_filter_drops_groups_without_signal(suite, sft_model, tmp_path):
    import torch

    trainer, _, _ = _grpo(suite, sft_model, tmp_path / "g3")
    trainer.model.train()
    good = "<observation>o</observation><think>t</think><answer>B</answer>"
    bad = "<observation>o</observation><think>t</think><answer>A</answer>"
    rows = [{"answer": "B", "options": ["A. No", "B. Yes"], "prompt": [{"role": "user", "content": "q"}]}] * 8
    completions = [good] * 4 + [good, bad, bad, good]  # group 1 all right, group 2 mixed
    rewards = trainer._calculate_rewards(rows, ["q"] * 8, completions, [[0]] * 8)
    assert torch.isnan(rewards[:4]).all()  # pass rate 1.0 > 0.99: no learning signal, filtered
    assert not torch.isnan(rewards[4:]).any()
    assert trainer._metrics["train"]["filter/kept_groups"][-1] == 0.5


def test_grpo_cli_runs_a_step(suite, sft_model, tmp_path):
    recipe = {
        "stage": "grpo", "hardware": "CPU",
        "model": {"name_or_path": str(sft_model)},
        "data": {"suite_dir": str(suite)}, "video": VIDEO,
        "train": {"per_device_train_batch_size": 4, "report_to": "tensorboard"},
        "grpo": {"num_generations": 4, "max_completion_length": 16},
    }
    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out = tmp_path / "run"
    proc = _cli("train", "grpo", "--config", str(path), "--output-dir", str(out), "--max-steps", "1")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert Path(proc.stdout.strip().splitlines()[-1]) == out / "final"
    assert list((out / "runs").glob("*/events.out.tfevents.*"))  # TensorBoard logging
    shutil.rmtree(out)


def test_overrides_are_checked():
    recipe = recipe_from_dict({}, "r.yaml")
    with pytest.raises(CamReasonerError, match="--max-steps"):
        apply_overrides(recipe, None, 0)


def test_a_completion_holding_a_vision_token_is_cut_before_the_forward_pass(tiny_model_dir):
    """A forced <|video_pad|> in a completion is cut there; generation suppresses every vision token."""
    from transformers import AutoProcessor

    from camreasoner.model.generation import bad_words_ids, cut_at_vision_tokens, vision_token_ids

    tok = AutoProcessor.from_pretrained(tiny_model_dir).tokenizer
    banned = vision_token_ids(tok)
    pad = tok.convert_tokens_to_ids("<|video_pad|>")
    assert pad in banned and tok.convert_tokens_to_ids("<|vision_start|>") in banned
    ids = tok.encode("<observation>x</observation>", add_special_tokens=False)
    eos = tok.eos_token_id
    assert cut_at_vision_tokens([*ids, pad, *ids], banned, eos) == [*ids, eos]
    assert cut_at_vision_tokens([pad, *ids], banned, eos) == [eos]  # never an empty completion
    assert cut_at_vision_tokens(ids, banned, eos) == ids
    assert [[pad]] == [b for b in bad_words_ids(tok) if b == [pad]]


def test_grpo_cuts_rollouts_forced_to_write_a_video_pad(suite, sft_model, tmp_path):
    """A policy whose first choice is <|video_pad|>, with suppression lifted, still trains a step.

    Every rollout then starts with the vision token; the cut ends it with EOS, so TRL never meets
    an empty completion and the forward pass never counts more video tokens than the clip has.
    """
    import torch

    trainer, _, _ = _grpo(suite, sft_model, tmp_path / "gpad", steps=1, batch=4, online_filtering=False)
    pad = trainer._tokenizer.convert_tokens_to_ids("<|video_pad|>")
    trainer.generation_config.suppress_tokens = None  # the first line of defence is off
    head = trainer.model.get_output_embeddings()
    bias = torch.zeros(head.out_features)
    bias[pad] = 1e4
    handle = head.register_forward_hook(lambda _m, _i, out: out + bias.to(out.dtype))
    seen = []
    original = trainer._cut_vision_tokens

    def record(result):
        seen.extend(result[0])
        return original(result)

    trainer._cut_vision_tokens = record
    try:
        trainer.train()
    finally:
        handle.remove()
    assert seen and all(ids[0] == pad for ids in seen)  # the raw rollouts did write the pad
    assert trainer.state.global_step == 1


# -- EMA-GRPO -------------------------------------------------------------------------------------
def test_ema_advantages_replace_trls_on_a_scored_batch(suite, sft_model, tmp_path):
    """The trainer's hook turns the (weighted) rewards of a batch into EMA-GRPO advantages."""
    import math

    import torch

    trainer, _, _ = _grpo(suite, sft_model, tmp_path / "ema0", scale_rewards="ema", online_filtering=False)
    trainer.model.train()
    good = "<observation>o</observation><think>t</think><answer>B</answer>"
    bad = "<observation>o</observation><think>t</think><answer>A</answer>"
    rows = [{"answer": "B", "options": ["A. No", "B. Yes"], "kind": "binary",
             "prompt": [{"role": "user", "content": "q"}]}] * 8
    completions = [good, bad, good, bad, good, good, good, bad]
    trainer._calculate_rewards(rows, ["q"] * 8, completions, [[0]] * 8)
    output = trainer._with_ema_advantages({"advantages": torch.zeros(8)})
    # rewards 0.1 + 0.9 * accuracy: the std is 0.9 * sqrt(15/64), the centred rewards 0.9 * (±0.5 ...)
    s = math.sqrt(15 / 64)
    want = [0.5 / s, -0.5 / s, 0.5 / s, -0.5 / s, 0.25 / s, 0.25 / s, 0.25 / s, -0.75 / s]
    assert output["advantages"].tolist() == pytest.approx(want, rel=1e-5)
    assert trainer.ema.std("binary") == pytest.approx(0.9 * s, rel=1e-5)
    assert trainer._metrics["train"]["ema_std/binary"][-1] == pytest.approx(0.9 * s, rel=1e-5)


def test_grpo_steps_with_ema_advantages_save_and_resume_their_state(suite, sft_model, tmp_path):
    import json

    from camreasoner.train.grpo import build_trainer

    out = tmp_path / "ema"

    def recipe(**train):
        return _recipe("grpo", suite, out, sft_model,
                       train={"max_steps": 2, "per_device_train_batch_size": 4, "save_steps": 1, **train},
                       grpo={"num_generations": 4, "max_completion_length": 16, "scale_rewards": "ema",
                             "online_filtering": False})

    trainer, _, _ = build_trainer(recipe())
    trainer.train()
    assert trainer.state.global_step == 2
    assert set(trainer.ema.moments) == {"binary"}  # the suite's RL rows: kind binary
    assert any("ema_std/binary" in h for h in trainer.state.log_history)
    saved = json.loads((out / "checkpoint-2" / "ema_reward_std.json").read_text())
    assert saved == trainer.ema.to_dict()
    again, _, prep = build_trainer(recipe(resume_from_checkpoint=True))
    assert again.ema.moments == {}
    again.train(resume_from_checkpoint=prep.resume)  # at max_steps already: restores, trains nothing
    assert again.ema.to_dict() == saved


# -- pass rates (offline difficulty filtering) ------------------------------------------------------
def test_pass_rates_score_each_rows_samples_with_the_strict_reader():
    from camreasoner.train.pass_rate import score_samples

    rows = [{"answer": "B", "options": ["A. No", "B. Yes"]}, {"answer": "A", "options": ["A. No", "B. Yes"]},
            {"answer": "A", "options": ["A. No", "B. Yes"]}]
    right_b = "<observation>o</observation><think>t</think><answer>B</answer>"
    texts = [right_b, "B", "A camera that moves is what I see here.", "<answer>C</answer>",  # row 1: 2 of 4
             right_b, "<answer>A</answer>", "A", "",  # row 2: 2 of 4 (prose and empty score 0)
             "A", "A", "A", "A"]  # row 3: every generation failed
    failed = [False] * 8 + [True] * 4
    rates = score_samples(texts, failed, rows, 4)
    assert rates[:2] == [0.5, 0.5]
    assert rates[2] != rates[2]  # NaN: nothing scored
    with pytest.raises(ValueError):
        score_samples(texts[:-1], failed[:-1], rows, 4)


def test_pass_rate_command_keeps_prompts_within_bounds_and_writes_nothing_when_none_is(suite, sft_model, tmp_path):
    """The tiny model after a short SFT never answers in the strict format: every pass rate is 0,
    so [0, 1] keeps every prompt and [0.5, 1] keeps none (one line, no file)."""
    import pandas as pd

    from camreasoner.train.pass_rate import PassRateOptions, select_prompts

    recipe = _recipe("grpo", suite, tmp_path / "g", sft_model,
                     grpo={"num_generations": 2, "max_completion_length": 16})
    out = tmp_path / "kept.parquet"
    counts = select_prompts(recipe, out, PassRateOptions(samples=2, max_new_tokens=16, low=0.0, high=1.0))
    kept = pd.read_parquet(out)
    assert counts == {"estimated": len(PRIMS), "kept": len(PRIMS), "failed": 0, "mean_pass_rate": 0.0,
                      "all_right": 0, "all_wrong": len(PRIMS)}
    assert list(kept["pass_rate"]) == [0.0] * len(PRIMS)
    assert kept["video"].str.startswith("clips/").all()  # as in the split: relative to the suite's root
    none = tmp_path / "none.parquet"
    with pytest.raises(CamReasonerError, match=r"no prompt has a pass rate in \[0.5, 1.0\]"):
        select_prompts(recipe, none, PassRateOptions(samples=2, max_new_tokens=16, low=0.5, high=1.0))
    assert not none.exists() and not list(tmp_path.glob(".none.parquet*"))
    # the kept file trains: a GRPO recipe reads it as data.train_file
    from camreasoner.train.grpo import build_trainer

    trainer, _, _ = build_trainer(_recipe("grpo", suite, tmp_path / "g2", sft_model, data={"train_file": str(out)},
                                          train={"max_steps": 1, "per_device_train_batch_size": 2},
                                          grpo={"num_generations": 2, "max_completion_length": 16}))
    assert len(trainer.train_dataset) == len(PRIMS)
