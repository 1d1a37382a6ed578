"""The labels file: JSON Lines, one clip a line, ``{"path": ..., "primitives": {all 15}, ...}``.

A primitive is ``true``, ``false`` or ``null`` (unknown). Extra keys (intrinsics, poses, …) ride
along untouched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import json_lines, write_jsonl_atomic
from camreasoner.core.taxonomy import PRIMITIVES


@dataclass
class ClipLabel:
    """One clip's labels: a path relative to the video root and a value for each primitive."""

    path: str
    primitives: dict[str, bool | None]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """The JSON object of this clip (one line of the labels file)."""
        rec: dict[str, Any] = {
            "path": self.path,
            "primitives": {p: self.primitives.get(p) for p in PRIMITIVES},
        }
        rec.update(self.extra)
        return rec


def label_from_record(rec: Any, where: str) -> ClipLabel:
    """Parse one labels line; a malformed one raises naming ``where`` and the field."""
    if not isinstance(rec, dict):
        raise CamReasonerError(f"{where}: expected a JSON object")
    if not isinstance(rec.get("path"), str) or not rec["path"]:
        raise CamReasonerError(f"{where}: field 'path' must be a non-empty string")
    prims = rec.get("primitives")
    if not isinstance(prims, dict):
        raise CamReasonerError(f"{where}: field 'primitives' must be an object")
    unknown = sorted(set(prims) - set(PRIMITIVES))
    if unknown:
        raise CamReasonerError(f"{where}: field 'primitives' has unknown primitive {unknown[0]!r}")
    values: dict[str, bool | None] = {}
    for name in PRIMITIVES:
        value = prims.get(name)
        if value is not None and not isinstance(value, bool):
            raise CamReasonerError(f"{where}: primitive {name!r} must be true, false or null")
        values[name] = value
    extra = {k: v for k, v in rec.items() if k not in ("path", "primitives")}
    return ClipLabel(path=rec["path"], primitives=values, extra=extra)


def iter_labels(path: str | os.PathLike[str]) -> Iterator[ClipLabel]:
    """Stream the clips of a labels file."""
    path = Path(path)
    if not path.is_file():
        raise CamReasonerError(f"{path}: no such file")
    with path.open(encoding="utf-8") as fh:
        for i, rec in json_lines(fh, path):
            yield label_from_record(rec, f"{path}: line {i + 1}")


def read_labels(path: str | os.PathLike[str]) -> list[ClipLabel]:
    """Read a whole labels file; an empty one is an error."""
    labels = list(iter_labels(path))
    if not labels:
        raise CamReasonerError(f"{path}: no clips in labels file")
    return labels


def write_labels(path: str | os.PathLike[str], labels: Iterable[ClipLabel]) -> None:
    """Write a labels file atomically (temporary file, then rename)."""
    write_jsonl_atomic(path, (label.to_record() for label in labels))
