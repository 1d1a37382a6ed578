"""The settings of one evaluation run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class EvalConfig:
    """Everything one evaluation run needs."""

    bench: str
    out: str
    backend: str
    video_root: str | None = None
    backend_options: dict[str, Any] = field(default_factory=dict)
    resume: bool = False
    limit: int | None = None
    workers: int = 1
    n_boot: int = 1000
    seed: int = 0
    report: bool = True
    max_error_rate: float = 0.5
