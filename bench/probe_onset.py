"""Diagnostic: when does SFT start reading the motion from the video? A plain training loop.

Same model, collator and suite rows as ``camreasoner train sft`` (TRL adds nothing the question
needs), but every ``--every`` steps it scores the first direction word of each chain's
observation (left / right / up / down), teacher-forced, on training rows and on the rows of a
held-out suite: the moment this leaves chance is the moment the video path opens. Options vary
what README "Does it learn?" compares: the bare-prompt warm-up, a loss weight on the direction
word (or the loss on it alone), the vision tower's learning rate, model sizes.

  nice .venv/bin/python bench/probe_onset.py --train DIR/suite --heldout DIR/held_suite \\
      --steps 6000 --bare-steps 1500

``--heldout`` is a ``camreasoner suite build`` output over held-out clips (e.g. bench_learn's
synth_heldout). ``--prompt motion`` replaces the question with one word (with ``--only-dir``:
the direction word alone is learned from the video).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

DIRECTIONS = ("Ġleft", "Ġright", "Ġup", "Ġdown")


def suite_rows(suite: Path, kinds: list[str] | None) -> list[dict[str, Any]]:
    """Every SFT row of a suite (all splits), ``video`` made absolute."""
    import datasets

    manifest = json.loads((suite / "suite.json").read_text())
    root = suite / manifest.get("video_root", "")
    rows = []
    for f in sorted((suite / "hf" / "sft").glob("*.parquet")):
        for r in datasets.Dataset.from_parquet(str(f)):
            if kinds is None or r["kind"] in kinds:
                rows.append(dict(r, video=str(root / r["video"])))
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=Path, required=True, help="suite of the training clips")
    p.add_argument("--heldout", type=Path, required=True, help="suite of held-out clips")
    p.add_argument("--kinds", nargs="+", default=["binary"], help="question kinds ('all': every kind)")
    p.add_argument("--text-hidden", type=int, default=64)
    p.add_argument("--text-layers", type=int, default=2)
    p.add_argument("--vision-hidden", type=int, default=32)
    p.add_argument("--vision-depth", type=int, default=2)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--vision-lr-mult", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--steps", type=int, default=6000)
    p.add_argument("--minutes", type=float, default=15.0)
    p.add_argument("--every", type=int, default=500)
    p.add_argument("--bare-steps", type=int, default=0, help="first steps without the O-T-A instruction")
    p.add_argument("--prompt", choices=["full", "motion"], default="full",
                   help="motion: the user turn is the video and the word 'Motion?' throughout")
    p.add_argument("--dir-weight", type=float, default=1.0, help="loss weight of the direction word")
    p.add_argument("--only-dir", action="store_true", help="loss on the direction word only")
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--pixels", type=int, default=3136)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", type=Path, default=Path("/tmp/camreasoner_probe_onset"))
    a = p.parse_args()

    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    import camreasoner.train.data as train_data
    from camreasoner.model.tiny import build_tiny_model
    from camreasoner.train.configs import VideoConfig
    from camreasoner.train.data import VideoSFTCollator

    torch.set_num_threads(2)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    model_dir = build_tiny_model(a.work / "base_model", text_hidden=a.text_hidden, text_layers=a.text_layers,
                                 vision_hidden=a.vision_hidden, vision_depth=a.vision_depth)
    processor = AutoProcessor.from_pretrained(model_dir)
    model = AutoModelForImageTextToText.from_pretrained(model_dir)
    direction_ids = torch.tensor([processor.tokenizer.convert_tokens_to_ids(t) for t in DIRECTIONS])
    video = VideoConfig(fps=8.0, max_frames=a.frames, max_pixels=a.pixels, min_pixels=min(a.pixels, 3136))
    collator = VideoSFTCollator(processor, video)
    if a.prompt == "motion":  # the user turn: video + one word, no question, no options
        train_data.build_messages = lambda v, q, o, instruction=True: [
            {"role": "user", "content": [{"type": "video", "video": v}, {"type": "text", "text": "Motion?"}]}
        ]
    kinds = None if a.kinds == ["all"] else a.kinds
    train, held = suite_rows(a.train, kinds), suite_rows(a.heldout, kinds)
    train_sample = rng.sample(train, min(120, len(train)))
    print(f"{len(train)} training rows, {len(held)} held-out rows", flush=True)

    def first_direction(labels: Any) -> list[int]:
        """Index of the first direction word in each row's labels (-1: none)."""
        hits = torch.isin(labels, direction_ids)
        return [int(row.nonzero()[0]) if row.any() else -1 for row in hits]

    def direction_accuracy(rows: list[dict[str, Any]]) -> float:
        model.eval()
        collator.bare, ok, total = False, 0, 0
        with torch.no_grad():
            for i in range(0, len(rows), 16):
                batch = collator(rows[i:i + 16])
                labels = batch.pop("labels")
                logits = model(**batch).logits
                for b, j in enumerate(first_direction(labels)):
                    if j > 0:
                        pred = direction_ids[logits[b, j - 1, direction_ids].argmax()]
                        ok, total = ok + int(pred == labels[b, j]), total + 1
        model.train()
        return ok / max(total, 1)

    vision = [q for n, q in model.named_parameters() if "visual" in n]
    rest = [q for n, q in model.named_parameters() if "visual" not in n]
    opt = torch.optim.AdamW([{"params": vision, "lr": a.lr * a.vision_lr_mult}, {"params": rest, "lr": a.lr}],
                            weight_decay=0.0)
    t0, step, losses = time.perf_counter(), 0, []
    model.train()
    while step < a.steps and time.perf_counter() - t0 < a.minutes * 60:
        rng.shuffle(train)
        for i in range(0, len(train) - a.batch + 1, a.batch):
            collator.bare = step < a.bare_steps
            batch = collator(train[i:i + a.batch])
            labels = batch.pop("labels")
            weight = (labels != -100).float() * (0.0 if a.only_dir else 1.0)
            for b, j in enumerate(first_direction(labels)):
                if j >= 0:
                    weight[b, j] = a.dir_weight
            logits = model(**batch).logits[:, :-1]
            ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels[:, 1:].clamp(min=0), reduction="none")
            loss = (ce * weight[:, 1:]).sum() / weight[:, 1:].sum().clamp(min=1.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            losses.append(loss.item())
            if step % a.every == 0:
                print(f"step {step}: loss {sum(losses[-a.every:]) / a.every:.3f}, direction accuracy "
                      f"train {direction_accuracy(train_sample):.2f} held-out {direction_accuracy(held):.2f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
            if step >= a.steps or time.perf_counter() - t0 > a.minutes * 60:
                break


if __name__ == "__main__":
    main()
