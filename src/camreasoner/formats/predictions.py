"""predictions.jsonl: one JSON object per answered item, appended and flushed as it comes.

A run killed part-way leaves complete lines and at most one torn last line; reading drops (and
repairs away) the torn line, so ``--resume`` redoes exactly the items without a complete record.
Each record's ``key`` (``"<index>:<id>"``, the item's position in the question file and its id)
identifies the item.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from camreasoner.core.errors import CamReasonerError

PREDICTIONS = "predictions.jsonl"


def item_key(index: int, qid: str) -> str:
    """The key of the item at ``index`` with id ``qid``."""
    return f"{index}:{qid}"


def read_predictions(path: str | os.PathLike[str], repair: bool = False) -> list[dict[str, Any]]:
    """The complete records of a predictions file (a torn last line is dropped).

    With ``repair``, the file is truncated to its complete lines so appending can go on. A
    malformed line other than the last names its line number.
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    records: list[dict[str, Any]] = []
    good_end = 0
    pos = 0
    lines = data.split(b"\n")
    for i, raw in enumerate(lines):
        is_last = i == len(lines) - 1
        end = pos + len(raw) + (0 if is_last else 1)
        if raw.strip():
            try:
                rec = json.loads(raw)
                if not isinstance(rec, dict) or "key" not in rec:
                    raise ValueError("no 'key'")
            except (ValueError, UnicodeDecodeError) as exc:
                if is_last or all(not rest.strip() for rest in lines[i + 1 :]):
                    break  # torn last record from an interrupted run
                raise CamReasonerError(f"{path}: line {i + 1} is not a prediction record ({exc})") from None
            if is_last:
                break  # a complete JSON object without its newline: treat as torn and redo it
            records.append(rec)
        good_end = end
        pos = end
    if repair and good_end < len(data):
        with path.open("r+b") as fh:
            fh.truncate(good_end)
    return records


class PredictionWriter:
    """Appends records to a predictions file, flushing each one to the operating system."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = self.path.open("a", encoding="utf-8")

    def write(self, records: Iterable[dict[str, Any]]) -> None:
        """Append records, one line each, flushing each to the operating system (safe against kills)."""
        for rec in records:
            self._fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            self._fh.flush()

    def close(self) -> None:
        """Sync to disk and close the file."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
