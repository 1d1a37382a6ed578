"""Observer readings of clips, measured once per clip and cached as JSON files.

The cache key is the clip's resolved path, size and modification time, the observer options and the
observer's identity: the package version, the calibration schema version
(``observer.scoring.CALIBRATION_VERSION``), a digest of the calibration file's content (the packaged
one, or ``options["calibration"]``, a path) and a digest of the observer's code. A changed file,
option, calibration or observer is measured again; the same calibration under another path is
reused; a killed build loses at most the clips in flight.
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

CALIBRATION_OPTION = "calibration"


def calibration_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The calibration file the observer reads: ``path``, or the packaged one."""
    import camreasoner
    from camreasoner.observer.scoring import CALIBRATION_FILE

    return Path(path) if path is not None else Path(camreasoner.__file__).parent / "data" / CALIBRATION_FILE


@functools.cache
def _code_digest() -> str:
    """A digest of the observer's code (``observer/**/*.py``) and its packaged ranking forests."""
    import camreasoner
    from camreasoner.observer.ranking import ranking_path

    root = Path(camreasoner.__file__).parent
    digest = hashlib.sha1()
    for path in [*sorted((root / "observer").rglob("*.py")), ranking_path()]:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def calibration_digest(calibration: str | os.PathLike[str] | None = None) -> str:
    """A digest of a calibration file's content (the packaged one by default), after checking its
    schema (``load_calibration``): a bad file is one ``CamReasonerError`` line."""
    from camreasoner.observer.scoring import load_calibration

    path = calibration_path(calibration)
    load_calibration(str(path))
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()[:16]
    except OSError as exc:
        raise CamReasonerError(f"{path}: cannot read observer calibration: {exc.strerror or exc}") from None


def observer_identity(calibration: str | os.PathLike[str] | None = None) -> str:
    """What makes two observer readings comparable: ``version|calibration version|calibration
    content digest|code digest``."""
    import camreasoner
    from camreasoner.observer.scoring import CALIBRATION_VERSION

    return f"{camreasoner.__version__}|cal-v{CALIBRATION_VERSION}|{calibration_digest(calibration)}|{_code_digest()}"


def cache_key(video: str | os.PathLike[str], options: dict[str, Any]) -> str:
    """A stable key for (file identity, observer options, observer identity); a ``calibration``
    option enters by its content, not its path."""
    path = Path(video).resolve()
    try:
        st = path.stat()
        ident = f"{path}|{st.st_size}|{st.st_mtime_ns}"
    except OSError:
        ident = f"{path}|missing"
    rest = {k: v for k, v in options.items() if k != CALIBRATION_OPTION}
    blob = json.dumps([ident, rest, observer_identity(options.get(CALIBRATION_OPTION))], sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:20]


def measure(
    video: str | os.PathLike[str],
    cache_dir: str | os.PathLike[str] | None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The observer's reading of ``video`` as a JSON dict (``Reading.to_json()``), cached.

    ``options`` are ``ObserverOptions`` fields and optionally ``calibration`` (a calibration file).
    The reading is ``analyze_video``'s; with a calibration whose content differs from the packaged
    one, it is the clip's main shot measured (``measure_video``) and scored with that calibration
    (``reading_from_cues``), without ``analyze_video``'s per-shot summary. An unreadable video gives
    ``{"video": ..., "error": "<one line>"}`` (also cached).
    """
    from camreasoner.observer.reading import ObserverOptions, analyze_video, measure_video, reading_from_cues
    from camreasoner.observer.scoring import load_calibration

    options = options or {}
    target = None
    if cache_dir is not None:
        target = Path(cache_dir) / f"{cache_key(video, options)}.json"
        if target.is_file():
            try:
                return json.loads(target.read_text(encoding="utf-8"))
            except (json.JSONDecodeError, OSError):
                pass  # a damaged entry is measured again
    custom = options.get(CALIBRATION_OPTION)
    if custom is not None and calibration_digest(custom) == calibration_digest():
        custom = None  # the packaged calibration under another path
    observer = ObserverOptions(**{k: v for k, v in options.items() if k != CALIBRATION_OPTION})
    try:
        if custom is None:
            reading = analyze_video(video, observer)
        else:
            cues, measurements, warnings, windows = measure_video(video, observer)
            reading = reading_from_cues(str(video), cues, measurements, warnings, load_calibration(str(custom)),
                                        windows)
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
