"""Throughput (clips per second) of the VLM backends and their agreement under greedy decoding.

Builds the tiny Qwen2.5-VL into a temporary directory (or takes ``--model DIR``), asks the same
binary questions about the sample clips through each backend named in ``--backends`` and prints
clips/s and, for every pair, how often texts and letters agree. On a GPU machine with vLLM:

    .venv/bin/python bench/bench_vlm_backends.py --backends hf,vllm --device cuda --items 240

On this CPU machine (hf only): ``nice .venv/bin/python bench/bench_vlm_backends.py --items 30``.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time

from camreasoner.backends import BackendItem, get_backend
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import BINARY_OPTIONS, PRIMITIVES, QUESTIONS
from camreasoner.testing.sample_clips import available_clips


def items(n: int) -> list[BackendItem]:
    """``n`` binary questions cycling over the sample clips and the 15 primitives."""
    clips = [str(p) for p in available_clips().values()]
    pairs = itertools.cycle(itertools.product(clips, PRIMITIVES))
    return [
        BackendItem(c, QUESTIONS[p], BINARY_OPTIONS, f"{p}_{i}")
        for i, (c, p) in zip(range(n), pairs, strict=False)
    ]


def main() -> None:
    """Run each backend over the same items; print clips/s and pairwise agreement."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="checkpoint dir (default: build the tiny model)")
    ap.add_argument("--backends", default="hf")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--items", type=int, default=30)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    args = ap.parse_args()
    work = tempfile.TemporaryDirectory()
    model = args.model
    if model is None:
        from camreasoner.model.tiny import build_tiny_model

        model = str(build_tiny_model(f"{work.name}/tiny"))
    batch = items(args.items)
    results = {}
    for name in args.backends.split(","):
        try:
            be = get_backend(
                name,
                model=model,
                device=args.device,
                batch_size=args.batch_size,
                max_new_tokens=args.max_new_tokens,
                temperature=0.0,
            )
        except CamReasonerError as exc:
            print(f"{name}: not run ({exc})")
            continue
        be.answer(batch[: min(4, len(batch))])  # warm-up
        t0 = time.perf_counter()
        out = be.answer(batch)
        dt = time.perf_counter() - t0
        errors = sum(r.error is not None for r in out)
        print(f"{name}: {len(batch)} items in {dt:.2f} s = {len(batch) / dt:.2f} clips/s ({errors} errors)")
        results[name] = out
    for a, b in itertools.combinations(results, 2):
        ra, rb = results[a], results[b]
        same_text = sum(x.text == y.text for x, y in zip(ra, rb, strict=True)) / len(ra)
        same_letter = sum(x.letter == y.letter for x, y in zip(ra, rb, strict=True)) / len(ra)
        dp = max(
            abs(x.option_probs.get("B", 0) - y.option_probs.get("B", 0)) for x, y in zip(ra, rb, strict=True)
        )
        print(f"{a} vs {b}: same text {same_text:.1%}, same letter {same_letter:.1%}, max |dP(B)| {dp:.4f}")
    work.cleanup()


if __name__ == "__main__":
    main()
