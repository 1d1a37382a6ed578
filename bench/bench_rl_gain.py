"""Benchmark: what does GRPO add after SFT? GRPO vs EMA-GRPO vs EMA-GRPO + consistency, over seeds.

Pipeline (camreasoner's own commands and modules; data as in bench/bench_learn.py):
  1. ``camreasoner synth`` training clips (seed 0) and held-out clips (seed 1) of a four-primitive
     task (default Pan_Left/Right + Tilt_Up/Down), ``camreasoner suite build`` on the training clips.
  2. SFT the tiny model from scratch for a fixed number of steps.
  3. From that checkpoint, GRPO on the suite's RL split for ``--grpo-steps`` steps, once per seed and
     variant: ``grpo`` (TRL's group-std scaling), ``ema`` (EMA-GRPO, ``scale_rewards: ema``) and
     ``ema_consistency`` (EMA-GRPO with the ``consistency`` reward added at weight 0.1).
  4. ``camreasoner eval run --backend hf`` on the held-out binary questions of the task after SFT and
     after every GRPO run: balanced accuracy and mean AP with their clip-bootstrap 95 % intervals, and
     per variant the mean over seeds of GRPO minus SFT balanced accuracy with a paired clip-bootstrap
     interval (``evaluate.metrics.paired_gain``).
  5. results.json (every figure), curves.json and a PNG of the GRPO reward curves.

Options: ``--from-learn DIR`` reuses a ``bench_learn.py --no-grpo`` run (clips, suite, SFT model);
``--select-sft BAL_ACC`` starts from its earliest ``--save-steps`` checkpoint whose balanced accuracy
on validation clips (seed 2; never the held-out seed 1) reaches BAL_ACC; ``--hard-prompts`` runs GRPO
only on the RL prompts whose pass rate under the SFT model lies within ``--pass-bounds``
(``camreasoner train pass-rate``: ``--pass-samples`` sampled answers on ``--pass-prompts`` prompts).

Usage (with nice; a smoke scale first):
  nice .venv/bin/python bench/bench_rl_gain.py --out /tmp/rl_gain_smoke --clips 60 --eval-clips 12 \
      --sft-steps 40 --bare-steps 10 --grpo-steps 4 --seeds 2 --group 4 --grpo-prompts 1 \
      --max-new-tokens 96 --bootstrap 200
  nice .venv/bin/python bench/bench_rl_gain.py --out runs/rl_gain     # the full defaults
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_learn import CLI, make_data, recipe, synth_clips  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VARIANTS: dict[str, dict[str, Any]] = {
    "grpo": {"scale_rewards": "group", "rewards": {"accuracy": 0.9, "format": 0.1}},
    "ema": {"scale_rewards": "ema", "rewards": {"accuracy": 0.9, "format": 0.1}},
    "ema_consistency": {"scale_rewards": "ema", "rewards": {"accuracy": 0.9, "format": 0.1, "consistency": 0.1}},
}


def heldout_questions(held: Path, primitives: list[str], out: Path) -> Path:
    """The held-out clips' binary questions about the task's primitives, as one question file."""
    from camreasoner.formats.questions import read_questions, write_questions

    questions = [q for q in read_questions(held / "binary.json") if q.primitive in primitives and q.answer]
    write_questions(out, questions)
    return out


def evaluate(model_dir: Path, questions: Path, video_root: Path, out: Path, a: argparse.Namespace) -> dict:
    """``camreasoner eval run`` with the hf backend; the binary figures of its metrics.json."""
    if not (out / "metrics.json").is_file():
        cmd = [CLI, "eval", "run", "--bench", str(questions), "--backend", "hf", "--model", str(model_dir),
               "--video-root", str(video_root), "--out", str(out), "--fps", "8", "--max-frames", str(a.frames),
               "--max-pixels", str(a.pixels), "--max-new-tokens", str(a.max_new_tokens),
               "--bootstrap", str(a.bootstrap), "--no-report"]
        print("$", " ".join(cmd[1:]), flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    m = json.loads((out / "metrics.json").read_text())
    m = m.get("binary", m)
    keys = ("n_binary", "n_clips", "balanced_accuracy", "balanced_accuracy_ci", "mean_ap", "mean_ap_ci",
            "binary_accuracy", "format_error_rate")
    return {k: m.get(k) for k in keys}


def grpo_run(variant: str, seed: int, sft_dir: Path, suite: Path, out: Path, a: argparse.Namespace,
             prompts: Path | None = None) -> dict:
    """One GRPO run from the SFT checkpoint (on ``prompts``, a parquet file, instead of the suite's RL
    split when given); its final model directory and reward curve (kept in run.json)."""
    done = out / "run.json"
    if done.is_file():
        return json.loads(done.read_text())
    from camreasoner.train.common import save_final
    from camreasoner.train.configs import recipe_from_dict, recipe_to_dict
    from camreasoner.train.grpo import build_trainer

    raw = recipe_to_dict(recipe("grpo", suite, out, {"name_or_path": str(sft_dir)}, a, 10_000.0, a.grpo_steps))
    raw.pop("source")
    raw["train"]["seed"] = seed
    if a.grpo_lr:
        raw["train"]["learning_rate"] = a.grpo_lr
    raw["grpo"].update(VARIANTS[variant])
    if prompts is not None:
        raw["data"]["train_file"] = str(prompts)
    trainer, processor, prep = build_trainer(recipe_from_dict(raw, f"bench:{variant}:{seed}"))
    t = time.perf_counter()
    trainer.train()
    minutes = (time.perf_counter() - t) / 60
    final = save_final(trainer, processor, prep.output_dir)
    curve = [{"step": h["step"], "reward": h.get("raw/reward"), "accuracy": h.get("raw/accuracy_reward"),
              "format": h.get("raw/format_reward"), "consistency": h.get("raw/consistency_reward"),
              "kept": h.get("filter/kept_groups")}
             for h in trainer.state.log_history if "raw/reward" in h]
    run = {"final": str(final), "steps": trainer.state.global_step, "minutes": round(minutes, 2), "curve": curve}
    done.write_text(json.dumps(run))
    return run


def run_dir_of(run: dict) -> Path:
    return Path(run["dir"])


def binary_items(eval_dir: Path) -> list:
    """The labelled binary answers of one ``eval run`` output, in question order."""
    from camreasoner.evaluate.summary import binary_item
    from camreasoner.formats.predictions import read_predictions

    records = sorted(read_predictions(eval_dir / "predictions.jsonl"), key=lambda r: r["index"])
    return [binary_item(r) for r in records if r.get("answer") and r["kind"] == "binary"]


def measured_motion(eval_dir: Path, cache: Path) -> dict[str, dict[str, bool]]:
    """The geometric observer's primitives for every clip of one eval run (what the ``consistency``
    reward compares observations with, as the suite's ``measured`` column), cached in ``cache``."""
    if cache.is_file():
        return json.loads(cache.read_text())
    from camreasoner.core.io import write_json_atomic
    from camreasoner.formats.predictions import read_predictions
    from camreasoner.observer import analyze_video

    videos = sorted({r["video_path"] for r in read_predictions(eval_dir / "predictions.jsonl")})
    measured = {v: {p: bool(x) for p, x in analyze_video(v).primitives.items()} for v in videos}
    write_json_atomic(cache, measured)
    return measured


