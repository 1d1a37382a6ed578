"""Contact sheets: a PNG grid of frames of one clip per primitive, to look at what the renderer makes.

``python -m camreasoner.synth.contact OUT_DIR [--seed S]`` writes ``OUT_DIR/synth_<Primitive>.png``
(clean clips: no shake, distractors, blur or noise) plus ``synth_confusable_*.png`` pairs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from camreasoner.core.taxonomy import PRIMITIVES, answer_string
from camreasoner.synth.dataset import SynthOptions, single_plan, synthesize_clip
from camreasoner.synth.trajectories import ClipPlan


def contact_sheet(frames: list[np.ndarray], title: str, n: int = 6, cols: int = 3) -> np.ndarray:
    """``n`` evenly spaced frames in a grid (RGB uint8), each captioned with its frame number."""
    picks = np.linspace(0, len(frames) - 1, n).round().astype(int)
    h, w = frames[0].shape[:2]
    rows = -(-n // cols)
    pad = 4
    bar = 22
    sheet = np.full((bar + rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    cv2.putText(sheet, title, (pad, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    for k, idx in enumerate(picks):
        r, c = divmod(k, cols)
        y, x = bar + pad + r * (h + pad), pad + c * (w + pad)
        tile = frames[idx].copy()
        cv2.putText(
            tile, f"frame {idx}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 0), 1, cv2.LINE_AA
        )
        cv2.drawMarker(tile, (w // 2, h // 2), (255, 0, 0), cv2.MARKER_CROSS, 10, 1)
        sheet[y : y + h, x : x + w] = tile
    return sheet


def save_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB image as PNG."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rgb[:, :, ::-1])


def main() -> None:
    """Write one contact sheet per primitive and one per confusable pair."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    opts = SynthOptions(effects=False)
    for i, p in enumerate(PRIMITIVES):
        clip = synthesize_clip(single_plan(p, index=i), args.seed, opts)
        m = clip.trajectory.motions
        what = f"{m[0].magnitude:.3g} {m[0].to_json()['units']}" if m else "no motion"
        save_png(args.out / f"synth_{p}.png", contact_sheet(clip.frames, f"{p} ({what}), seed {args.seed}"))
    for k, (fam, sign) in enumerate((("pan", -1), ("tilt", 1), ("zoom", 1))):
        pair = [ClipPlan(100 + 2 * k + j, "confusable", (fam,), pair=100 + 2 * k, role=r, sign=sign)
                for j, r in enumerate("ab")]  # fmt: skip
        clips = [synthesize_clip(pl, args.seed, opts) for pl in pair]
        names = [c.trajectory.motions[0].primitive for c in clips]
        sheets = [
            contact_sheet(c.frames, f"{nm} (matched at near depth)", n=3)
            for c, nm in zip(clips, names, strict=True)
        ]
        save_png(args.out / f"synth_confusable_{names[0]}_vs_{names[1]}.png", np.concatenate(sheets, axis=0))
    effects_sheets(args.out, args.seed)


def effects_sheets(out: Path, seed: int) -> None:
    """Sheets of the hard negatives and effects: static camera with moving subjects, shake only."""
    opts = SynthOptions(distractors=1.0)
    for name, plan in (
        ("static_subjects", ClipPlan(200, "static_subjects")),
        ("shake", ClipPlan(201, "shake")),
    ):
        clip = synthesize_clip(plan, seed, opts)
        fx = clip.effects.to_json()
        title = f"{name}: labels {answer_string(clip.labels)}; blur {fx['blur']}, noise {fx['noise_sigma']}"
        save_png(out / f"synth_{name}.png", contact_sheet(clip.frames, title))


if __name__ == "__main__":
    main()
