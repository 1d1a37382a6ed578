"""``camreasoner analyze`` and ``camreasoner ask``: a camera-motion reading of one video."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from camreasoner.cli.options import backend_help, backend_name, hint_mode
from camreasoner.core.errors import CamReasonerError

VideoArg = Annotated[Path, typer.Argument(help="A video file any FFmpeg build reads (mp4, avi, mkv, ...).")]
BackendOpt = Annotated[str, typer.Option("--backend", parser=backend_name, help=backend_help(
    "Who answers: the geometric observer (CPU) or a VLM / baseline backend."))]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Model path or served name (VLM backends).")]
BaseUrlOpt = Annotated[str | None, typer.Option("--base-url", help="Server URL (vllm/openai backends).")]
HintOpt = Annotated[str | None, typer.Option("--hint", parser=hint_mode, help="Give a VLM the observer's "
                                            "measurements as a hint: geometry.")]
FpsOpt = Annotated[float | None, typer.Option("--fps", help="Frames per second to sample, whatever the clip's "
                                              "length (default: 4 for the geometric observer, 0 = every decoded "
                                              "frame; VLMs: the backend's own, > 0).")]
MaxFramesOpt = Annotated[int | None, typer.Option("--max-frames", help="At most this many sampled frames "
                                                  "(geometric: the span is truncated there; default: none; "
                                                  "VLMs: the backend's own).")]
MaxNewTokensOpt = Annotated[int | None, typer.Option("--max-new-tokens", help="VLM backends: token budget "
                                                     "of the response.")]
MaxPixelsOpt = Annotated[int | None, typer.Option("--max-pixels", help="VLM backends: pixels per frame.")]
TemperatureOpt = Annotated[float | None, typer.Option("--temperature", help="VLM backends: sampling "
                                                      "temperature (0: greedy).")]
StartOpt = Annotated[float | None, typer.Option("--start", help="Start of the span, seconds.")]
EndOpt = Annotated[float | None, typer.Option("--end", help="End of the span, seconds.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")]
NoShotsOpt = Annotated[bool, typer.Option("--no-shots", help="Geometric observer: no shot detection; the "
                                          "span is read as one shot.")]
NoLensOpt = Annotated[bool, typer.Option("--no-lens", help="Geometric observer: do not look for a wide "
                                         "lens's barrel distortion (docs/observer.md, 'Wide lenses').")]
NoDissolvesOpt = Annotated[bool, typer.Option("--no-dissolves", help="Geometric observer: do not split shots "
                                              "at dissolves (docs/observer.md, 'Dissolves').")]
GEOMETRIC = "geometric"


def _check_sampling(fps: float | None, max_frames: int | None) -> None:
    from camreasoner.video.reader import check_fps

    check_fps(fps)
    if max_frames is not None and max_frames < 2:
        raise CamReasonerError(f"--max-frames must be at least 2, got {max_frames}")


def _observer_options(fps: float | None, max_frames: int | None, start: float | None, end: float | None,
                      shots: bool = True, lens: bool = True, dissolves: bool = True):
    from camreasoner.observer.reading import ObserverOptions

    _check_sampling(fps, max_frames)
    base = ObserverOptions()
    return ObserverOptions(fps=base.fps if fps is None else fps,
                           max_frames=base.max_frames if max_frames is None else max_frames, start=start, end=end,
                           shots=shots, lens=lens, dissolves=dissolves)


def _backend(name: str, model: str | None, base_url: str | None, hint: str | None,
             fps: float | None,
             max_frames: int | None, **generation: Any):
    """A backend; sampling and generation options left as None take the backend's own defaults."""
    from camreasoner.backends import get_backend

    _check_sampling(fps, max_frames)
    if fps == 0:
        raise CamReasonerError("--fps 0 (every decoded frame) is for the geometric observer; VLM backends need --fps > 0")
    if generation.get("max_new_tokens") is not None and generation["max_new_tokens"] < 1:
        raise CamReasonerError(f"--max-new-tokens must be at least 1, got {generation['max_new_tokens']}")
    if generation.get("max_pixels") is not None and generation["max_pixels"] < 1:
        raise CamReasonerError(f"--max-pixels must be positive, got {generation['max_pixels']}")
    if generation.get("temperature") is not None and generation["temperature"] < 0:
        raise CamReasonerError(f"--temperature must be >= 0, got {generation['temperature']}")
    options = {k: v for k, v in generation.items() if v is not None}
    return get_backend(name, model=model, base_url=base_url, hint=hint, fps=fps,
                       max_frames=max_frames, **options)


