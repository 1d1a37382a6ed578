"""The files under OUT: shots.parquet, shots.jsonl, labels.jsonl, errors.jsonl (label.json is the run's)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from camreasoner.core.io import atomic_path, write_jsonl_atomic
from camreasoner.core.taxonomy import PRIMITIVES


def shot_schema():
    """The Arrow schema of shots.parquet."""
    import pyarrow as pa

    segment = pa.struct([("start", pa.float64()), ("end", pa.float64()), ("motion", pa.list_(pa.string())),
                         ("label", pa.string())])
    return pa.schema([
        ("video", pa.string()), ("path", pa.string()), ("shot", pa.int32()),
        ("start", pa.float64()), ("end", pa.float64()), ("start_frame", pa.int64()), ("end_frame", pa.int64()),
        ("primitives", pa.struct([(p, pa.bool_()) for p in PRIMITIVES])),
        ("scores", pa.struct([(p, pa.float64()) for p in PRIMITIVES])),
        ("segments", pa.list_(segment)), ("timeline", pa.string()), ("cmotion", pa.string()),
        ("magnitude", pa.float64()), ("observation", pa.string()), ("think", pa.string()),
        ("answer", pa.string()), ("measurements", pa.string()), ("warnings", pa.list_(pa.string())),
        ("backend", pa.string()),
    ])


def label_record(row: dict[str, Any]) -> dict[str, Any]:
    """One labels.jsonl line (conventions' labels format; the shot's span and extras ride along)."""
    return {"path": row["path"], "primitives": row["primitives"], "start": row["start"], "end": row["end"],
            "shot": row["shot"], "cmotion": row["cmotion"], "scores": row["scores"], "timeline": row["timeline"]}


def write_outputs(out: Path, rows: list[dict[str, Any]], errors: list[dict[str, str]]) -> None:
    """Write the four row files atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=shot_schema())
    with atomic_path(out / "shots.parquet", suffix=".parquet") as tmp:
        pq.write_table(table, tmp)
    write_jsonl_atomic(out / "shots.jsonl", rows)
    write_jsonl_atomic(out / "labels.jsonl", (label_record(r) for r in rows))
    write_jsonl_atomic(out / "errors.jsonl", errors)


def read_rows(out: Path) -> list[dict[str, Any]]:
    """The rows of OUT/shots.jsonl."""
    path = out / "shots.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
