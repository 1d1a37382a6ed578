"""Observer readings of clips, measured once per clip and cached as JSON files.

The cache key is the clip's resolved path, size and modification time, the observer options and the
observer's identity (the content of its calibration file and the package version), so a changed
file, option, calibration or observer is measured again, and a killed build loses at most the clips
in flight.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.faults import crash_point
from camreasoner.core.io import write_json_atomic


@functools.cache
def observer_identity() -> str:
    """What makes two observer readings comparable: the package version and a digest of the observer's
    code (``observer/``) and calibration files (``data/observer_*``)."""
    import camreasoner

    root = Path(camreasoner.__file__).parent
    files = sorted((root / "observer").rglob("*.py")) + sorted((root / "data").glob("observer_*"))
    digest = hashlib.sha1()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{camreasoner.__version__}|{digest.hexdigest()[:16]}"


def cache_key(video: str | os.PathLike[str], options: dict[str, Any]) -> str:
    """A stable key for (file identity, observer options, observer identity)."""
    path = Path(video).resolve()
    try:
        st = path.stat()
        ident = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        ident = f"{path}|missing"
    blob = json.dumps([ident, options, observer_identity()], sort_keys=True)
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
        crash_point("suite-measured")
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
