"""Benchmark of `camreasoner synth`: clips per second, real-time factor, and size on disk per clip.

Usage: ``nice python bench/bench_synth.py [--clips 60] [--workers 1 2]``. Renders 3-second 320x240
12-fps clips (default settings, effects on) into a temporary directory once per worker count and
prints one line per run: wall-clock clips/s and real-time factor (seconds of video made per
second), CPU seconds per clip (this process and its workers, from getrusage), the rate that CPU
cost allows on W idle cores, the load average (the machine may be shared), and KiB per clip.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from camreasoner.synth import generate_dataset

SECONDS = 3.0


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def run(clips: int, workers: int, seed: int) -> dict[str, float]:
    """Figures of one data set written with ``workers`` processes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set"
        c0, t0 = _cpu(), time.perf_counter()
        res = generate_dataset(
            out, clips, seed, size=(320, 240), fps=12, seconds=SECONDS, workers=workers, progress=False
        )
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        sizes = [p.stat().st_size for p in (out / "clips").glob("*.mp4")]
    return {
        "wall": wall,
        "cpu_per_clip": cpu / res.clips,
        "kib": sum(sizes) / len(sizes) / 1024,
        "n": res.clips,
    }


def main() -> None:
    """Print one line of figures per worker count."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clips", type=int, default=60)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"clips: {SECONDS:g} s, 320x240, 12 fps; target: 20x real time = {20 / SECONDS:.2f} clips/s")
    for w in args.workers:
        load = os.getloadavg()[0]
        r = run(args.clips, w, args.seed)
        rate = r["n"] / r["wall"]
        idle_rate = w / r["cpu_per_clip"]
        print(
            f"workers={w} clips={r['n']:.0f} wall={r['wall']:.2f}s clips/s={rate:.2f} "
            f"real-time x{rate * SECONDS:.1f} | cpu/clip={r['cpu_per_clip']:.3f}s -> on {w} idle core(s) "
            f"{idle_rate:.1f} clips/s = x{idle_rate * SECONDS:.0f} | load avg {load:.1f} | "
            f"size/clip={r['kib']:.0f} KiB"
        )


if __name__ == "__main__":
    main()
