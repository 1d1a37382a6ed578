"""Atomic file output: everything camreasoner writes appears whole or not at all; and the readers
of JSON files whose errors are one line naming the file.

One primitive, :func:`atomic_path`, hands out a temporary path beside the target and renames it
into place when the block ends without an exception (removing it otherwise); the writers below are
thin uses of it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it replaces ``path`` (a rename).

    The temporary file gets normal permissions (``0666 & ~umask``, not mkstemp's 0600). ``suffix``
    lets writers that pick a format by extension (video encoders, parquet) see the right one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        if tmp.exists():
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike[str], obj: Any, indent: int | None = 1) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (one trailing newline)."""
    # json.dumps (not json.dump) uses the C encoder: much faster on large files.
    write_text_atomic(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def write_jsonl_atomic(path: str | os.PathLike[str], records: Iterable[Any]) -> None:
    """Write one JSON object a line to ``path`` atomically."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def json_lines(lines: Iterable[str], source: str | os.PathLike[str]) -> Iterator[tuple[int, Any]]:
    """``(line index, value)`` for each non-empty JSON Lines line; a bad line is one error naming
    ``source`` and the line number."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            yield i, json.loads(line)
        except json.JSONDecodeError as exc:
            raise CamReasonerError(f"{source}: line {i + 1} is not valid JSON ({exc.msg})") from None


def read_versioned_json(path: str | os.PathLike[str], what: str, version: int) -> dict[str, Any]:
    """The JSON object in ``path``, of ``version``: an unreadable file, a file that is not JSON, a top
    level that is not an object or another ``version`` is one ``CamReasonerError`` line naming the
    file and ``what`` it should hold."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CamReasonerError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CamReasonerError(f"{path}: bad {what}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CamReasonerError(f"{path}: bad {what}: top level is not an object")
    if data.get("version") != version:
        raise CamReasonerError(f"{path}: bad {what}: version {data.get('version')!r}, expected {version}")
    return data
