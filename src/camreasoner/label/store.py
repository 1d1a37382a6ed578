"""The run's state under OUT/work: its identity (run.json) and one Parquet part per finished video.

A part is written whole or not at all (atomic rename); Ray's parts are Parquet files written by its
tasks, and a part that does not read back (a task killed mid-write) is dropped, so its video is done
again. Results are keyed by video path: a video in two parts counts once.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from camreasoner.core.io import atomic_path

PART_SCHEMA_FIELDS = ("video", "result")


def part_name(video: str) -> str:
    """The file name of ``video``'s in-process part."""
    return hashlib.sha1(video.encode()).hexdigest()[:20] + ".parquet"


def write_part(parts: Path, result: dict[str, Any]) -> None:
    """Store one video's result (its rows or its error) atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"video": [result["video"]], "result": [json.dumps(result)]})
    with atomic_path(parts / part_name(result["video"]), suffix=".parquet") as tmp:
        pq.write_table(table, tmp)


def read_parts(parts: Path) -> dict[str, dict[str, Any]]:
    """Every stored result by video; unreadable parts are removed."""
    import pyarrow.parquet as pq

    done: dict[str, dict[str, Any]] = {}
    if not parts.is_dir():
        return done
    for f in sorted(parts.glob("*.parquet")):
        try:
            table = pq.read_table(f, columns=list(PART_SCHEMA_FIELDS))
        except Exception:  # noqa: BLE001 - a part cut short by a kill: its videos are done again
            f.unlink(missing_ok=True)
            continue
        for video, text in zip(table.column("video").to_pylist(), table.column("result").to_pylist(), strict=True):
            done.setdefault(video, json.loads(text))
    return done
