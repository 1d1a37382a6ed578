"""Whether a source of semi-real clips looks like a fixed camera's footage: the observer's reading
of it, shot by shot.

``synth --from-video`` labels a crop window's motion as a clip's only camera motion, so a source
whose own camera moves, or that cuts from one view to another, gives clips with wrong labels. The
observer reads each source once, whole; a source with more than one shot, or with a shot it reads a
camera motion in, gets a warning saying what it saw. It is a warning, not a refusal: the observer
can miss a fixed camera where moving subjects fill the view, and only the user knows the camera.
"""

from __future__ import annotations

import os


def source_warning(path: str | os.PathLike[str]) -> str | None:
    """One line naming what in ``path`` does not look like a fixed camera, or None if nothing does."""
    from camreasoner.observer.reading import analyze_shots

    reading = analyze_shots(path)
    seen = []
    if len(reading.shots) > 1:
        cuts = ", ".join(f"{s.shot.start:.1f}" for s in reading.shots[1:])
        seen.append(f"{len(reading.shots)} shots (cuts at {cuts} s)")
    for item in reading.shots:
        moved = [p for p, said in item.reading.primitives.items() if said and p != "Static"]
        if moved:
            seen.append(f"{', '.join(moved)} at {item.shot.start:.1f}-{item.shot.end:.1f} s")
    if not seen:
        return None
    return (f"{path}: the observer does not read a fixed camera here ({'; '.join(seen)}); "
            "--from-video labels assume the source's camera never moves")
