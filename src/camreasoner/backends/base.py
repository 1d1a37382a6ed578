"""The backend protocol and a name registry.

A backend takes a batch of :class:`BackendItem` (video, question, options) and returns, per item,
a :class:`BackendResponse`: the full response text, the chosen letter and a probability per option.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.types import BackendItem, BackendResponse


@runtime_checkable
class Backend(Protocol):
    """What every backend provides."""

    name: str

    def answer(self, items: Sequence[BackendItem]) -> list[BackendResponse]:
        """Answer a batch; never raises for one bad item (it gets ``error`` set instead)."""
        ...


# name -> "module:factory"; factories take keyword options and return a Backend.
_REGISTRY: dict[str, str] = {
    "geometric": "camreasoner.backends.geometric:GeometricBackend",
    "hf": "camreasoner.backends.hf:HFBackend",
    "vllm": "camreasoner.backends.vllm_backend:VLLMBackend",
    "openai": "camreasoner.backends.openai_backend:OpenAIBackend",
    "always-no": "camreasoner.backends.baselines:always_no",
    "always-yes": "camreasoner.backends.baselines:always_yes",
    "prior": "camreasoner.backends.baselines:PriorBackend",
}


def register(name: str, target: str) -> None:
    """Register a backend factory as ``"module:attribute"`` under ``name``."""
    _REGISTRY[name] = target


def backend_names() -> list[str]:
    """The names ``get_backend`` knows."""
    return sorted(_REGISTRY)


def get_backend(name: str, **options: Any) -> Backend:
    """Build the backend called ``name`` with ``options``; an unknown name is a clear error."""
    if name not in _REGISTRY:
        raise CamReasonerError(f"unknown backend {name!r}; choose one of {', '.join(backend_names())}")
    module_name, attr = _REGISTRY[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise CamReasonerError(
            f"backend {name!r} needs a package that is not installed: {exc.name}"
        ) from None
    factory: Callable[..., Backend] = getattr(module, attr)
    return factory(**options)
