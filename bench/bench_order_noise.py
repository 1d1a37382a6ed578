"""How much RANSAC's draws move the observer's real-footage figures.

OpenCV's RANSAC draws its samples by the tracks' positions in the array with a fixed seed, so the
order of the tracks is the only randomness in a reading. This benchmark re-reads the observer's sets
of bench_real_footage.py (same seeds, same ``--work``) with the tracks of every frame pair put in
``--orders`` random orders (order 0: as tracked, the shipped reading), and prints, per set, each
order's clips exactly right, false Yes per clip and mean AP, then their range. A change whose gain
on a set lies inside that range is not told apart from the draws by that set.

    nice python bench/bench_order_noise.py --orders 6 --work /tmp/realfoot
    nice python bench/bench_order_noise.py --only rendered --clips 160 --rendered-seed 8108 --work /tmp/fresh
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

# The observer tracks each pair through scene_tracks, which calls track_points from its own module.
import camreasoner.observer.geometry.overlays as track_module

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_real_footage import (  # noqa: E402
    chosen_sets,
    chosen_shot_batches,
    make_set,
    observe,
    read_observer,
    score_set,
    synthetic_clips,
)

TRACKED = track_module.track_points


def track_in_order(seed: int):
    """``track_points`` whose matched tracks come back in a random order drawn from ``seed``
    (0: as tracked)."""
    rng = np.random.default_rng(seed)

    def tracked(*args, **kwargs):
        p0, p1 = TRACKED(*args, **kwargs)
        if seed and len(p0):
            order = rng.permutation(len(p0))
            p0, p1 = p0[order], p1[order]
        return p0, p1

    return tracked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=6, help="track orders per set (order 0: as tracked)")
    ap.add_argument("--clips", type=int, default=40, help="clips per generated set")
    ap.add_argument("--work", type=Path, default=None, help="bench_real_footage.py's sets (made here if absent)")
    ap.add_argument("--only", default="", help="comma-separated set names (vtest, tree-hand, rendered, real, heldout)")
    ap.add_argument("--rendered-seed", type=int, default=3103, help="the rendered set's seed (e.g. 8108, a fresh one)")
    ap.add_argument("--semireal-seed", type=int, default=None, help="the semi-real report sets' seed (default: theirs)")
    args = ap.parse_args()
    only = {s for s in args.only.split(",") if s}
    work = args.work or Path(tempfile.mkdtemp(prefix="realfoot_"))
    t0 = time.perf_counter()
    plan = []
    for name, source, role, seed in chosen_sets(only, args.rendered_seed, args.semireal_seed):
        plan.append((f"{name} {role} {seed}", synthetic_clips(make_set(work, source, seed, args.clips))))
    plan += [(f"{label} ({role})", clips) for label, role, _, clips in chosen_shot_batches(only)]
    figures: dict[str, list[dict]] = {label: [] for label, _ in plan}
    for order in range(args.orders):
        for label, clips in plan:  # each set's orders drawn afresh: the same whatever else runs
            track_module.track_points = track_in_order(order)
            observe.cache_clear()
            figures[label].append(score_set(clips, read_observer))
    track_module.track_points = TRACKED
    print(f"{'set':<40} {'clips':>5}  {'figure':<12} per order (0: as tracked)  range")
    for label, clips in plan:
        for key, name in (("exact", "exact"), ("false_yes", "falseY/clip"), ("mean_ap", "meanAP")):
            values = [f[key] for f in figures[label]]
            if any(v is None for v in values):
                continue
            listed = " ".join(f"{v:.3f}" for v in values)
            print(f"{label:<40} {len(clips):>5}  {name:<12} {listed}  {min(values):.3f}-{max(values):.3f} "
                  f"(mean {statistics.mean(values):.3f})")
    print(f"{time.perf_counter() - t0:.0f} s; sets in {work}")


if __name__ == "__main__":
    main()
