"""Option parsers shared by the command modules: backend and hint names checked against the registry."""

from __future__ import annotations

import typer

from camreasoner.backends.base import backend_names
from camreasoner.model.hints import HINT_MODES


def backend_name(value: str) -> str:
    """A backend name the registry knows when the command runs (backends registered later count)."""
    names = backend_names()
    if value not in names:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}")
    return value


def hint_mode(value: str) -> str:
    """A hint mode the model package knows."""
    if value not in HINT_MODES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(HINT_MODES)}")
    return value


def backend_help(what: str) -> str:
    """``what`` followed by the registry's names, for --help."""
    return f"{what} One of: {', '.join(backend_names())}."
