"""``camreasoner analyze`` and ``camreasoner ask``: a camera-motion reading of one video."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from camreasoner.errors import CamReasonerError

VIDEO = typer.Argument(..., help="A video file any FFmpeg build reads (mp4, avi, mkv, ...).")
BACKEND = typer.Option("geometric", "--backend", help="geometric (CPU, default), hf, vllm, openai, ...")
MODEL = typer.Option(None, "--model", help="Model path or served name (VLM backends).")
BASE_URL = typer.Option(None, "--base-url", help="Server URL (vllm/openai backends).")
HINT = typer.Option(None, "--hint", help="'geometry': give a VLM the observer's measurements as a hint.")
FPS = typer.Option(4.0, "--fps", help="Frames per second to sample.")
MAX_FRAMES = typer.Option(64, "--max-frames", help="At most this many sampled frames (spread over the span).")
START = typer.Option(None, "--start", help="Start of the span, seconds.")
END = typer.Option(None, "--end", help="End of the span, seconds.")


def _observer_options(fps: float, max_frames: int | None, start: float | None, end: float | None):
    from camreasoner.observer import ObserverOptions

    if fps <= 0:
        raise CamReasonerError(f"--fps must be positive, got {fps}")
    return ObserverOptions(fps=fps, max_frames=max_frames, start=start, end=end)


def _backend(name: str, model: str | None, base_url: str | None, hint: str | None, fps: float,
             max_frames: int | None):
    from camreasoner.backends import get_backend

    if hint not in (None, "geometry"):
        raise CamReasonerError(f"--hint must be 'geometry', got {hint!r}")
    return get_backend(name, model=model, base_url=base_url, hint=hint, fps=fps, max_frames=max_frames)


def _check_video(video: Path) -> None:
    if not video.exists():
        raise CamReasonerError(f"{video}: no such file")


def reading_via_backend(backend: Any, video: str) -> dict[str, Any]:
    """Ask the 15 binary questions through ``backend`` and assemble a reading's JSON object."""
    from camreasoner.backends import BackendItem
    from camreasoner.ota import extract_observation, parse_strict
    from camreasoner.taxonomy import BINARY_OPTIONS, PRIMITIVES, QUESTIONS, YES_LETTER, answer_string

    items = [BackendItem(video=video, question=QUESTIONS[p], options=BINARY_OPTIONS, id=p) for p in PRIMITIVES]
    responses = backend.answer(items)
    errors = [r.error for r in responses if r.error]
    if len(errors) == len(responses):
        raise CamReasonerError(errors[0])
    primitives = {p: r.letter == YES_LETTER for p, r in zip(PRIMITIVES, responses, strict=True)}
    scores = {p: float(r.option_probs.get(YES_LETTER, 0.0)) for p, r in zip(PRIMITIVES, responses, strict=True)}
    first = next((r.text for r in responses if r.text), "")
    parsed = parse_strict(first, "AB")
    observation = extract_observation(first) or ""
    held = [p for p in PRIMITIVES if primitives[p] and p != "Static"]
    think = (parsed.think if parsed else "") or (
        f"Asked the 15 binary questions through the {backend.name} backend; Yes to: {', '.join(held) or 'none'}."
    )
    return {
        "video": video,
        "primitives": primitives,
        "scores": {k: round(v, 4) for k, v in scores.items()},
        "measurements": {"backend": backend.name, "errors": errors,
                         "responses": {p: r.text for p, r in zip(PRIMITIVES, responses, strict=True)}},
        "observation": observation,
        "think": think,
        "answer": answer_string(primitives),
    }


def _print_reading(obj: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{obj['video']}[/bold]")
    table = Table(show_header=True, header_style="bold", box=None)
    table.add_column("primitive")
    table.add_column("P(yes)", justify="right")
    table.add_column("holds")
    for name, score in obj["scores"].items():
        holds = obj["primitives"][name]
        style = "green" if holds else ("yellow" if score >= 0.3 else "dim")
        table.add_row(name, f"{score:.2f}", "yes" if holds else "", style=style)
    console.print(table)
    console.print(f"[bold]Observation[/bold] {obj['observation']}", highlight=False)
    console.print(f"[bold]Think[/bold] {obj['think']}", highlight=False)
    console.print(f"[bold]Answer[/bold] [bold green]{obj['answer']}[/bold green]")
    for warning in obj["measurements"].get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def analyze(
    video: Path = VIDEO,
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
    fps: float = FPS,
    max_frames: int = MAX_FRAMES,
    start: float = START,
    end: float = END,
    backend: str = BACKEND,
    model: str = MODEL,
    base_url: str = BASE_URL,
    hint: str = HINT,
) -> None:
    """Read the camera motion of VIDEO: the 15 primitives with scores, and the O-T-A text."""
    _check_video(video)
    if backend == "geometric":
        from camreasoner.observer import analyze_video

        obj = analyze_video(video, _observer_options(fps, max_frames, start, end)).to_json()
    else:
        obj = reading_via_backend(_backend(backend, model, base_url, hint, fps, max_frames), str(video))
    if json_out:
        typer.echo(json.dumps(obj, ensure_ascii=False))
    else:
        _print_reading(obj)


def ask(
    video: Path = VIDEO,
    question: str = typer.Argument(..., help="A CameraBench-style question."),
    options: list[str] = typer.Option(None, "--options", help='Lettered options, e.g. --options "A. No" "B. Yes".'),
    fps: float = FPS,
    max_frames: int = MAX_FRAMES,
    start: float = START,
    end: float = END,
    backend: str = BACKEND,
    model: str = MODEL,
    base_url: str = BASE_URL,
    hint: str = HINT,
    json_out: bool = typer.Option(False, "--json", help="Print text, letter and option probabilities as JSON."),
    more_options: list[str] = typer.Argument(None, hidden=True, metavar=""),
) -> None:
    """Answer QUESTION about VIDEO and print the full O-T-A response."""
    from camreasoner.question_map import map_question
    from camreasoner.taxonomy import BINARY_OPTIONS

    _check_video(video)
    if more_options and not options:
        raise CamReasonerError(f"unexpected argument {more_options[0]!r} (options go after --options)")
    opts = [*(options or []), *(more_options or [])] or list(BINARY_OPTIONS)
    if backend == "geometric":
        from camreasoner.observer import analyze_video, answer_question

        map_question(question, opts)  # fail on an unmappable question before decoding the video
        reading = analyze_video(video, _observer_options(fps, max_frames, start, end))
        response = answer_question(reading, question, opts)
        warnings = reading.warnings
    else:
        from camreasoner.backends import BackendItem

        be = _backend(backend, model, base_url, hint, fps, max_frames)
        response = be.answer([BackendItem(video=str(video), question=question, options=tuple(opts))])[0]
        if response.error:
            raise CamReasonerError(response.error)
        warnings = []
    if json_out:
        typer.echo(json.dumps({"text": response.text, "letter": response.letter,
                               "option_probs": response.option_probs, "warnings": warnings}))
        return
    typer.echo(response.text)
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``analyze`` and ``ask`` to the app."""
    app.command("analyze")(analyze)
    app.command("ask")(ask)
