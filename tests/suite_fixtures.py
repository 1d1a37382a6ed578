"""Helpers shared by the suite tests: a small real synthetic data set and a quick build."""

from __future__ import annotations

from pathlib import Path

from camreasoner.suite.build import BuildOptions


def make_synth(root: Path, clips: int = 6, seed: int = 3) -> Path:
    """A real synthetic data set (camreasoner.synth) with ``clips`` clips; returns its directory."""
    from camreasoner.synth.dataset import generate_dataset

    out = root / "synth"
    generate_dataset(out, clips, seed, progress=False)
    return out


def options(synth: Path, out: Path, **kw) -> BuildOptions:
    """Build options for a small, fast suite."""
    base = dict(
        labels=synth / "labels.jsonl",
        video_root=synth,
        out=out,
        sft=40,
        rl=60,
        seed=7,
        workers=1,
        vqa_rounds=3,
        split=(0.34, 0.33, 0.33),
        progress=False,
    )
    base.update(kw)
    return BuildOptions(**base)
