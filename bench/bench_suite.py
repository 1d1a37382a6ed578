"""Benchmark: a suite of the paper's size (18k SFT chains, 38k RL samples) from synthetic clips.

    nice .venv/bin/python bench/bench_suite.py --clips 400 --workers 2 --dir /tmp/bench_suite

Generates ``--clips`` synthetic clips (camreasoner synth; reused if present), then builds the suite
with grounded chains and augmentations (reverse, mirror, both, two crops): every clip variant is
read by the geometric observer once, and all its questions reuse that reading. Prints the wall
time of each part, the time per 1k items, and a second (resumed) build's time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import time
from pathlib import Path


def wording_probe(out: Path) -> dict[str, float]:
    """Logistic regression on 1-3-grams of problem + lettered options -> answer, on the RL rows:
    fitted on the train split, scored on the others. Returns accuracy and chance (mean 1/options)."""
    import numpy as np
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from camreasoner.suite.build import iter_rows

    rows = list(iter_rows(out, "rl"))
    text = [r["problem"] + " || " + " | ".join(r["options"]) for r in rows]
    y = np.array([r["answer"] for r in rows])
    half = len(rows) // 2
    vec = CountVectorizer(ngram_range=(1, 3), token_pattern=r"(?u)\b\w+\b", lowercase=False, min_df=2)
    model = LogisticRegression(max_iter=2000).fit(vec.fit_transform(text[:half]), y[:half])
    acc = float((model.predict(vec.transform(text[half:])) == y[half:]).mean())
    chance = float(np.mean([1 / len(r["options"]) for r in rows[half:]]))
    se = float(np.sqrt(chance * (1 - chance) / (len(rows) - half)))
    return {"rl_rows": len(rows), "accuracy": round(acc, 4), "chance": round(chance, 4), "se": round(se, 4)}


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=400)
    ap.add_argument("--sft", type=int, default=18000)
    ap.add_argument("--rl", type=int, default=38000)
    ap.add_argument("--vqa-rounds", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/bench_suite"))
    ap.add_argument("--fresh", action="store_true", help="delete an earlier suite (keeps the synthetic clips)")
    ap.add_argument("--probe-only", action="store_true", help="only run the wording probe on an existing suite")
    args = ap.parse_args()
    if args.probe_only:
        print(json.dumps({"wording_probe": wording_probe(args.dir / "suite")}))
        return

    from camreasoner.suite.build import BuildOptions, build_suite
    from camreasoner.synth.dataset import generate_dataset

    synth_dir, out = args.dir / "synth", args.dir / "suite"
    if args.fresh and out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    generate_dataset(synth_dir, args.clips, args.seed, workers=args.workers, progress=False)
    t_synth = time.perf_counter() - t

    opts = BuildOptions(
        labels=synth_dir / "labels.jsonl",
        video_root=synth_dir,
        out=out,
        sft=args.sft,
        rl=args.rl,
        seed=args.seed,
        workers=args.workers,
        augment=("reverse", "mirror", "reverse_mirror", "crop"),
        crops=2,
        vqa_rounds=args.vqa_rounds,
        progress=False,
    )
    t, cpu = time.perf_counter(), cpu_seconds()
    first = build_suite(opts, log=print)
    t_build, cpu_build = time.perf_counter() - t, cpu_seconds() - cpu
    readings = len(list((out / "work" / "measure").glob("*.json")))
    t = time.perf_counter()
    build_suite(opts)
    t_resume = time.perf_counter() - t

    c = first.manifest["counts"]
    items = c["sft"] + c["rl"]
    stats = first.manifest["statistics"]
    figures = {
        "clips": c["clips"],
        "clip_variants": c["variants"],
        "observer_readings": readings,
        "pool": c["pool"],
        "sft": c["sft"],
        "rl": c["rl"],
        "rl_also_in_sft": c["rl_also_in_sft"],
        "grounded_rejections": stats["rejections"]["grounded"],
        "chain_words": stats["chain_words"],
        "synth_s": round(t_synth, 1),
        "build_s": round(t_build, 1),
        "build_s_per_1k_items": round(1000 * t_build / max(items, 1), 2),
        "build_cpu_s": round(cpu_build, 1),
        "build_cpu_s_per_1k_items": round(1000 * cpu_build / max(items, 1), 2),
        "load_average_1min_at_end": round(os.getloadavg()[0], 1),
        "resumed_build_s": round(t_resume, 1),
        "workers": args.workers,
        "wording_probe": wording_probe(out),
    }
    print(json.dumps(figures, indent=1))
    print(
        f"suite: {c['sft']} SFT + {c['rl']} RL items from {c['clips']} clips ({c['variants']} variants, "
        f"{readings} observer readings) in {t_build:.0f} s = {figures['build_s_per_1k_items']} s per 1k items; "
        f"resumed build {t_resume:.0f} s; synthetic clips {t_synth:.0f} s"
    )


if __name__ == "__main__":
    main()
