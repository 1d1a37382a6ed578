"""``camreasoner view DIR``: a self-contained HTML page of a labelling run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def view(
    out: Annotated[Path, typer.Argument(help="A folder written by camreasoner label.")],
    thumbs: Annotated[int, typer.Option("--thumbs", help="Thumbnails per shot.")] = 4,
) -> None:
    """Write DIR/index.html: per shot thumbnails, held primitives with scores, the timeline; filters."""
    from camreasoner.core.errors import CamReasonerError
    from camreasoner.label.gallery import GalleryOptions, write_gallery

    if thumbs < 1:
        raise CamReasonerError(f"--thumbs must be at least 1, got {thumbs}")
    typer.echo(str(write_gallery(out, GalleryOptions(thumbs=thumbs))))


def register(app: typer.Typer) -> None:
    """Add the ``view`` command."""
    app.command("view")(view)
