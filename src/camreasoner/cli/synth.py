"""``camreasoner synth``: synthetic camera-motion clips with exact labels."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from camreasoner.core.errors import CamReasonerError


def _parse_size(size: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", size)
    if not match:
        raise CamReasonerError(f"--size {size!r}: expected WIDTHxHEIGHT such as 320x240")
    return int(match.group(1)), int(match.group(2))


def synth(
    out: Path = typer.Option(
        ..., "--out", help="Output directory (new or empty; an unfinished run resumes)."
    ),
    clips: int = typer.Option(..., "--clips", help="Number of clips."),
    seed: int = typer.Option(0, "--seed", help="Seed: same seed and settings, same clips and labels."),
    size: str = typer.Option("320x240", "--size", help="Frame size WIDTHxHEIGHT (even numbers)."),
    fps: float = typer.Option(12.0, "--fps", help="Frames per second."),
    seconds: float = typer.Option(3.0, "--seconds", help="Clip length in seconds."),
    primitives: list[str] | None = typer.Option(
        None, "--primitives", help="Restrict to these primitives (repeat the option or separate by commas)."
    ),
    max_combo: int = typer.Option(
        3, "--max-combo", help="Most primitives combined in one clip (1 = no combos)."
    ),
    distractors: float = typer.Option(
        0.3, "--distractors", help="Probability that a clip has moving objects."
    ),
    recipes: list[str] | None = typer.Option(
        None,
        "--recipes",
        help="Restrict the kinds of clip: single, combo, confusable, static, static_subjects, shake, subtle.",
    ),
    workers: int = typer.Option(
        1, "--workers", help="Parallel worker processes (results do not depend on it)."
    ),
    no_effects: bool = typer.Option(
        False, "--no-effects", help="No shake, distractors, blur, noise or drift."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Render synthetic clips of known camera motion: DIR/clips, labels.jsonl, binary.json, vqa.json."""
    from camreasoner.synth.dataset import generate_dataset

    result = generate_dataset(
        out, clips, seed, size=_parse_size(size), fps=fps, seconds=seconds, primitives=primitives,
        max_combo=max_combo, distractors=distractors,
        recipes=recipes, workers=workers, progress=not quiet,
        effects=not no_effects,
    )  # fmt: skip
    typer.echo(f"{result.status}: {result.clips} clips in {result.out_dir} (textures: {result.textures})")
    if "unavailable" in result.vqa:
        typer.echo(f"warning: vqa.json not written: {result.vqa}", err=True)
    if result.failed:
        typer.echo(
            f"warning: {len(result.failed)} clip(s) failed, listed in {result.out_dir / 'synth.json'}",
            err=True,
        )


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command."""
    app.command("synth")(synth)
