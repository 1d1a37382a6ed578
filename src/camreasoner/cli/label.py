"""``camreasoner label``: label a whole video library per shot (resumable, parallel, Ray)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def label(
    inputs: Annotated[list[str], typer.Argument(help="Videos, folders (recursive), glob patterns, or list "
                                                "files (.txt one path a line; .csv/.parquet with a 'path' column).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (rerun the same command to resume).")],
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (rows do not depend on it).")] = 1,
    fps: Annotated[float, typer.Option("--fps", help="Frames per second the observer samples.")] = 4.0,
    max_side: Annotated[int, typer.Option("--max-side", help="Longer side of analysed frames, px.")] = 320,
    no_shots: Annotated[bool, typer.Option("--no-shots", help="One row per video, no shot detection.")] = False,
    min_shot: Annotated[float, typer.Option("--min-shot", help="Shortest shot, seconds.")] = 1.0,
    backend: Annotated[str, typer.Option("--backend", help="Backend reading each shot.")] = "geometric",
    unsure: Annotated[float, typer.Option("--unsure", help="Scores within this of 0.5 are written as null.")] = 0.15,
    video_root: Annotated[Path | None, typer.Option("--video-root", help="labels.jsonl paths are relative "
                                                    "to this (default: the folder holding every video).")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Run as Ray Data tasks on this "
                                                    "cluster ('local' starts one here).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Label every video of INPUT...: per shot the 15 primitives, a timeline, Open-Sora's cmotion."""
    from camreasoner.label import LabelOptions, run_label

    opts = LabelOptions(fps=fps, max_side=max_side, shots=not no_shots, min_shot=min_shot, backend=backend,
                        unsure=unsure, video_root=str(video_root) if video_root else None, workers=workers,
                        ray_address=ray_address, progress=not quiet)
    result = run_label(inputs, out, opts)
    c = result.manifest["counts"]
    state = "already finished" if result.already_done else "finished"
    typer.echo(f"{state}: {c['labelled']} of {c['videos']} videos, {c['shots']} shots in {out}")
    if result.failed:
        typer.echo(f"error: {result.failed} video(s) could not be read, listed in {out / 'errors.jsonl'}", err=True)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the ``label`` command."""
    app.command("label")(label)

