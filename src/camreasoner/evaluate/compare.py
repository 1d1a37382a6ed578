"""Side-by-side comparison of several runs' metrics.json (a rich table)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES

ROWS: tuple[tuple[str, str], ...] = (
    ("n", "items"),
    ("n_errors", "errors"),
    ("accuracy", "accuracy"),
    ("majority_baseline_accuracy", "majority baseline"),
    ("balanced_accuracy", "balanced accuracy"),
    ("macro_f1", "macro F1"),
    ("mean_ap", "mean AP"),
    ("mean_ap_strict", "mean AP strict"),
    ("n_binary_failed", "failed binary items"),
    ("mean_yes_rate", "constant-score AP"),
    ("mean_roc_auc", "mean ROC-AUC"),
    ("format_error_rate", "format errors"),
    ("vqa_accuracy", "VQA accuracy"),
    ("q_acc", "VQA Q-Acc"),
)
COUNTS = {"n", "n_errors", "n_binary_failed"}


def fmt_pct(x: Any) -> str:
    """A fraction as a percentage with one decimal, '–' for None."""
    return "–" if x is None else f"{100 * float(x):.1f}%"


def load_runs(dirs: Sequence[str | os.PathLike[str]]) -> list[tuple[str, dict[str, Any]]]:
    """(label, metrics) of each run directory; a directory without metrics.json is an error."""
    if not dirs:
        raise CamReasonerError("compare needs at least one run directory")
    runs = []
    for d in dirs:
        path = Path(d) / "metrics.json"
        if not path.is_file():
            raise CamReasonerError(f"{d}: no metrics.json (not an eval output directory?)")
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CamReasonerError(f"{path}: not valid JSON ({exc.msg})") from None
        runs.append((f"{Path(d).name}\n{metrics.get('backend', '?')}", metrics))
    return runs


def _cell(key: str, metrics: dict[str, Any]) -> str:
    value = metrics.get(key)
    if key in COUNTS:
        return "–" if value is None else str(value)
    text = fmt_pct(value)
    ci = metrics.get(f"{key}_ci")
    return f"{text} [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]" if ci else text


def compare_table(runs: Sequence[tuple[str, dict[str, Any]]], primitives: bool = True) -> Table:
    """One row per metric (and per primitive's AP), one column per run."""
    table = Table(title="camreasoner eval compare", show_lines=False)
    table.add_column("metric", style="bold")
    for label, _ in runs:
        table.add_column(label, justify="right")
    for key, name in ROWS:
        if any(m.get(key) is not None for _, m in runs):
            table.add_row(name, *[_cell(key, m) for _, m in runs])
    if primitives:
        names = [p for p in PRIMITIVES if any(p in (m.get("per_primitive") or {}) for _, m in runs)]
        if names:
            table.add_section()
        for p in names:
            table.add_row(
                f"AP {p}",
                *[fmt_pct(((m.get("per_primitive") or {}).get(p) or {}).get("ap")) for _, m in runs],
            )
    return table
