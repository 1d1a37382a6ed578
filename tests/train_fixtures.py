"""A small suite in the contract's parquet layout, written from real clips, for the training tests.

The clips are real videos whose camera motion is known: ``vtest.avi`` (opencv-doc) is filmed by a
fixed camera, so Static is Yes and every motion primitive is No.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from camreasoner.core.ota import format_ota
from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS

STATIC_OBS = "Nothing slides, grows, shrinks or turns from one frame to the next; only people walk."
STATIC_THINK = "No image motion at all means the camera stays still."


def _row(i: int, primitive: str, video: str) -> dict[str, Any]:
    yes = primitive == "Static"
    letter = "B" if yes else "A"
    think = STATIC_THINK + (" So it is static." if yes else f" So it does not {primitive.replace('_', ' ')}.")
    measured = {p: p == "Static" for p in QUESTIONS}
    return {
        "id": f"{primitive}_{i}",
        "clip": Path(video).stem,
        "video": video,
        "problem": QUESTIONS[primitive],
        "options": list(BINARY_OPTIONS),
        "answer": letter,
        "response": format_ota(STATIC_OBS, think, letter),
        "source": "grounded",
        "kind": "binary",
        "difficulty": 0.5,
        "measured": json.dumps(measured),
    }


def write_suite(out: Path, clip: Path, primitives: list[str]) -> Path:
    """Write ``out/suite.json`` and ``out/hf/{sft,rl}/{train,validation}.parquet`` about ``clip``."""
    import pandas as pd

    (out / "clips").mkdir(parents=True, exist_ok=True)
    link = out / "clips" / clip.name
    if not link.exists():
        link.symlink_to(clip)
    rows = [_row(i, p, f"clips/{clip.name}") for i, p in enumerate(primitives)]
    sft = pd.DataFrame(rows)
    rl = sft.drop(columns=["response", "source"])
    for name, df in (("sft", sft), ("rl", rl)):
        (out / "hf" / name).mkdir(parents=True, exist_ok=True)
        df.to_parquet(out / "hf" / name / "train.parquet")
        df.to_parquet(out / "hf" / name / "validation.parquet")
    (out / "suite.json").write_text(json.dumps({"video_root": ".", "counts": {"sft": len(rows)}, "seed": 0}))
    return out
