"""``camreasoner suite build``: the Inference Trajectory Suite (SFT chains and RL samples)."""

from __future__ import annotations

from pathlib import Path

import typer

from camreasoner.core.errors import CamReasonerError


def _kv(pairs: list[str], flag: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for pair in pairs:
        if "=" not in pair:
            raise CamReasonerError(f"{flag} {pair!r}: expected KEY=VALUE")
        key, value = pair.split("=", 1)
        for cast in (int, float):
            try:
                out[key] = cast(value)
                break
            except ValueError:
                continue
        else:
            out[key] = value
    return out


def build(
    labels: Path = typer.Option(..., "--labels", help="Labels file (JSON Lines, conventions' format)."),
    video_root: Path = typer.Option(..., "--video-root", help="Directory the labels' paths are relative to."),
    out: Path = typer.Option(..., "--out", help="Output directory (resumable: rerun to continue)."),
    sft: int = typer.Option(18000, "--sft", help="SFT chains to build."),
    rl: int = typer.Option(38000, "--rl", help="RL samples to build."),
    teacher: str | None = typer.Option(
        None, "--teacher", help="Teacher backend (openai, vllm, hf, geometric)."
    ),
    teacher_model: str | None = typer.Option(
        None, "--teacher-model", help="Teacher model path or served name."
    ),
    teacher_base_url: str | None = typer.Option(
        None, "--teacher-base-url", help="OpenAI-compatible server URL."
    ),
    teacher_option: list[str] = typer.Option([], "--teacher-option", help="Extra teacher option KEY=VALUE."),
    k: int = typer.Option(4, "-k", "--k", help="Teacher samples per item."),
    teacher_items: int | None = typer.Option(
        None, "--teacher-items", help="Items to send to the teacher (default: --sft)."
    ),
    teacher_only: bool = typer.Option(
        False, "--teacher-only", help="Keep only teacher chains (no grounded fallback)."
    ),
    temperature: float = typer.Option(1.0, "--temperature", help="Teacher sampling temperature."),
    reference: str = typer.Option(
        "geometric", "--reference", help="Backend whose pass rate gives RL difficulty."
    ),
    reference_option: list[str] = typer.Option([], "--reference-option", help="Reference option KEY=VALUE."),
    reference_k: int = typer.Option(4, "--reference-k", help="Reference samples per RL item."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random choice."),
    workers: int = typer.Option(
        1, "--workers", help="Parallel processes for augmenting and measuring clips."
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Run the per-clip stage on this Ray cluster."
    ),
    augment: str = typer.Option(
        "reverse,mirror,crop",
        "--augment",
        help="Augmentations: reverse, mirror, reverse_mirror, crop (or 'none').",
    ),
    crops: int = typer.Option(1, "--crops", help="Temporal crops per clip (clips with a synth recipe)."),
    yes_ratio: float = typer.Option(
        0.5, "--yes-ratio", help="Share of Yes among binary questions, per primitive."
    ),
    vqa_rounds: int = typer.Option(4, "--vqa-rounds", help="VQA question draws per clip variant."),
    split: str = typer.Option("0.9,0.05,0.05", "--split", help="Train,validation,test shares (by clip)."),
    fps: float = typer.Option(6.0, "--fps", help="Observer sampling rate."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Build SFT chains and RL samples from labelled clips: OUT/suite.json, OUT/hf, exports, README.md."""
    from camreasoner.suite.build import BuildOptions, build_suite

    try:
        shares = tuple(float(x) for x in split.split(","))
    except ValueError:
        raise CamReasonerError(f"--split {split!r}: expected three numbers such as 0.9,0.05,0.05") from None
    kinds = (
        () if augment.strip() in ("", "none") else tuple(a.strip() for a in augment.split(",") if a.strip())
    )
    t_opts: dict[str, object] = {"temperature": temperature}
    if teacher_model:
        t_opts["model"] = teacher_model
    if teacher_base_url:
        t_opts["base_url"] = teacher_base_url
    t_opts.update(_kv(teacher_option, "--teacher-option"))
    opts = BuildOptions(
        labels=labels,
        video_root=video_root,
        out=out,
        sft=sft,
        rl=rl,
        seed=seed,
        workers=workers,
        augment=kinds,
        crops=crops,
        yes_ratio=yes_ratio,
        vqa_rounds=vqa_rounds,
        split=shares,  # type: ignore[arg-type]
        teacher=teacher,
        teacher_options=t_opts,
        k=k,
        teacher_items=teacher_items,
        teacher_only=teacher_only,
        reference=reference,
        reference_options=_kv(reference_option, "--reference-option"),
        reference_k=reference_k,
        observer={"fps": fps},
        ray_address=ray_address,
        progress=progress,
    )
    result = build_suite(opts, log=lambda msg: typer.echo(msg, err=True))
    c = result.manifest["counts"]
    typer.echo(
        f"suite: {c['sft']} SFT chains, {c['rl']} RL samples from {c['clips']} clips "
        f"({c['variants']} with augmentations) in {result.seconds:.1f} s -> {opts.out / 'suite.json'}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``suite`` command group."""
    group = typer.Typer(
        help="Build the Inference Trajectory Suite (SFT chains, RL samples).", no_args_is_help=True
    )
    group.command("build")(build)
    app.add_typer(group, name="suite")