def _check_video(video: Path) -> None:
    if not video.exists():
        raise CamReasonerError(f"{video}: no such file")


def reading_via_backend(backend: Any, video: str) -> dict[str, Any]:
    """Ask the 15 binary questions through ``backend`` and assemble a reading's JSON object."""
    from camreasoner.backends import BackendItem
    from camreasoner.core.ota import extract_observation, parse_strict
    from camreasoner.core.taxonomy import BINARY_OPTIONS, PRIMITIVES, QUESTIONS, YES_LETTER, answer_string

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


NO_CLEAR_MOTION = "no clear motion"


def shown_answer(answer: str) -> str:
    """An answer as the console shows it: ``"None"`` (no primitive holds and Static does not either:
    the camera moves, or may, but no motion is sure) reads ``"no clear motion"``; JSON keeps ``"None"``."""
    return NO_CLEAR_MOTION if answer == "None" else answer


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
    console.print(f"[bold]Answer[/bold] [bold green]{shown_answer(obj['answer'])}[/bold green]")
    shots = obj.get("shots", [])
    if len(shots) > 1:
        listed = "; ".join(f"{s['start']:.1f}-{s['end']:.1f} s {shown_answer(s['reading']['answer'])}" for s in shots)
        console.print(f"[bold]Shots[/bold] {listed}", highlight=False)
    for warning in obj["measurements"].get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


def analyze(
    video: VideoArg,
    json_out: JsonOpt = False,
    fps: FpsOpt = None,
    max_frames: MaxFramesOpt = None,
    max_new_tokens: MaxNewTokensOpt = None,
    max_pixels: MaxPixelsOpt = None,
    temperature: TemperatureOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    no_shots: NoShotsOpt = False,
    no_dissolves: NoDissolvesOpt = False,
    no_lens: NoLensOpt = False,
    backend: BackendOpt = GEOMETRIC,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    hint: HintOpt = None,
    plot: Annotated[Path | None, typer.Option("--plot", help="Also draw pan/tilt/roll/zoom/translation over "
                                              "time, with shots and timeline segments, into this PNG.")] = None,
) -> None:
    """Read the camera motion of VIDEO: the 15 primitives with scores, and the O-T-A text."""
    _check_video(video)
    if plot is not None:
        from camreasoner.label.options import LabelOptions
        from camreasoner.label.plot import plot_video

        _check_sampling(fps, max_frames)
        plot_video(video, plot, LabelOptions(fps=fps or LabelOptions.fps, progress=False))
    if backend == GEOMETRIC:
        from camreasoner.observer.reading import analyze_video

        obj = analyze_video(video, _observer_options(fps, max_frames, start, end, shots=not no_shots, lens=not no_lens,
                                                            dissolves=not no_dissolves)).to_json()
    else:
        be = _backend(backend, model, base_url, hint, fps, max_frames, max_new_tokens=max_new_tokens,
                      max_pixels=max_pixels, temperature=temperature)
        obj = reading_via_backend(be, str(video))
    if json_out:
        typer.echo(json.dumps(obj, ensure_ascii=False))
    else:
        _print_reading(obj)


def ask(
    video: VideoArg,
    question: Annotated[str, typer.Argument(help="A CameraBench-style question.")],
    option: Annotated[list[str] | None, typer.Option("--option", help='One lettered option; repeat it: '
                                                     '--option "A. No" --option "B. Yes" (the default).')] = None,
    fps: FpsOpt = None,
    max_frames: MaxFramesOpt = None,
    max_new_tokens: MaxNewTokensOpt = None,
    max_pixels: MaxPixelsOpt = None,
    temperature: TemperatureOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    backend: BackendOpt = GEOMETRIC,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    hint: HintOpt = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print text, letter and option probabilities "
                                           "as JSON.")] = False,
) -> None:
    """Answer QUESTION about VIDEO and print the full O-T-A response."""
    from camreasoner.core.taxonomy import BINARY_OPTIONS
    from camreasoner.qa.question_map import map_question

    _check_video(video)
    opts = list(option or []) or list(BINARY_OPTIONS)
    if backend == GEOMETRIC:
        from camreasoner.observer.answer import answer_question
        from camreasoner.observer.reading import analyze_video

        map_question(question, opts)  # fail on an unmappable question before decoding the video
        reading = analyze_video(video, _observer_options(fps, max_frames, start, end))
        response = answer_question(reading, question, opts)
        warnings = reading.warnings
    else:
        from camreasoner.backends import BackendItem

        be = _backend(backend, model, base_url, hint, fps, max_frames, max_new_tokens=max_new_tokens,
                      max_pixels=max_pixels, temperature=temperature)
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
