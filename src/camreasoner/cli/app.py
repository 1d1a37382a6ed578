"""The ``camreasoner`` command line: a thin Typer app that wires the command modules together.

Every user-facing failure is a :class:`CamReasonerError`: one line on stderr, a non-zero exit, no
traceback.
"""

from __future__ import annotations

import importlib
import sys

import typer

from camreasoner.core.errors import CamReasonerError

app = typer.Typer(
    name="camreasoner",
    help="Camera-motion understanding in video through structured O-T-A reasoning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# One module per area; each exposes register(app).
COMMAND_MODULES = (
    "camreasoner.cli.analyze",
    "camreasoner.cli.synth",
    "camreasoner.cli.evaluate",
    "camreasoner.cli.model",
    "camreasoner.cli.suite",
    "camreasoner.cli.train",
    "camreasoner.cli.label",
    "camreasoner.cli.view",
)

for _module_name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(_module_name)
    except ModuleNotFoundError as _exc:
        if _exc.name != _module_name:
            raise
        continue
    _module.register(app)


def main() -> None:
    """Entry point. User errors: one ``error:`` line and exit 2; usage errors: Typer's message and exit
    2; Ctrl-C: exit 130 (Typer turns KeyboardInterrupt into that exit code)."""
    try:
        app()
    except CamReasonerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