def observation_consistency(eval_dir: Path, measured: dict[str, dict[str, bool]]) -> dict[str, float]:
    """How far the held-out responses' observations agree with the measurements: the mean
    ``check_observation`` score (0 without an observation) and the share with no contradiction."""
    from camreasoner.core.ota import extract_observation
    from camreasoner.formats.predictions import read_predictions
    from camreasoner.qa.consistency import check_observation

    scores, clean = [], 0
    for r in read_predictions(eval_dir / "predictions.jsonl"):
        observation = extract_observation(r.get("text") or "")
        if observation is None:
            scores.append(0.0)
            continue
        check = check_observation(observation, measured[r["video_path"]])
        scores.append(float(check.score))
        clean += not check.contradictions
    return {"mean_score": statistics.fmean(scores), "consistent_share": clean / len(scores)}


def summarise(values: list[float | None]) -> dict[str, Any]:
    """Mean, standard deviation and the values over seeds (None values left out)."""
    values = [v for v in values if v is not None]
    return {"mean": statistics.fmean(values) if values else None,
            "sd": statistics.stdev(values) if len(values) > 1 else None, "values": values}


def plot(curves: dict[str, list[list[dict]]], path: Path, window: int = 25) -> None:
    """The reward curves: every seed's per-step values faintly, and per variant the mean over its
    seeds smoothed by a ``window``-step moving average."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    colors = {"grpo": "tab:blue", "ema": "tab:orange", "ema_consistency": "tab:green"}
    for variant, runs in curves.items():
        runs = [curve for curve in runs if curve]
        if not runs:
            continue
        for ax, key in zip(axes, ("reward", "accuracy"), strict=True):
            series = [np.array([c[key] if c[key] is not None else np.nan for c in curve], float) for curve in runs]
            for curve, values in zip(runs, series, strict=True):
                ax.plot([c["step"] for c in curve], values, color=colors[variant], alpha=0.12, linewidth=0.8)
            n = min(len(v) for v in series)
            mean = np.nanmean(np.stack([v[:n] for v in series]), axis=0)
            k = min(window, n)
            smooth = np.convolve(mean, np.ones(k) / k, mode="valid")
            steps = [c["step"] for c in runs[0][:n]][k - 1:]
            ax.plot(steps, smooth, color=colors[variant], linewidth=2,
                    label=f"{variant} (mean of {len(runs)} seeds, {k}-step average)")
    axes[0].set(title="GRPO: weighted reward of the sampled completions", xlabel="step")
    axes[1].set(title="GRPO: accuracy reward of the sampled completions", xlabel="step", ylim=(-0.02, 1.02))
    axes[0].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def learn_run_sft(src: Path, checkpoints: bool = False) -> dict[str, Any]:
    """The SFT entry of a finished bench_learn.py --no-grpo run in ``src`` (with ``checkpoints``: also a
    stopped run that saved SFT checkpoints); exits with one line if it is not one."""
    results = src / "results.json"
    try:
        learned = json.loads(results.read_text()) if results.is_file() else {}
    except json.JSONDecodeError:
        learned = {}
    missing = [name for name in ("synth_train", "synth_heldout", "suite") if not (src / name).exists()]
    saved = checkpoints and len(learn_checkpoints(src)) > 0
    if not saved and not (src / "sft/final/config.json").is_file():
        missing.append("sft/final/config.json")
    if not saved and "sft" not in learned:
        missing.append("the sft entry of results.json")
    if missing:
        raise SystemExit(f"{src}: not a finished bench_learn.py --no-grpo run (missing: {', '.join(missing)})")
    return learned.get("sft", {"steps": None, "minutes": None})


def learn_checkpoints(src: Path) -> list[Path]:
    """A bench_learn.py run's SFT checkpoints (``--save-steps``), in step order, then its final model
    (when the run finished)."""
    from camreasoner.train.common import checkpoint_step

    steps = sorted((p for p in (src / "sft").glob("checkpoint-*")
                    if checkpoint_step(p) is not None and (p / "config.json").is_file()), key=checkpoint_step)
    final = src / "sft" / "final"
    return [*steps, final] if (final / "config.json").is_file() else steps


def link_learn_run(src: Path, out: Path, sft: dict[str, Any], checkpoint: Path) -> None:
    """Reuse a bench_learn.py run: link its clips, suite and one SFT checkpoint (``sft``: its run) into ``out``."""
    for name in ("synth_train", "synth_heldout", "suite"):
        if not (out / name).exists():
            (out / name).symlink_to(src / name)
    (out / "sft").mkdir(exist_ok=True)
    final = out / "sft" / "final"
    if final.is_symlink() and final.resolve() != checkpoint.resolve():
        raise SystemExit(f"{out}: holds GRPO runs from {final.resolve()}, not {checkpoint}; use a new --out")
    if not final.exists():
        final.symlink_to(checkpoint)
    from camreasoner.train.common import checkpoint_step

    step = checkpoint_step(checkpoint)
    (out / "sft" / "run.json").write_text(json.dumps({**sft, "steps": sft["steps"] if step is None else step,
                                                        "from": str(checkpoint)}))


def select_checkpoint(src: Path, out: Path, a: argparse.Namespace) -> tuple[Path, list[dict[str, Any]]]:
    """The earliest SFT checkpoint of ``src`` whose balanced accuracy on validation clips (seed 2, never
    the held-out ones) reaches ``a.select_sft``, else the final model; every checkpoint's figures."""
    val = synth_clips(out / "synth_validation", a.eval_clips, 2, a)
    questions = heldout_questions(val, a.primitives, out / "validation_binary.json")
    figures = []
    for ckpt in learn_checkpoints(src):
        m = evaluate(ckpt, questions, val, out / "validation" / ckpt.name, a)
        figures.append({"checkpoint": str(ckpt), **m})
        bal = m["balanced_accuracy"] or 0.0  # None: no answer could be read
        print(f"validation {ckpt.name}: balanced acc {bal:.3f}, mean AP {m['mean_ap'] or 0.0:.3f}", flush=True)
        if bal >= a.select_sft:
            return ckpt, figures
    if not (src / "sft" / "final" / "config.json").is_file():
        raise SystemExit(f"{src}: no SFT checkpoint reaches validation balanced accuracy {a.select_sft}")
    return src / "sft" / "final", figures


