"""``camreasoner eval run``: evaluate a backend on a question source; ``camreasoner eval compare``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camreasoner.cli.options import backend_help, backend_name, hint_mode
from camreasoner.core.errors import CamReasonerError

eval_app = typer.Typer(
    help="Evaluate a backend on CameraBench / CamReasoner questions (eval run) or compare runs (eval compare).",
    no_args_is_help=True,
)


@eval_app.command("run")
def run_cmd(
    bench: Annotated[Path, typer.Option(
        "--bench", help="Questions: a JSON / JSON Lines question file, CameraBench's binary_classification "
        "folder (or one <Primitive>.jsonl) or its vqa_and_retrieval folder (or one <skill>/<task>.jsonl).")],
    backend: Annotated[str, typer.Option("--backend", parser=backend_name, help=backend_help("Backend to evaluate."))],
    out: Annotated[Path, typer.Option("--out", help="Output directory.")],
    video_root: Annotated[Path | None, typer.Option(
        "--video-root", help="Directory the questions' video paths are relative to "
        "(optional only for backends that ignore videos, such as always-no).")] = None,
    model: Annotated[str | None, typer.Option(
        "--model", help="Model path or served name (prior: a labels or question file).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="Server URL for served backends.")] = None,
    hint: Annotated[str | None, typer.Option("--hint", parser=hint_mode, help="Prompt hint passed to the backend: geometry.")] = None,
    fps: Annotated[float | None, typer.Option("--fps", help="Frames per second the backend samples.")] = None,
    max_frames: Annotated[int | None, typer.Option("--max-frames", help="At most this many frames per video.")] = None,
    max_pixels: Annotated[int | None, typer.Option("--max-pixels", help="At most this many pixels per frame.")] = None,
    temperature: Annotated[float | None, typer.Option("--temperature", help="Sampling temperature.")] = None,
    max_new_tokens: Annotated[int | None, typer.Option("--max-new-tokens", help="Response length limit.")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue a run in --out (failed items are answered again).")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate only the first N items.")] = None,
    workers: Annotated[int, typer.Option("--workers", help="Processes answering in parallel (one backend each).")] = 1,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap resamples (of clips) for the 95% intervals.")] = 1000,
    report: Annotated[bool, typer.Option("--report/--no-report", help="Write report.md / report.html with plots.")] = True,
    max_error_rate: Annotated[float, typer.Option(
        "--max-error-rate", help="Exit 1 when more than this share of the items failed.")] = 0.5,
) -> None:
    """Evaluate BACKEND on --bench and write predictions, metrics, score files and a report to --out."""
    from camreasoner.evaluate.compare import fmt_pct
    from camreasoner.evaluate.runner import EvalConfig, run_eval

    given = {"model": model, "base_url": base_url, "hint": hint, "fps": fps, "max_frames": max_frames,
             "max_pixels": max_pixels, "temperature": temperature, "max_new_tokens": max_new_tokens}
    cfg = EvalConfig(
        bench=str(bench), out=str(out), backend=backend,
        video_root=None if video_root is None else str(video_root),
        backend_options={k: v for k, v in given.items() if v is not None},
        resume=resume, limit=limit, workers=workers, n_boot=bootstrap, report=report,
        max_error_rate=max_error_rate,
    )
    with _ProgressBar(backend) as progress:
        result = run_eval(cfg, progress=progress)
    m = result.metrics
    typer.echo(
        f"{result.out}: {m['n']} items ({result.n_done_before} resumed, {result.n_answered} answered now), "
        f"{m['n_errors']} failed; accuracy {fmt_pct(m['accuracy'])} (majority baseline "
        f"{fmt_pct(m['majority_baseline_accuracy'])}), balanced accuracy {fmt_pct(m.get('balanced_accuracy'))}, "
        f"mean AP {fmt_pct(m.get('mean_ap'))} (strict {fmt_pct(m.get('mean_ap_strict'))}; "
        f"constant score {fmt_pct(m.get('mean_yes_rate'))})"
    )
    if result.problem:
        raise CamReasonerError(f"{result.out}: {result.problem}", exit_code=1)


class _ProgressBar:
    """A rich progress bar on stderr, started at the first finished item (early errors stay one line)."""

    def __init__(self, label: str) -> None:
        from rich.console import Console

        self.label = label
        self.console = Console(stderr=True)
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        if self.bar is None and self.console.is_terminal:
            self.bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                TimeRemainingColumn(), console=self.console, transient=True)
            self.bar.start()
            self.bar.add_task(self.label, total=total)
        if self.bar is not None:
            self.bar.update(self.bar.task_ids[0], completed=done, total=total)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


@eval_app.command("compare")
def compare_cmd(
    runs: Annotated[list[Path], typer.Argument(help="Output directories of earlier eval runs.")],
    primitives: Annotated[bool, typer.Option("--primitives/--no-primitives", help="Also show per-primitive AP.")] = True,
) -> None:
    """Print one side-by-side table of several runs' metrics."""
    from rich.console import Console

    from camreasoner.evaluate.compare import compare_table, load_runs

    Console(width=max(100, 30 + 16 * len(runs))).print(compare_table(load_runs(runs), primitives=primitives))


def register(app: typer.Typer) -> None:
    """Add ``eval`` (a group of ``run`` and ``compare``) to the main app."""
    app.add_typer(eval_app, name="eval")
