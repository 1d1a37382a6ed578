"""Benchmark: does the tiny Qwen2.5-VL learn camera motion from pixels? SFT, then GRPO, on CPU.

Pipeline (every stage through camreasoner's own commands and modules):
  1. ``camreasoner synth``: training clips (seed 0) and held-out clips (seed 1), one motion each
     from a small set of primitives.
  2. ``camreasoner suite build``: grounded O-T-A chains (SFT) and RL samples from the training clips.
  3. Held-out binary questions (synth's binary.json, restricted to the chosen primitives), answered
     by the ``hf`` backend: balanced accuracy, mean AP from P(B) scores, format-compliance rate.
  4. Evaluate the random tiny model, SFT it (time budget), evaluate, GRPO it (time budget), evaluate.
  5. Write results.json, the reward curve (PNG) and print a table.

The defaults are the smallest configuration that learns within 15 minutes per stage on 2 cores
(pan direction, 1000 clips, binary items, a 1500-step bare-prompt warm-up; README "Does it learn?").
Usage (run it with nice):
  nice .venv/bin/python bench/bench_learn.py --out runs/bench_learn
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("camreasoner"))


def sh(*args: str) -> None:
    """Run one camreasoner command, failing loudly."""
    print("$ camreasoner", " ".join(args), flush=True)
    subprocess.run([CLI, *args], check=True)


def synth_clips(out: Path, clips: int, seed: int, a: argparse.Namespace) -> Path:
    """``camreasoner synth`` of ``clips`` one-motion clips of the task (skipped when already there)."""
    if not (out / "labels.jsonl").is_file():
        sh("synth", "--out", str(out), "--clips", str(clips), "--seed", str(seed), "--size", a.size, "--fps", "8",
           "--seconds", "2", "--primitives", ",".join(a.primitives), "--max-combo", "1", "--workers", str(a.workers),
           "--quiet", *(["--no-effects"] if a.no_effects else []))
    return out


def make_data(out: Path, a: argparse.Namespace) -> tuple[Path, Path]:
    """Training clips (seed 0), held-out clips (seed 1) and the suite built on the training clips."""
    train = synth_clips(out / "synth_train", a.clips, 0, a)
    held = synth_clips(out / "synth_heldout", a.eval_clips, 1, a)
    suite = out / "suite"
    if not (suite / "suite.json").is_file():
        sh("suite", "build", "--labels", str(train / "labels.jsonl"), "--video-root", str(train),
           "--out", str(suite), "--sft", "100000", "--rl", "100000", "--augment", "none",
           "--split", "0.98,0.01,0.01", "--workers", str(a.workers), "--no-progress")
    return suite, held


def heldout_items(held: Path, primitives: list[str]) -> list[Any]:
    from camreasoner.backends.base import BackendItem
    from camreasoner.formats.questions import read_questions

    out = []
    for q in read_questions(held / "binary.json"):
        if q.primitive in primitives and q.answer is not None:
            out.append((BackendItem(str(held / q.path), q.question, tuple(q.options), q.id), q))
    return out


def evaluate(model_dir: Path, items: list[Any], a: argparse.Namespace) -> dict[str, Any]:
    """Held-out binary metrics of one checkpoint through the hf backend."""
    from camreasoner.backends.base import get_backend
    from camreasoner.core.ota import is_strict_format
    from camreasoner.evaluate.metrics import BinaryItem, binary_metrics

    t0 = time.perf_counter()
    backend = get_backend("hf", model=str(model_dir), fps=8.0, max_frames=a.frames, max_pixels=a.pixels,
                          max_new_tokens=a.max_new_tokens, batch_size=16, device="cpu", seed=0)
    responses = backend.answer([it for it, _ in items])
    scored, formatted, errors = [], 0, 0
    for (_, q), r in zip(items, responses, strict=True):
        if r.error:
            errors += 1
            continue
        formatted += is_strict_format(r.text, "AB")
        p_yes = r.option_probs.get("B")
        pred = None if r.letter is None else r.letter == "B"
        scored.append(BinaryItem(q.primitive, q.answer == "B", pred, p_yes, q.path))
    m = binary_metrics(scored, n_boot=200)
    return {
        "n": len(items),
        "errors": errors,
        "balanced_accuracy": m["balanced_accuracy"],
        "mean_ap": m["mean_ap"],
        "binary_accuracy": m["binary_accuracy"],
        "format_rate": formatted / max(1, len(items) - errors),
        "yes_rate": m["yes_rate"],
        "per_primitive": {k: {"ap": v["ap"], "balanced_accuracy": v["balanced_accuracy"], "n": v["n"]}
                          for k, v in m["per_primitive"].items()},
        "seconds": round(time.perf_counter() - t0, 1),
        "example": responses[0].text[:400] if responses else "",
    }


def recipe(stage: str, suite: Path, out: Path, model: dict[str, Any], a: argparse.Namespace,
           minutes: float, steps: int) -> Any:
    from camreasoner.train.configs import load_recipe, recipe_from_dict, recipe_to_dict

    base = recipe_to_dict(load_recipe(ROOT / "configs" / f"tiny_cpu_{stage}.yaml"))
    base.pop("source")
    base["model"].update(model)
    base["data"].update(suite_dir=str(suite), kinds=None if a.kinds == ["all"] else a.kinds)
    if stage == "sft":
        base["data"]["bare_prompt_steps"] = a.bare_steps
    base["video"].update(fps=8.0, max_frames=a.frames, max_pixels=a.pixels, min_pixels=min(a.pixels, 3136))
    save_steps = getattr(a, "save_steps", None) if stage == "sft" else None
    base["train"].update(output_dir=str(out), max_minutes=minutes, max_steps=steps, report_to="tensorboard",
                         save_steps=save_steps or 100000, save_total_limit=None if save_steps else 2,
                         lr_scheduler_type="constant", warmup_steps=10)
    if stage == "sft" and a.sft_lr:
        base["train"]["learning_rate"] = a.sft_lr
    if stage == "grpo":
        base["grpo"].update(max_completion_length=a.max_new_tokens, num_generations=a.group)
        base["train"].update(per_device_train_batch_size=a.group * a.grpo_prompts)
    return recipe_from_dict(base, f"bench:{stage}")


def plot(sft_log: list[dict], grpo_log: list[dict], path: Path, bare_steps: int = 0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    s = [(h["step"], h["loss"]) for h in sft_log if "loss" in h]
    if s:
        ax1.plot(*zip(*s, strict=True), color="tab:blue")
    if bare_steps:
        ax1.axvline(bare_steps, color="grey", linestyle="--", label="end of the bare-prompt warm-up")
        ax1.legend(loc="upper right")
    ax1.set(title="SFT: loss on O-T-A responses", xlabel="step", ylabel="cross-entropy (log)", yscale="log")
    g = [h for h in grpo_log if "raw/reward" in h]
    if g:
        steps = [h["step"] for h in g]

        k = max(10, len(g) // 40)

        def smooth(v: list[float]) -> list[float]:
            return [sum(v[max(0, i - k + 1): i + 1]) / len(v[max(0, i - k + 1): i + 1]) for i in range(len(v))]

        for key, label, color in (("raw/reward", "reward (0.9 acc + 0.1 format)", "tab:green"),
                                  ("raw/accuracy_reward", "accuracy", "tab:orange"),
                                  ("raw/format_reward", "format", "tab:purple")):
            vals = [h.get(key, float("nan")) for h in g]
            ax2.plot(steps, vals, color=color, alpha=0.12)
            ax2.plot(steps, smooth(vals), color=color, label=label)
    ax2.set(title=f"GRPO: mean reward of sampled completions ({k}-step mean)" if g else "GRPO",
            xlabel="step", ylim=(-0.02, 1.02))
    ax2.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def print_per_primitive(result: dict[str, Any]) -> None:
    """One line per primitive: held-out AP and balanced accuracy."""
    print(f"{'primitive':<16}{'n':>5}{'AP':>8}{'bal.acc':>9}")
    for name, m in sorted(result["per_primitive"].items()):
        ap = "-" if m["ap"] is None else f"{m['ap']:.3f}"
        bal = "-" if m["balanced_accuracy"] is None else f"{m['balanced_accuracy']:.3f}"
        print(f"{name:<16}{m['n']:>5}{ap:>8}{bal:>9}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_learn")
    p.add_argument("--primitives", nargs="+", default=["Pan_Left", "Pan_Right"])
    p.add_argument("--clips", type=int, default=1000)
    p.add_argument("--eval-clips", type=int, default=60)
    p.add_argument("--size", default="112x112")
    p.add_argument("--no-effects", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--pixels", type=int, default=3136)
    p.add_argument("--max-new-tokens", type=int, default=144)
    p.add_argument("--sft-minutes", type=float, default=15.0)
    p.add_argument("--grpo-minutes", type=float, default=15.0)
    p.add_argument("--sft-steps", type=int, default=100000)
    p.add_argument("--grpo-steps", type=int, default=100000)
    p.add_argument("--kinds", nargs="+", default=["binary"], help="suite item kinds to train on ('all': every kind)")
    p.add_argument("--bare-steps", type=int, default=1500,
                   help="SFT warm-up: steps whose prompt leaves the O-T-A instruction out (data.bare_prompt_steps)")
    p.add_argument("--group", type=int, default=8, help="GRPO group size")
    p.add_argument("--grpo-prompts", type=int, default=1, help="prompts per GRPO step")
    p.add_argument("--text-hidden", type=int, default=64, help="tiny model: language model width")
    p.add_argument("--text-layers", type=int, default=2, help="tiny model: language model layers")
    p.add_argument("--vision-hidden", type=int, default=32, help="tiny model: vision tower width")
    p.add_argument("--vision-depth", type=int, default=2, help="tiny model: vision tower blocks")
    p.add_argument("--sft-lr", type=float, help="SFT learning rate (default: the recipe's)")
    p.add_argument("--no-grpo", action="store_true", help="stop after SFT")
    p.add_argument("--save-steps", type=int, help="SFT: keep a checkpoint every this many steps (default: none)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--png", type=Path, help="reward curve PNG (default: OUT/reward_curve.png)")
    a = p.parse_args()
    import torch

    torch.set_num_threads(2)
    from camreasoner.model.tiny import build_tiny_model
    from camreasoner.train.common import save_final
    from camreasoner.train.grpo import build_trainer as grpo_trainer
    from camreasoner.train.sft import build_trainer as sft_trainer

    a.out.mkdir(parents=True, exist_ok=True)
    a.png = a.png or a.out / "reward_curve.png"
    t0 = time.perf_counter()
    suite, held = make_data(a.out, a)
    items = heldout_items(held, a.primitives)
    results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(a).items()},
                               "data_seconds": round(time.perf_counter() - t0, 1),
                               "suite_counts": json.loads((suite / "suite.json").read_text())["counts"]}
    base = build_tiny_model(a.out / "base_model", text_hidden=a.text_hidden, text_layers=a.text_layers,
                            vision_hidden=a.vision_hidden, vision_depth=a.vision_depth)
    results["before"] = evaluate(base, items, a)
    print("before:", results["before"], flush=True)

    trainer, processor, prep = sft_trainer(recipe("sft", suite, a.out / "sft", {"build_tiny": False,
                                                  "name_or_path": str(base)}, a, a.sft_minutes, a.sft_steps))
    t = time.perf_counter()
    trainer.train()
    results["sft"] = {"steps": trainer.state.global_step, "minutes": round((time.perf_counter() - t) / 60, 2)}
    sft_log = trainer.state.log_history
    sft_dir = save_final(trainer, processor, prep.output_dir)
    results["after_sft"] = evaluate(sft_dir, items, a)
    print("after SFT:", results["sft"], results["after_sft"], flush=True)
    if a.no_grpo:
        (a.out / "logs.json").write_text(json.dumps({"sft": sft_log}))
        (a.out / "results.json").write_text(json.dumps(results, indent=1))
        print_per_primitive(results["after_sft"])
        return

    trainer, processor, prep = grpo_trainer(recipe("grpo", suite, a.out / "grpo", {"name_or_path": str(sft_dir)},
                                                   a, a.grpo_minutes, a.grpo_steps))
    t = time.perf_counter()
    trainer.train()
    results["grpo"] = {"steps": trainer.state.global_step, "minutes": round((time.perf_counter() - t) / 60, 2)}
    grpo_log = trainer.state.log_history
    grpo_dir = save_final(trainer, processor, prep.output_dir)
    results["after_grpo"] = evaluate(grpo_dir, items, a)
    print("after GRPO:", results["grpo"], results["after_grpo"], flush=True)

    (a.out / "logs.json").write_text(json.dumps({"sft": sft_log, "grpo": grpo_log}))
    plot(sft_log, grpo_log, a.png, a.bare_steps)
    results["total_minutes"] = round((time.perf_counter() - t0) / 60, 1)
    (a.out / "results.json").write_text(json.dumps(results, indent=1))
    print("\nheld-out binary questions:", len(items), "on", a.eval_clips, "clips;", ", ".join(a.primitives))
    print(f"{'stage':<12}{'bal.acc':>9}{'mean AP':>9}{'acc':>7}{'format':>8}")
    for key in ("before", "after_sft", "after_grpo"):
        r = results[key]
        print(f"{key:<12}{r['balanced_accuracy']:>9.3f}{r['mean_ap']:>9.3f}{r['binary_accuracy']:>7.3f}"
              f"{r['format_rate']:>8.3f}")
    print_per_primitive(results["after_grpo"])
    print(f"SFT {results['sft']}, GRPO {results['grpo']}, reward curve: {a.png}")


if __name__ == "__main__":
    main()
