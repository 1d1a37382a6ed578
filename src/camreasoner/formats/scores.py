"""scores.json: every binary item of a run in one file of CameraBench's score format (conventions.md).

``{"metadata": {...}, "scores": [{"sample_id", "video_path", "question", "ground_truth_label",
"score", "error"}]}``: one entry per binary item; ``score`` is P(Yes) (null when the item failed,
with ``error`` saying why); ``ground_truth_label`` is "Yes" or "No". The official evaluator scores
one file as one split, so this file would give it one pooled AP over all primitives; the
per-primitive files it averages are ``scores/<Primitive>.json`` (:mod:`camreasoner.formats.official`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from camreasoner.core.io import write_text_atomic
from camreasoner.formats.official import binary_entry


def score_entries(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ``scores`` list for the binary, labelled records."""
    return [binary_entry(rec) for rec in records if rec["kind"] == "binary" and rec.get("answer")]


def write_scores(path: str | os.PathLike[str], records: Sequence[dict[str, Any]], metadata: dict[str, Any]) -> None:
    """Write scores.json atomically."""
    entries = score_entries(records)
    meta = {
        **metadata,
        "score": "P(Yes)",
        "num_samples": len(entries),
        "num_errors": sum(e["error"] is not None for e in entries),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    # json.dumps (not json.dump) uses the C encoder: 10x faster on CameraBench-sized files.
    text = json.dumps({"metadata": meta, "scores": entries}, ensure_ascii=False)
    write_text_atomic(path, text + "\n")
