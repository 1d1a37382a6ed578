"""Optical flow on rendered synthetic clips vs their labels, over several scene seeds.

Usage: ``nice python bench/bench_synth_flow.py [--seeds 0 1 2 3]``. For each seed prints the flow
shift of near boxes vs the far backdrop (pan vs truck, tilt vs pedestal), their divergence (zoom vs
dolly) and the measured vs true roll (radians, counter-clockwise on screen for Roll_Clockwise).
"""

from __future__ import annotations

import argparse

import numpy as np

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.synth.dataset import SynthOptions, single_plan, synthesize_clip
from camreasoner.synth.flowcheck import divergence, measure_flow, screen_ccw


def main() -> None:
    """Print one line of flow figures per seed."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    args = ap.parse_args()
    opts = SynthOptions(width=320, height=240, fps=12.0, seconds=3.0, effects=False)
    for seed in args.seeds:
        parts = []

        def measure(p: str, seed: int = seed):
            clip = synthesize_clip(single_plan(p, index=PRIMITIVES.index(p)), seed, opts)
            return clip, measure_flow(clip)

        for p, ax in (("Pan_Left", 0), ("Move_Left", 0), ("Tilt_Up", 1), ("Move_Up", 1)):
            _, m = measure(p)
            rate = m["near_rate"][ax] / m["far_rate"][ax]
            parts.append(
                f"{p} near/far shift {m['near_shift'][ax]:.1f}/{m['far_shift'][ax]:.1f}px rate x{rate:.2f}"
            )
        for p in ("Zoom_In", "Move_In", "Move_Out"):
            _, m = measure(p)
            parts.append(f"{p} div {divergence(m['near']):.2f}/{divergence(m['far']):.2f}")
        clip, m = measure("Roll_Clockwise")
        true = np.radians(clip.trajectory.motions[0].magnitude)
        parts.append(f"Roll_Clockwise ccw {screen_ccw(m['all']):.3f} (true {true:.3f})")
        print(f"seed {seed}: " + "; ".join(parts))


if __name__ == "__main__":
    main()
