"""``camreasoner model tiny`` and ``camreasoner model info``: the tiny test checkpoint, and checking one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from camreasoner.core.errors import CamReasonerError

# Written into every checkpoint ``model tiny`` builds: --force removes only directories holding it.
MARKER = ".camreasoner-tiny-model"


def _replaceable(out: Path, force: bool) -> None:
    """Refuse to overwrite anything camreasoner did not build (one line naming the directory)."""
    if out.exists() and not out.is_dir():
        raise CamReasonerError(f"{out}: exists and is not a directory")
    if not out.exists() or not any(out.iterdir()):
        return
    if not (out / MARKER).is_file():
        raise CamReasonerError(f"{out}: not empty and not a checkpoint built by `camreasoner model tiny`; "
                               "choose another --out (--force only replaces such checkpoints)")
    if not force:
        raise CamReasonerError(f"{out}: already holds a tiny checkpoint; pass --force to replace it")


def tiny(
    out: Annotated[Path, typer.Option("--out", help="Directory to write the checkpoint into.")],
    seed: Annotated[int, typer.Option(help="Seed of the random weights and the tokenizer corpus.")] = 0,
    force: Annotated[bool, typer.Option(help="Replace a checkpoint that `model tiny` built there.")] = False,
) -> None:
    """Build a tiny random Qwen2.5-VL checkpoint (real classes, local tokenizer, chat template)."""
    import os
    import shutil
    import tempfile

    from camreasoner.model.tiny import build_tiny_model

    _replaceable(out, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        build_tiny_model(tmp, seed=seed)
        (tmp / MARKER).write_text(json.dumps({"seed": seed}) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    typer.echo(str(out))


def info(model: Annotated[Path, typer.Argument(help="A local checkpoint directory.")]) -> None:
    """Check a checkpoint directory loads as a video VLM and print what it is, as JSON."""
    from camreasoner.model.loading import describe_checkpoint

    typer.echo(json.dumps(describe_checkpoint(model), indent=1))


def register(app: typer.Typer) -> None:
    """Add the ``model`` command group."""
    group = typer.Typer(help="Model checkpoints: build the tiny test model, check a checkpoint.",
                        no_args_is_help=True)
    group.command("tiny")(tiny)
    group.command("info")(info)
    app.add_typer(group, name="model")
