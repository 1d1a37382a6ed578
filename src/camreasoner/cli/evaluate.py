"""``camreasoner eval``: evaluate a backend on a question file; ``camreasoner eval compare``."""

from __future__ import annotations

from pathlib import Path

import typer

from camreasoner.core.errors import CamReasonerError

eval_app = typer.Typer(
    help="Evaluate a backend on CameraBench / CamReasoner question files (or compare runs).",
    no_args_is_help=False,
)


@eval_app.callback(invoke_without_command=True)
def eval_main(
    ctx: typer.Context,
    bench: Path | None = typer.Option(None, "--bench", help="Question file: JSON list or JSON Lines."),
    video_root: Path | None = typer.Option(
        None, "--video-root", help="Directory the questions' video paths are relative to "
        "(optional only for backends that ignore videos, such as always-no)."
    ),
    backend: str | None = typer.Option(None, "--backend", help="Backend name (geometric, hf, vllm, openai, always-no, always-yes, prior)."),
    model: str | None = typer.Option(None, "--model", help="Model path or served name (prior: a labels or question file)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Server URL for served backends."),
    hint: str | None = typer.Option(None, "--hint", help="Prompt hint passed to the backend (e.g. geometry)."),
    out: Path | None = typer.Option(None, "--out", help="Output directory."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run in --out."),
    limit: int | None = typer.Option(None, "--limit", help="Evaluate only the first N items of the file."),
    workers: int = typer.Option(1, "--workers", help="Processes answering in parallel (one backend each)."),
    bootstrap: int = typer.Option(1000, "--bootstrap", help="Bootstrap resamples for the 95% intervals."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.md / report.html with plots."),
) -> None:
    """Evaluate BACKEND on --bench and write predictions, metrics, scores and a report to --out."""
    if ctx.invoked_subcommand is not None:
        return
    missing = [name for name, value in (("--bench", bench), ("--backend", backend), ("--out", out)) if value is None]
    if missing:
        raise CamReasonerError(f"eval needs {', '.join(missing)} (see camreasoner eval --help)")
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from camreasoner.evaluate.runner import EvalConfig, run_eval

    options = {k: v for k, v in (("model", model), ("base_url", base_url), ("hint", hint)) if v is not None}
    cfg = EvalConfig(
        bench=str(bench),
        out=str(out),
        backend=str(backend),
        video_root=None if video_root is None else str(video_root),
        backend_options=options,
        resume=resume,
        limit=limit,
        workers=workers,
        n_boot=bootstrap,
        report=report,
    )
    console = Console(stderr=True)
    bars: list[Progress] = []  # started at the first finished item, so early errors stay one line

    def progress(done: int, total: int) -> None:
        if not bars and console.is_terminal:
            bars.append(Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                                 TimeRemainingColumn(), console=console, transient=True))
            bars[0].start()
            bars[0].add_task(str(backend), total=total)
        if bars:
            bars[0].update(bars[0].task_ids[0], completed=done, total=total)

    try:
        result = run_eval(cfg, progress=progress)
    finally:
        for bar in bars:
            bar.stop()
    m = result.metrics
    from camreasoner.evaluate.compare import fmt_pct

    typer.echo(
        f"{result.out}: {m['n']} items ({result.n_done_before} resumed, {result.n_answered} answered now), "
        f"{m['n_errors']} errors; accuracy {fmt_pct(m['accuracy'])} (majority baseline "
        f"{fmt_pct(m['majority_baseline_accuracy'])}), balanced accuracy {fmt_pct(m.get('balanced_accuracy'))}, "
        f"mean AP {fmt_pct(m.get('mean_ap'))} (constant score {fmt_pct(m.get('mean_yes_rate'))})"
    )


@eval_app.command("compare")
def compare_cmd(
    runs: list[Path] = typer.Argument(..., help="Output directories of earlier eval runs."),
    primitives: bool = typer.Option(True, "--primitives/--no-primitives", help="Also show per-primitive AP."),
) -> None:
    """Print one side-by-side table of several runs' metrics."""
    from rich.console import Console

    from camreasoner.evaluate.compare import compare_table, load_runs

    Console(width=max(100, 30 + 16 * len(runs))).print(compare_table(load_runs(runs), primitives=primitives))


def register(app: typer.Typer) -> None:
    """Add ``eval`` (a group with ``compare``) to the main app."""
    app.add_typer(eval_app, name="eval")
