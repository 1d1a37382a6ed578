"""``camreasoner suite build``: the Inference Trajectory Suite (SFT chains and RL samples)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from camreasoner.cli.options import backend_help, backend_name
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
    labels: Annotated[Path, typer.Option("--labels", help="Labels file (JSON Lines, conventions' format).")],
    video_root: Annotated[Path, typer.Option("--video-root", help="Directory the labels' paths are relative to.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory (resumable: rerun to continue).")],
    sft: Annotated[int, typer.Option("--sft", help="SFT chains to build.")] = 18000,
    rl: Annotated[int, typer.Option("--rl", help="RL samples to build.")] = 38000,
    teacher: Annotated[str | None, typer.Option("--teacher", parser=backend_name, help=backend_help("Teacher backend."))] = None,
    teacher_model: Annotated[str | None, typer.Option("--teacher-model", help="Teacher model path or served name.")] = None,
    teacher_base_url: Annotated[str | None, typer.Option("--teacher-base-url", help="OpenAI-compatible server URL.")] = None,
    teacher_option: Annotated[list[str] | None, typer.Option("--teacher-option", help="Extra teacher option KEY=VALUE.")] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Teacher samples per item.")] = 4,
    teacher_items: Annotated[int | None, typer.Option("--teacher-items", help="Items to send to the teacher (default: --sft).")] = None,
    teacher_only: Annotated[bool, typer.Option("--teacher-only", help="Keep only teacher chains (no grounded fallback).")] = False,
    temperature: Annotated[float, typer.Option("--temperature", help="Teacher sampling temperature.")] = 1.0,
    reference: Annotated[str, typer.Option("--reference", parser=backend_name, help=backend_help("Backend whose pass rate gives RL difficulty."))] = "geometric",
    reference_option: Annotated[list[str] | None, typer.Option("--reference-option", help="Reference option KEY=VALUE.")] = None,
    reference_k: Annotated[int, typer.Option("--reference-k", help="Reference samples per RL item.")] = 4,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every random choice.")] = 0,
    workers: Annotated[int, typer.Option("--workers", help="Parallel processes for augmenting and measuring clips.")] = 1,
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="Run the per-clip stage on this Ray cluster.")] = None,
    augment: Annotated[str, typer.Option("--augment", help="Augmentations: reverse, mirror, reverse_mirror, crop (or 'none').")] = "reverse,mirror,crop",
    crops: Annotated[int, typer.Option("--crops", help="Temporal crops per clip (clips with a synth recipe).")] = 1,
    yes_ratio: Annotated[float, typer.Option("--yes-ratio", help="Share of Yes among binary questions, per primitive.")] = 0.5,
    vqa_rounds: Annotated[int, typer.Option("--vqa-rounds", help="VQA question draws per clip variant.")] = 4,
    split: Annotated[str, typer.Option("--split", help="Train,validation,test shares (by clip).")] = "0.9,0.05,0.05",
    fps: Annotated[float, typer.Option("--fps", help="Observer sampling rate.")] = 6.0,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
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
    t_opts.update(_kv(teacher_option or [], "--teacher-option"))
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
        reference_options=_kv(reference_option or [], "--reference-option"),
        reference_k=reference_k,
        observer={"fps": fps},
        ray_address=ray_address,
        progress=progress,
    )
    result = build_suite(opts, log=lambda msg: typer.echo(msg, err=True))
    c = result.manifest["counts"]
    typer.echo(
        f"suite: {c['sft']} SFT chains, {c['rl']} RL samples from {c['clips']} clips "
        f"({c['variants']} with augmentations) in {result.seconds:.1f} s -> {opts.out.resolve() / 'suite.json'}"
    )


def register(app: typer.Typer) -> None:
    """Add the ``suite`` command group."""
    group = typer.Typer(
        help="Build the Inference Trajectory Suite (SFT chains, RL samples).", no_args_is_help=True
    )
    group.command("build")(build)
    app.add_typer(group, name="suite")