def hard_prompts(sft_dir: Path, suite: Path, out: Path, a: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The RL prompts the SFT model sometimes gets wrong (``camreasoner train pass-rate``'s selection)."""
    from camreasoner.train.pass_rate import PassRateOptions, select_prompts

    kept, counts_file = out / "hard_prompts.parquet", out / "hard_prompts.json"
    if not counts_file.is_file():
        rec = recipe("grpo", suite, out / "pass_rate", {"name_or_path": str(sft_dir)}, a, 1.0, 1)
        low, high = a.pass_bounds
        opts = PassRateOptions(samples=a.pass_samples or a.group, temperature=rec.grpo.temperature,
                               max_new_tokens=a.max_new_tokens, low=low, high=high, max_prompts=a.pass_prompts)
        t = time.perf_counter()
        counts = select_prompts(rec, kept, opts)
        counts.update(samples=opts.samples, minutes=round((time.perf_counter() - t) / 60, 2))
        counts_file.write_text(json.dumps(counts))
    counts = json.loads(counts_file.read_text())
    print("hard prompts:", counts, flush=True)
    return kept, counts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "runs" / "bench_rl_gain")
    p.add_argument("--primitives", nargs="+", default=["Pan_Left", "Pan_Right", "Tilt_Up", "Tilt_Down"])
    p.add_argument("--clips", type=int, default=1500)
    p.add_argument("--eval-clips", type=int, default=120)
    p.add_argument("--kinds", nargs="+", default=["binary"], help="suite item kinds to train on ('all': every kind)")
    p.add_argument("--sft-steps", type=int, default=7000)
    p.add_argument("--sft-lr", type=float, help="SFT learning rate (default: the recipe's)")
    p.add_argument("--bare-steps", type=int, default=2000, help="SFT bare-prompt warm-up steps")
    p.add_argument("--grpo-steps", type=int, default=300)
    p.add_argument("--grpo-lr", type=float, help="GRPO learning rate (default: the recipe's)")
    p.add_argument("--seeds", type=int, default=3, help="GRPO runs per variant (seeds 0..N-1)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--group", type=int, default=8, help="GRPO group size")
    p.add_argument("--grpo-prompts", type=int, default=2, help="prompts per GRPO step")
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--pixels", type=int, default=3136)
    p.add_argument("--size", default="112x112")
    p.add_argument("--no-effects", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--max-new-tokens", type=int, default=144)
    p.add_argument("--bootstrap", type=int, default=1000, help="clip-bootstrap resamples for the intervals")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--png", type=Path, help="reward curves (default: OUT/reward_curves.png)")
    p.add_argument("--from-learn", type=Path, metavar="DIR",
                   help="start from a bench_learn.py --no-grpo run: its clips, suite and SFT checkpoint "
                        "(DIR/sft/final); the SFT settings above are then unused")
    p.add_argument("--select-sft", type=float, metavar="BAL_ACC",
                   help="with --from-learn: start from the earliest of its SFT checkpoints (--save-steps) whose "
                        "balanced accuracy on validation clips (seed 2) reaches BAL_ACC")
    p.add_argument("--hard-prompts", action="store_true",
                   help="GRPO on the RL prompts the SFT model sometimes gets wrong (pass rate within --pass-bounds "
                        "over --pass-samples sampled answers; camreasoner train pass-rate)")
    p.add_argument("--pass-samples", type=int, help="answers sampled per prompt for the pass rate (default: --group)")
    p.add_argument("--pass-prompts", type=int, default=1000, help="RL prompts whose pass rate is estimated")
    p.add_argument("--pass-bounds", type=float, nargs=2, default=[0.01, 0.99], metavar=("LOW", "HIGH"),
                   help="pass rates of the prompts kept by --hard-prompts")
    a = p.parse_args()
    import torch

    torch.set_num_threads(2)
    from camreasoner.model.tiny import build_tiny_model
    from camreasoner.train.common import save_final
    from camreasoner.train.sft import build_trainer as sft_trainer

    learned_sft = learn_run_sft(a.from_learn.resolve(), a.select_sft is not None) if a.from_learn else None
    if a.select_sft is not None and not a.from_learn:
        raise SystemExit("--select-sft needs --from-learn DIR")
    a.out.mkdir(parents=True, exist_ok=True)
    validation: list[dict[str, Any]] = []
    if a.from_learn:
        src = a.from_learn.resolve()
        checkpoint = src / "sft" / "final"
        if a.select_sft is not None:
            checkpoint, validation = select_checkpoint(src, a.out, a)
        link_learn_run(src, a.out, learned_sft, checkpoint)
    t0 = time.perf_counter()
    suite, held = make_data(a.out, a)
    questions = heldout_questions(held, a.primitives, a.out / "heldout_binary.json")
    results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(a).items()},
                               "suite_counts": json.loads((suite / "suite.json").read_text())["counts"]}

    sft_dir = a.out / "sft" / "final"
    if not (sft_dir / "config.json").is_file():
        base = build_tiny_model(a.out / "base_model")
        model = {"build_tiny": False, "name_or_path": str(base)}
        trainer, processor, prep = sft_trainer(recipe("sft", suite, a.out / "sft", model, a, 10_000.0, a.sft_steps))
        t = time.perf_counter()
        trainer.train()
        sft_run = {"steps": trainer.state.global_step, "minutes": round((time.perf_counter() - t) / 60, 2)}
        sft_dir = save_final(trainer, processor, prep.output_dir)
        (a.out / "sft" / "run.json").write_text(json.dumps(sft_run))
    results["sft"] = json.loads((a.out / "sft" / "run.json").read_text())
    results["sft_validation"] = validation
    prompts = None
    if a.hard_prompts:
        prompts, results["hard_prompts"] = hard_prompts(sft_dir, suite, a.out, a)
    results["after_sft"] = evaluate(sft_dir, questions, held, a.out / "eval_sft", a)
    measured = measured_motion(a.out / "eval_sft", a.out / "heldout_measured.json")
    results["after_sft"]["observation"] = observation_consistency(a.out / "eval_sft", measured)
    print("after SFT:", results["after_sft"], flush=True)

    from camreasoner.evaluate.metrics import paired_gain

    sft_items = binary_items(a.out / "eval_sft")
    curves: dict[str, list[list[dict]]] = {}
    for variant in a.variants:
        runs = []
        for seed in range(a.seeds):
            run_dir = a.out / f"grpo_{variant}_seed{seed}"
            run = grpo_run(variant, seed, sft_dir, suite, run_dir, a, prompts)
            run["dir"] = str(run_dir)
            run["eval"] = evaluate(Path(run["final"]), questions, held, run_dir / "eval", a)
            run["eval"]["observation"] = observation_consistency(run_dir / "eval", measured)
            print(f"{variant} seed {seed}:", run["steps"], "steps,", run["eval"], flush=True)
            runs.append(run)
        curves[variant] = [r["curve"] for r in runs]
        results[variant] = {
            "runs": [{k: v for k, v in r.items() if k != "curve"} for r in runs],
            "balanced_accuracy": summarise([r["eval"]["balanced_accuracy"] for r in runs]),
            "mean_ap": summarise([r["eval"]["mean_ap"] for r in runs]),
            "consistent_share": summarise([r["eval"]["observation"]["consistent_share"] for r in runs]),
            "gain_over_sft": paired_gain(sft_items, [binary_items(run_dir_of(r) / "eval") for r in runs],
                                         n_boot=a.bootstrap),
        }
    results["total_minutes"] = round((time.perf_counter() - t0) / 60, 1)
    (a.out / "results.json").write_text(json.dumps(results, indent=1))
    (a.out / "curves.json").write_text(json.dumps(curves))
    png = a.png or a.out / "reward_curves.png"
    plot(curves, png)

    def fmt(v: float | None, ci: list[float] | None = None) -> str:
        text = "   -  " if v is None else f"{v:.3f}"
        return text + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")

    s = results["after_sft"]
    print(f"\nheld-out binary questions: {s['n_binary']} on {s['n_clips']} clips; {', '.join(a.primitives)}")
    print(f"after SFT: balanced acc {fmt(s['balanced_accuracy'], s['balanced_accuracy_ci'])}, "
          f"mean AP {fmt(s['mean_ap'], s['mean_ap_ci'])}, observations consistent {fmt(s['observation']['consistent_share'])}")
    print(f"SFT checkpoint: {results['sft'].get('from', sft_dir)} ({results['sft']['steps']} steps)")
    if a.hard_prompts:
        h = results["hard_prompts"]
        print(f"GRPO prompts: {h['kept']} of {h['estimated']} RL prompts kept (pass rate in {a.pass_bounds} over "
              f"{h['samples']} samples; mean pass rate {h['mean_pass_rate']:.3f}, {h['all_right']} always right)")
    for variant in a.variants:
        for seed, r in enumerate(results[variant]["runs"]):
            e = r["eval"]
            print(f"{variant:<16} seed {seed}: {r['steps']} steps; balanced acc "
                  f"{fmt(e['balanced_accuracy'], e['balanced_accuracy_ci'])}, mean AP {fmt(e['mean_ap'], e['mean_ap_ci'])}, "
                  f"observations consistent {fmt(e['observation']['consistent_share'])}")
        b, m = results[variant]["balanced_accuracy"], results[variant]["mean_ap"]
        g = results[variant]["gain_over_sft"]
        print(f"{variant:<16} mean over seeds: balanced acc {fmt(b['mean'])}, mean AP {fmt(m['mean'])}; "
              f"GRPO - SFT balanced acc {g['mean_gain']:+.3f} [{g['mean_gain_ci'][0]:+.3f}, "
              f"{g['mean_gain_ci'][1]:+.3f}] (paired clip bootstrap; target >= +0.05, interval above 0)")
    print(f"reward curves: {png}; all figures: {a.out / 'results.json'}")


if __name__ == "__main__":
    main()
