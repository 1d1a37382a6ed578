"""``camreasoner analyze VIDEO --plot FILE.png``: pan, tilt, roll, zoom and translation rates over
time, with the shots (dashed lines) and the timeline segments (shaded, labelled) marked."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import atomic_path
from camreasoner.label.options import LabelOptions
from camreasoner.label.timeline import FAMILY_NAMES

PANELS = (("pan", "pan deg/s"), ("tilt", "tilt deg/s"), ("roll", "roll deg/s"), ("zoom", "zoom %/s"),
          ("translation", "translation %/s"))
SEGMENT_COLOURS = ("#e3f2fd", "#fff3e0", "#e8f5e9", "#f3e5f5", "#fce4ec")


def plot_video(video: str | os.PathLike[str], target: str | os.PathLike[str], opts: LabelOptions | None = None) -> Path:
    """Label ``video`` and draw its motion curves into ``target`` (PNG); return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from camreasoner.label.series import measure_series
    from camreasoner.label.video import label_video

    opts = opts or LabelOptions(progress=False)
    result = label_video(str(video), Path(video).name, opts)
    if result["error"]:
        raise CamReasonerError(result["error"])
    series = measure_series(str(video), None, None, opts.fps, opts.max_side)
    t = (series.t0 + series.t1) / 2.0
    col = {f: series.rates[:, i] for i, f in enumerate(FAMILY_NAMES)}
    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 9), sharex=True)
    segments = [s for r in result["rows"] for s in r["segments"]]
    for ax, (name, ylabel) in zip(axes, PANELS, strict=True):
        for k, seg in enumerate(segments):
            ax.axvspan(seg["start"], seg["end"], color=SEGMENT_COLOURS[k % len(SEGMENT_COLOURS)], lw=0)
        if name == "translation":
            for fam, style in (("truck", "-"), ("pedestal", "--"), ("dolly", ":")):
                ax.plot(t, col[fam], style, label=fam)
            ax.legend(loc="upper right", fontsize=8)
        else:
            ax.plot(t, col[name], "-", color="#1565c0")
        invalid = ~series.valid
        if invalid.any():
            ax.plot(t[invalid], np.zeros(int(invalid.sum())), "x", color="#c62828", ms=4)
        unread = series.valid & ~series.readable(opts.timeline)
        if unread.any():
            ax.plot(t[unread], np.zeros(int(unread.sum())), "o", mfc="none", color="#ef6c00", ms=4)
        for r in result["rows"][1:]:
            ax.axvline(r["start"], color="k", ls="--", lw=1)
        ax.axhline(0.0, color="#888", lw=0.5)
        ax.set_ylabel(ylabel)
    for seg in segments:
        axes[0].text((seg["start"] + seg["end"]) / 2, axes[0].get_ylim()[1], seg["label"], ha="center",
                     va="bottom", fontsize=8)
    axes[-1].set_xlabel("time (s); dashed: shot cuts; shading: timeline segments; x: untracked pairs; "
                       "o: pairs a subject may move (not read by the timeline)")
    fig.suptitle(Path(video).name, y=0.995)
    fig.tight_layout()
    target = Path(target)
    with atomic_path(target, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return target
