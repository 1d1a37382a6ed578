"""Diagnostic: does the motion signal reach the tiny model's vision tower, and can the tower learn it?

For clips of one horizontal motion (``camreasoner synth``: Pan_Left / Pan_Right, plus the Move_Left /
Move_Right confusables synth adds), the label is the direction the picture slides (right for
Pan_Left and Move_Left). The frames go through the same sampler and Qwen2.5-VL processor as training
(``camreasoner.train.data.VideoInputs``), then:

  1. a logistic-regression probe on the random tower's output tokens (no training of the tower);
  2. a logistic-regression probe on the raw patch pixels;
  3. the tower trained end to end with a linear head (cross-entropy, AdamW), held-out accuracy
     after each epoch.

Held-out clips come from another seed. Usage (run with nice, the machine is shared):
  nice .venv/bin/python bench/probe_vision.py --train DIR/synth_train --heldout DIR/synth_heldout \\
      --model DIR/base_model --epochs 4
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

SLIDES_RIGHT = {"Pan_Left", "Move_Left"}
HORIZONTAL = {"Pan_Left", "Pan_Right", "Move_Left", "Move_Right"}


def load(directory: Path, inputs: Any) -> list[tuple[Any, Any, int]]:
    """(pixel_values_videos, video_grid_thw, label) of every single-motion horizontal clip."""
    out = []
    for line in (directory / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        motions = [m["primitive"] for m in rec["recipe"]["motions"]]
        if len(motions) != 1 or motions[0] not in HORIZONTAL:
            continue
        batch = inputs.encode(["<|vision_start|><|video_pad|><|vision_end|>"], [str(directory / rec["path"])])
        out.append((batch["pixel_values_videos"], batch["video_grid_thw"], int(motions[0] in SLIDES_RIGHT)))
    return out


def tower_tokens(visual: Any, pixels: Any, grid: Any) -> Any:
    """The tower's merged output tokens for one clip, flattened."""
    out = visual(pixels, grid_thw=grid)
    out = getattr(out, "pooler_output", out)
    return (out if hasattr(out, "flatten") else out[0]).flatten()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--heldout", type=Path, required=True)
    p.add_argument("--model", type=Path, help="a Qwen2.5-VL checkpoint (default: build the tiny one)")
    p.add_argument("--frames", type=int, default=4)
    p.add_argument("--pixels", type=int, default=3136)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    a = p.parse_args()

    import numpy as np
    import torch
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from camreasoner.model.tiny import build_tiny_model
    from camreasoner.train.configs import VideoConfig
    from camreasoner.train.data import VideoInputs

    torch.set_num_threads(2)
    torch.manual_seed(0)
    model_dir = a.model or build_tiny_model(a.train.parent / "probe_base_model")
    processor = AutoProcessor.from_pretrained(model_dir)
    visual = AutoModelForImageTextToText.from_pretrained(model_dir).model.visual
    video = VideoConfig(fps=8.0, max_frames=a.frames, max_pixels=a.pixels, min_pixels=min(a.pixels, 3136))
    inputs = VideoInputs(processor, video)
    train, held = load(a.train, inputs), load(a.heldout, inputs)
    y_tr, y_te = [y for *_, y in train], [y for *_, y in held]
    print(f"{len(train)} training clips, {len(held)} held-out clips; patches per clip {tuple(train[0][0].shape)}")

    def probe(feats: Any) -> tuple[float, float]:
        f_tr, f_te = np.stack([feats(x) for x in train]), np.stack([feats(x) for x in held])
        clf = LogisticRegression(max_iter=3000).fit(f_tr, y_tr)
        return clf.score(f_tr, y_tr), clf.score(f_te, y_te)

    with torch.no_grad():
        tr, te = probe(lambda x: tower_tokens(visual, x[0], x[1]).numpy())
    print(f"probe on the random tower's tokens: train {tr:.3f}, held-out {te:.3f}")
    tr, te = probe(lambda x: x[0].flatten().numpy())
    print(f"probe on raw patch pixels:          train {tr:.3f}, held-out {te:.3f}")

    with torch.no_grad():
        width = tower_tokens(visual, train[0][0], train[0][1]).numel()
    head = torch.nn.Linear(width, 2)
    opt = torch.optim.AdamW([*visual.parameters(), *head.parameters()], lr=a.lr)
    t0 = time.perf_counter()
    for epoch in range(a.epochs):
        total = 0.0
        for i in torch.randperm(len(train)).tolist():
            pixels, grid, y = train[i]
            loss = torch.nn.functional.cross_entropy(head(tower_tokens(visual, pixels, grid))[None], torch.tensor([y]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        with torch.no_grad():
            acc = np.mean([int(head(tower_tokens(visual, px, g)).argmax()) == y for px, g, y in held])
        print(f"tower + linear head, epoch {epoch + 1}: train loss {total / len(train):.3f}, "
              f"held-out accuracy {acc:.3f} ({time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
