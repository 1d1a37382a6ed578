"""``camreasoner label``: label a whole video library per shot (resumable, parallel, Ray)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camreasoner.cli.options import backend_help, backend_name


def label(
    inputs: Annotated[list[str], typer.Argument(help="Videos, folders (recursive), glob patterns, or list "
                                                "files (.txt one path a line; .csv/.parquet with a 'path' column).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (rerun the same command to resume).")],
    workers: Annotated[int, typer.Option("--workers", help="Worker processes (rows do not depend on it).")] = 1,
    fps: Annotated[float, typer.Option("--fps", help="Frames per second the observer samples.")] = 4.0,
    max_side: Annotated[int, typer.Option("--max-side", help="Longer side of analysed frames, px.")] = 320,
    no_shots: Annotated[bool, typer.Option("--no-shots", help="One row per video, no shot detection.")] = False,
    min_shot: Annotated[float, typer.Option("--min-shot", help="Shortest shot, seconds.")] = 1.0,
    no_dissolves: Annotated[bool, typer.Option("--no-dissolves", help="Do not split shots at dissolves "
                                               "(docs/observer.md, 'Dissolves').")] = False,
    no_lens: Annotated[bool, typer.Option("--no-lens", help="Geometric observer: do not look for a wide lens's "
                                          "barrel distortion (docs/observer.md, 'Wide lenses').")] = False,
    backend: Annotated[str, typer.Option("--backend", parser=backend_name, help=backend_help(
        "Backend reading each shot (any other than geometric answers the 15 binary questions)."))] = "geometric",
    model: Annotated[str | None, typer.Option(
        "--model", help="The backend's model path or served name (prior: a labels or question file).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Server URL for served backends.")] = None,
    max_pixels: Annotated[int | None, typer.Option("--max-pixels", help="VLM backends: pixels per frame.")] = None,
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens", help="VLM backends: response "
                                                       "length limit.")] = None,
    batch_size: Annotated[int | None, typer.Option("--batch-size", help="VLM backends: questions per batch.")] = None,
    unsure: Annotated[float, typer.Option("--unsure", help="Scores within this of 0.5 are written as null.")] = 0.15,
    video_root: Annotated[Path | None, typer.Option("--video-root", help="labels.jsonl paths are relative "
                                                    "to this (default: the folder holding every video).")] = None,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Run as Ray Data tasks on this "
                                                    "cluster ('local' starts one here).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Label every video of INPUT...: per shot the 15 primitives, a timeline, Open-Sora's cmotion."""
    from camreasoner.label import LabelOptions, run_label

    given = {"model": model, "base_url": base_url, "max_pixels": max_pixels, "max_new_tokens": max_new_tokens,
             "batch_size": batch_size}
    opts = LabelOptions(fps=fps, max_side=max_side, shots=not no_shots, min_shot=min_shot,
                        dissolves=not no_dissolves, lens=not no_lens,
                        backend=backend, backend_options={k: v for k, v in given.items() if v is not None},
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

