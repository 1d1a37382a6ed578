"""Option types shared by the command modules: backend names from the registry, one-line checks."""

from __future__ import annotations

from enum import Enum

from camreasoner.backends.base import backend_names
from camreasoner.model.hints import HINT_MODES

# Choices come from the registry, so --help lists exactly what get_backend knows.
BackendName = Enum("BackendName", {name: name for name in backend_names()}, type=str)  # type: ignore[misc]
HintMode = Enum("HintMode", {name: name for name in HINT_MODES}, type=str)  # type: ignore[misc]


def value_of(choice: Enum | str | None) -> str | None:
    """The plain string of an enum choice (None stays None)."""
    return None if choice is None else str(getattr(choice, "value", choice))
