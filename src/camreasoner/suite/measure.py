"""Observer readings of clips, measured once per clip and cached as JSON files.

The cache key is the clip's resolved path, size and modification time plus the observer options,
so a changed file is measured again and a killed build loses at most the clips in flight.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic


def cache_key(video: str | os.PathLike[str], options: dict[str, Any]) -> str:
    """A stable key for (file identity, observer options)."""
    path = Path(video).resolve()
    try:
        st = path.stat()
        ident = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        ident = f"{path}|missing"
    blob = json.dumps([ident, options], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def measure(
    video: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The observer's reading of ``video`` as a JSON dict (``Reading.to_json()``), cached.

    An unreadable video gives ``{"video": ..., "error": "<one line>"}`` (also cached).
    """
    from camreasoner.observer.reading import ObserverOptions, analyze_video

    options = options or {}
    target = None
    if cache_dir is not None:
        target = Path(cache_dir) / f"{cache_key(video, options)}.json"
        if target.is_file():
            try:
                return json.loads(target.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, OSError):
                pass  # a damaged entry is measured again
    try:
        reading = analyze_video(video, ObserverOptions(**options))
        result = reading.to_json()
        result["warnings"] = list(reading.warnings)
    except CamReasonerError as exc:
        result = {"video": str(video), "error": str(exc)}
    if target is not None:
        write_json_atomic(target, result, indent=None)
    return result


def reading_from_json(data: dict[str, Any]):
    """Rebuild an observer ``Reading`` from :func:`measure`'s dict (to answer questions from it)."""
    from camreasoner.observer.reading import Reading

    return Reading(
        video=data["video"],
        primitives=dict(data["primitives"]),
        scores=dict(data["scores"]),
        measurements=dict(data.get("measurements", {})),
        observation=data.get("observation", ""),
        think=data.get("think", ""),
        answer=data.get("answer", ""),
        warnings=list(data.get("warnings", [])),
    )
