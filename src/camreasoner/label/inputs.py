"""INPUT arguments -> an ordered list of video paths: files, folders (recursive, by extension), glob
patterns, and list files (``.txt`` one path a line; ``.csv`` / ``.parquet`` with a ``path`` column,
as Open-Sora and video2dataset write them). Relative paths in a list file are relative to it."""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterable
from pathlib import Path

from camreasoner.core.errors import CamReasonerError

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts")
LIST_EXTENSIONS = (".txt", ".csv", ".parquet")


def _list_file(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".txt":
        items = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        items = [x for x in items if x and not x.startswith("#")]
    elif suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            if "path" not in (reader.fieldnames or []):
                raise CamReasonerError(f"{path}: no 'path' column (columns: {', '.join(reader.fieldnames or [])})")
            items = [row["path"] for row in reader if row.get("path")]
    else:
        import pyarrow.parquet as pq

        try:
            names = pq.read_schema(path).names
            if "path" not in names:
                raise CamReasonerError(f"{path}: no 'path' column (columns: {', '.join(names)})")
            table = pq.read_table(path, columns=["path"])
        except CamReasonerError:
            raise
        except Exception as exc:  # pyarrow raises several types for a damaged file
            raise CamReasonerError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None
        items = [x for x in table.column("path").to_pylist() if x]
    base = path.parent
    return [x if os.path.isabs(x) else str(base / x) for x in items]


def _folder(path: Path, extensions: tuple[str, ...]) -> list[str]:
    return sorted(str(p) for p in path.rglob("*") if p.is_file() and p.suffix.lower() in extensions)


def expand_inputs(inputs: Iterable[str], extensions: tuple[str, ...] = VIDEO_EXTENSIONS) -> list[str]:
    """The videos named by ``inputs``, in order, each once. A listed video that does not exist stays
    in the list (it becomes an error line); an input that names nothing raises."""
    out: list[str] = []
    seen: set[str] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = _folder(p, extensions)
            if not found:
                raise CamReasonerError(f"{item}: no videos ({', '.join(extensions)}) in the folder")
        elif p.is_file() and p.suffix.lower() in LIST_EXTENSIONS:
            found = _list_file(p)
        elif p.exists() or p.suffix.lower() in extensions and not glob.has_magic(item):
            found = [item]
        elif glob.has_magic(item):
            found = sorted(glob.glob(item, recursive=True))
            if not found:
                raise CamReasonerError(f"{item}: the pattern matches no file")
        else:
            raise CamReasonerError(f"{item}: no such file, folder or pattern")
        for f in found:
            key = os.path.normpath(f)
            if key not in seen:
                seen.add(key)
                out.append(key)
    if not out:
        raise CamReasonerError("no input videos")
    return out


def video_root(videos: list[str]) -> str:
    """The deepest folder holding every video."""
    parents = [os.path.dirname(os.path.abspath(v)) for v in videos]
    return os.path.commonpath(parents)
