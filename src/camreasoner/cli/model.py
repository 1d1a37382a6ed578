"""``camreasoner tiny-model``: build the tiny random Qwen2.5-VL checkpoint for tests and smoke runs."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the model commands to ``app``."""

    @app.command("tiny-model")
    def tiny_model(
        out: Path = typer.Option(..., "--out", help="Directory to write the checkpoint into."),
        seed: int = typer.Option(0, help="Seed of the random weights and the tokenizer corpus."),
        force: bool = typer.Option(False, help="Overwrite a directory that already holds a checkpoint."),
    ) -> None:
        """Build a tiny random Qwen2.5-VL checkpoint (real classes, local tokenizer, chat template)."""
        import os
        import shutil
        import tempfile

        from camreasoner.core.errors import CamReasonerError
        from camreasoner.model.tiny import build_tiny_model

        if out.exists() and not out.is_dir():
            raise CamReasonerError(f"{out}: exists and is not a directory")
        if (out / "config.json").exists() and not force:
            raise CamReasonerError(
                f"{out}: already holds a checkpoint (config.json); pass --force to overwrite"
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
        try:
            build_tiny_model(tmp, seed=seed)
            if out.exists():
                shutil.rmtree(out) if force else out.rmdir()
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        typer.echo(str(out))

    @app.command("model-info")
    def model_info(
        model: Path = typer.Argument(..., help="A local checkpoint directory."),
    ) -> None:
        """Check a checkpoint directory loads as a video VLM and print what it is, as JSON."""
        import json

        from camreasoner.model.loading import describe_checkpoint

        typer.echo(json.dumps(describe_checkpoint(model), indent=1))
