"""A small real video library for the labelling tests: rendered clips, a clip with a cut, broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np


def make_library(root: Path) -> dict[str, Path]:
    """Rendered clips (4 s, 160x120), one concatenation of two with a cut at frame 24, and an empty
    file, a text file and a truncated MP4. Returns named paths; ``root / "lib"`` holds the videos."""
    import av

    from camreasoner.synth.dataset import generate_dataset
    from camreasoner.synth.writer import write_mp4

    synth = root / "synth"
    generate_dataset(synth, 3, 11, size=(160, 120), fps=12.0, seconds=2.0, progress=False,
                     recipes=["single"], effects=False)
    lib = root / "lib"
    (lib / "sub").mkdir(parents=True)
    clips = sorted((synth / "clips").glob("*.mp4"))
    shutil.copy(clips[0], lib / "a.mp4")
    shutil.copy(clips[1], lib / "sub" / "b.mp4")

    def frames(path: Path) -> list[np.ndarray]:
        with av.open(str(path)) as c:
            return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

    cut = frames(clips[1]) + frames(clips[2])[::-1]
    write_mp4(lib / "cut.mp4", [255 - f if i >= 24 else f for i, f in enumerate(cut)], 12.0)
    broken = root / "broken"
    broken.mkdir()
    (broken / "empty.mp4").write_bytes(b"")
    (broken / "text.mp4").write_text("not a video\n")
    data = (lib / "cut.mp4").read_bytes()
    (broken / "truncated.mp4").write_bytes(data[: len(data) // 3])
    return {"lib": lib, "broken": broken, "a": lib / "a.mp4", "b": lib / "sub" / "b.mp4", "cut": lib / "cut.mp4"}
