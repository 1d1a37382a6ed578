"""``camreasoner train sft|grpo --config FILE``: SFT and GRPO on O-T-A chains over video."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

ConfigOpt = Annotated[Path, typer.Option("--config", help="A YAML recipe (see configs/).")]
OutputOpt = Annotated[Path | None, typer.Option("--output-dir", help="Override train.output_dir.")]
StepsOpt = Annotated[int | None, typer.Option("--max-steps", help="Override train.max_steps.")]
ResumeOpt = Annotated[bool, typer.Option("--resume", help="Resume from the latest checkpoint in the output "
                                         "directory.")]


def _run(stage: str, config: Path, output_dir: Path | None, max_steps: int | None, resume: bool) -> None:
    import logging

    from camreasoner.core.errors import CamReasonerError
    from camreasoner.train.common import apply_overrides
    from camreasoner.train.configs import load_recipe

    recipe = load_recipe(config)
    if recipe.stage != stage:
        raise CamReasonerError(f"{config}: stage is {recipe.stage!r}; run it with `camreasoner train {recipe.stage}`")
    apply_overrides(recipe, str(output_dir) if output_dir else None, max_steps)
    if resume:
        recipe.train.resume_from_checkpoint = True
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if stage == "sft":
        from camreasoner.train.sft import run_sft as run
    else:
        from camreasoner.train.grpo import run_grpo as run
    typer.echo(str(run(recipe)))


def register(app: typer.Typer) -> None:
    """Add the ``train`` command group to ``app``."""
    train = typer.Typer(help="Train a Qwen2.5-VL model: SFT on O-T-A chains, then GRPO.", no_args_is_help=True)

    @train.command("sft")
    def sft(config: ConfigOpt, output_dir: OutputOpt = None, max_steps: StepsOpt = None,
            resume: ResumeOpt = False) -> None:
        """Supervised fine-tuning (TRL SFTTrainer) on the suite's SFT split; prints the final model dir."""
        _run("sft", config, output_dir, max_steps, resume)

    @train.command("grpo")
    def grpo(config: ConfigOpt, output_dir: OutputOpt = None, max_steps: StepsOpt = None,
             resume: ResumeOpt = False) -> None:
        """GRPO (TRL GRPOTrainer extended to video) on the suite's RL split; prints the final model dir."""
        _run("grpo", config, output_dir, max_steps, resume)

    @train.command("pass-rate")
    def pass_rate(
        config: ConfigOpt,
        out: Annotated[Path, typer.Option("--out", help="Parquet file of the kept prompts (for data.train_file).")],
        samples: Annotated[int | None, typer.Option("--samples", help="Answers sampled per prompt "
                                                    "(default: grpo.num_generations).")] = None,
        low: Annotated[float, typer.Option("--low", help="Keep prompts with a pass rate at least this.")] = 0.01,
        high: Annotated[float, typer.Option("--high", help="... and at most this.")] = 0.99,
        max_prompts: Annotated[int | None, typer.Option("--max-prompts", help="Estimate on a random subset "
                                                        "of this many prompts.")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Sampling and subset seed.")] = 0,
    ) -> None:
        """Pass rates of a GRPO recipe's starting model on its RL split; keep the prompts it sometimes
        gets wrong (groups with a gradient). Prints the counts and the kept file."""
        from camreasoner.train.configs import load_recipe
        from camreasoner.train.pass_rate import PassRateOptions, select_prompts

        recipe = load_recipe(config)
        g = recipe.grpo
        opts = PassRateOptions(samples=g.num_generations if samples is None else samples, temperature=g.temperature,
                               max_new_tokens=g.max_completion_length, low=low, high=high,
                               max_prompts=max_prompts, seed=seed)
        counts = select_prompts(recipe, out, opts)
        mean = counts["mean_pass_rate"]
        typer.echo(f"{counts['estimated']} prompts x {opts.samples} samples: mean pass rate "
                   f"{'-' if mean is None else f'{mean:.3f}'}, {counts['all_right']} always right, "
                   f"{counts['all_wrong']} always wrong, {counts['failed']} failed; kept {counts['kept']} "
                   f"with a pass rate in [{low}, {high}] -> {out}")

    @train.command("check")
    def check(config: ConfigOpt) -> None:
        """Validate a recipe (keys, types, values) without loading data or a model."""
        from camreasoner.train.configs import load_recipe

        recipe = load_recipe(config)
        typer.echo(f"{config}: ok ({recipe.stage}; hardware: {recipe.hardware or 'unstated'})")

    app.add_typer(train, name="train")
