"""``camreasoner synth``: synthetic camera-motion clips with exact labels, rendered or from real footage."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from camreasoner.core.errors import CamReasonerError


def _parse_size(size: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", size)
    if not match:
        raise CamReasonerError(f"--size {size!r}: expected WIDTHxHEIGHT such as 320x240")
    return int(match.group(1)), int(match.group(2))


def synth(
    out: Annotated[Path, typer.Option("--out", help="Output directory (new or empty; an unfinished run resumes).")],
    clips: Annotated[int, typer.Option("--clips", help="Number of clips.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed: same seed and settings, same clips and labels.")] = 0,
    size: Annotated[str, typer.Option("--size", help="Frame size WIDTHxHEIGHT (even numbers).")] = "320x240",
    fps: Annotated[float, typer.Option("--fps", help="Frames per second.")] = 12.0,
    seconds: Annotated[float, typer.Option("--seconds", help="Clip length in seconds.")] = 3.0,
    from_video: Annotated[list[Path] | None, typer.Option(
        "--from-video", help="Semi-real clips: real footage of a FIXED camera seen through a virtual camera "
        "(pan, tilt, roll, zoom crop windows, and Static). Repeat for several sources.")] = None,
    primitives: Annotated[list[str] | None, typer.Option(
        "--primitives", help="Rendered clips: restrict to these primitives (repeat or separate by commas).")] = None,
    max_combo: Annotated[int, typer.Option(
        "--max-combo", help="Rendered clips: most primitives combined in one clip (1 = no combos).")] = 3,
    distractors: Annotated[float, typer.Option(
        "--distractors", help="Rendered clips: probability that a clip has moving objects.")] = 0.3,
    recipes: Annotated[list[str] | None, typer.Option(
        "--recipes", help="Rendered clips: restrict the kinds of clip: single, combo, confusable, static, "
        "static_subjects, shake, subtle, sequence.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (results do not depend on it).")] = 1,
    no_effects: Annotated[bool, typer.Option(
        "--no-effects", help="Rendered clips: no shake, distractors, blur, noise or drift.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Write clips of known camera motion: DIR/clips, labels.jsonl, binary.json, vqa.json, synth.json."""
    if from_video:
        from camreasoner.synth.realcam import generate_realcam_dataset

        rendered_only = {"--primitives": primitives, "--recipes": recipes, "--max-combo": max_combo != 3,
                         "--distractors": distractors != 0.3, "--no-effects": no_effects}
        given = [flag for flag, value in rendered_only.items() if value]
        if given:
            raise CamReasonerError(f"{', '.join(given)}: only for rendered clips, not with --from-video")
        result = generate_realcam_dataset(out, list(from_video), clips, seed, size=_parse_size(size), fps=fps,
                                          seconds=seconds, workers=workers, progress=not quiet)
    else:
        from camreasoner.synth.dataset import generate_dataset

        result = generate_dataset(
            out, clips, seed, size=_parse_size(size), fps=fps, seconds=seconds, primitives=primitives,
            max_combo=max_combo, distractors=distractors, recipes=recipes, workers=workers,
            progress=not quiet, effects=not no_effects,
        )  # fmt: skip
    typer.echo(f"{result.status}: {result.clips} clips in {result.out_dir} (textures: {result.textures})")
    if "unavailable" in result.vqa:
        typer.echo(f"warning: vqa.json not written: {result.vqa}", err=True)
    for line in result.warnings:
        typer.echo(f"warning: {line}", err=True)
    if result.failed:
        typer.echo(f"warning: {len(result.failed)} clip(s) failed, listed in {result.out_dir / 'synth.json'}",
                   err=True)


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command."""
    app.command("synth")(synth)
