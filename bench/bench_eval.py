"""Throughput of `camreasoner eval` with the geometric backend, and the evaluator's own overhead.

Synthesises a data set once (cached, untimed), then times a full evaluation in a fresh process:
imports, planning, answering (geometric backend on ``--workers`` processes), writing predictions,
metrics with 1000 bootstrap resamples, scores.json and the report with its plots.

The evaluator's overhead is everything but the backend: imports of the evaluator, planning,
record building and writing, worker-side packing, metrics, scores and report. It is measured
directly (not as a remainder) and printed as a fraction of the whole run's wall time.

    nice .venv/bin/python bench/bench_eval.py --clips 96 --seconds 6 --repeat 5 --workers 2 --also-one-worker
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(bench: str, root: str, out: str, workers: int) -> None:
    """The timed run (in a fresh interpreter): prints one JSON line of timings."""
    t0 = time.perf_counter()
    from camreasoner.evaluate.runner import EvalConfig, run_eval  # noqa: I001  (timed import)

    t_import = time.perf_counter() - t0
    res = run_eval(EvalConfig(bench=bench, out=out, backend="geometric", video_root=root, workers=workers))
    wall = time.perf_counter() - t0
    t = res.timings
    print(json.dumps({
        "items": res.n_items, "wall_s": wall, "import_s": t_import, "setup_s": t.setup_s,
        "backend_init_s": t.backend_init_s, "answer_s": t.answer_s, "worker_other_s": t.worker_other_s,
        "record_s": t.record_s, "finalize_s": t.finalize_s, "workers": workers,
        "evaluator_s": t_import + t.evaluator_s, "mean_ap": res.metrics.get("mean_ap"),
        "accuracy": res.metrics.get("accuracy"),
    }))


def timed_run(bench: Path, root: Path, workers: int) -> dict:
    """One evaluation in a fresh process; its timings."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, __file__, "--child", str(bench), str(root), str(Path(tmp) / "run"), str(workers)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def repeated_bench(data: Path, repeat: int) -> Path:
    """A question file naming each clip ``repeat`` times (symlinks ``clips/r<k>_<name>``)."""
    from camreasoner.formats.questions import read_questions, write_questions

    questions = []
    for k in range(repeat):
        for q in read_questions(data / "binary.json"):
            rel = f"clips/r{k}_{Path(q.path).name}"
            link = data / rel
            if not link.exists():
                link.symlink_to(Path(q.path).name)
            q.path, q.id = rel, f"r{k}_{q.id}"
            q.problem_id = q.id
            questions.append(q)
    out = data / f"binary_x{repeat}.json"
    write_questions(out, questions)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clips", type=int, default=96)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--size", default="640x360")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5, help="list each clip under this many names (more videos, same labels)")
    ap.add_argument("--also-one-worker", action="store_true", help="also time 1 worker for the speed-up")
    ap.add_argument("--data", default=None, help="data set directory (default: a cached one in /tmp)")
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        bench, root, out, workers = args.child
        child(bench, root, out, int(workers))
        return

    from camreasoner.core.errors import CamReasonerError
    from camreasoner.synth.dataset import generate_dataset

    w, h = (int(v) for v in args.size.split("x"))
    data = Path(args.data or f"/tmp/camreasoner-bench-eval-{args.clips}-{args.seconds:g}-{args.size}")
    t0 = time.perf_counter()
    settings = {"clips": args.clips, "seed": 0, "size": (w, h), "seconds": args.seconds, "workers": 1, "progress": False}
    try:
        generate_dataset(data, **settings)
    except CamReasonerError:  # our cache was made by an older synth: make it again
        if args.data:
            raise
        shutil.rmtree(data)
        generate_dataset(data, **settings)
    print(f"data set: {data} ({args.clips} clips, {args.seconds:g} s, {args.size}; ready in {time.perf_counter() - t0:.1f} s)")

    bench = data / "binary.json"
    if args.repeat > 1:
        bench = repeated_bench(data, args.repeat)
        print(f"bench: {bench} (each clip under {args.repeat} names: {args.repeat * args.clips} videos, "
              "each decoded and analysed on its own)")
    runs = [args.workers] + ([1] if args.also_one_worker and args.workers != 1 else [])
    results = {wk: timed_run(bench, data, wk) for wk in runs}
    for wk, r in results.items():
        ideal = r["answer_s"] / wk
        idle = r["wall_s"] - r["evaluator_s"] - r["backend_init_s"] - ideal
        videos = args.clips * max(args.repeat, 1)
        print(f"\n== geometric backend, {wk} worker(s): {r['items']} items, {videos} videos ==")
        print(f"wall                      {r['wall_s']:8.2f} s   ({r['items'] / r['wall_s']:.1f} items/s, "
              f"{videos / r['wall_s']:.2f} videos/s)")
        print(f"backend answer (sum)      {r['answer_s']:8.2f} s   (/{wk} workers = {ideal:.2f} s)")
        print(f"backend start-up          {r['backend_init_s']:8.2f} s")
        print(f"evaluator imports         {r['import_s']:8.2f} s")
        print(f"evaluator setup           {r['setup_s']:8.2f} s")
        print(f"records + writing         {r['record_s']:8.2f} s")
        print(f"worker-side packing       {r['worker_other_s'] / wk:8.2f} s")
        print(f"metrics+scores+report     {r['finalize_s']:8.2f} s")
        print(f"load imbalance / IPC      {idle:8.2f} s")
        print(f"evaluator overhead        {r['evaluator_s']:8.2f} s = {100 * r['evaluator_s'] / r['wall_s']:.1f}% of the run"
              f"  (target < 5%)")
        print(f"result: accuracy {100 * r['accuracy']:.1f}%, mean AP {100 * r['mean_ap']:.1f}%")
    if len(results) == 2:
        one, many = results[1], results[args.workers]
        print(f"\nspeed-up of {args.workers} workers over 1: {one['wall_s'] / many['wall_s']:.2f}x (same machine, same run)")


if __name__ == "__main__":
    main()
