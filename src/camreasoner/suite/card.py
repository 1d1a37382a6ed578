"""The dataset card (README.md): what is in the suite and how it was made, with its statistics."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from camreasoner.core.taxonomy import PRIMITIVES, primitive_from_problem_id


def _primitive_of(row: dict[str, Any]) -> str | None:
    if row["kind"] != "binary":
        return None
    return primitive_from_problem_id(row["id"].rsplit("::", 1)[-1])


def primitive_table(rows: Sequence[dict[str, Any]]) -> list[tuple[str, int, float | None]]:
    """(primitive, binary items, Yes share) for each primitive."""
    n: Counter = Counter()
    yes: Counter = Counter()
    for r in rows:
        p = _primitive_of(r)
        if p:
            n[p] += 1
            yes[p] += r["answer"] == "B"
    return [(p, n[p], (yes[p] / n[p]) if n[p] else None) for p in PRIMITIVES]


def chain_lengths(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Words per SFT response: mean, median, 95th percentile, max."""
    lengths = sorted(len(r["response"].split()) for r in rows)
    if not lengths:
        return {"mean": 0.0, "median": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "mean": round(statistics.fmean(lengths), 1),
        "median": float(statistics.median(lengths)),
        "p95": float(lengths[min(len(lengths) - 1, int(0.95 * len(lengths)))]),
        "max": float(lengths[-1]),
    }


def statistics_of(
    sft: dict[str, list[dict]], rl: dict[str, list[dict]], rejections: dict[str, Any]
) -> dict[str, Any]:
    """The numbers the card shows (also stored in suite.json)."""
    all_sft = [r for rows in sft.values() for r in rows]
    all_rl = [r for rows in rl.values() for r in rows]
    diffs = [r["difficulty"] for r in all_rl]
    bins: Counter = Counter(min(int(d * 5), 4) for d in diffs)
    return {
        "sft_per_split": {k: len(v) for k, v in sft.items()},
        "rl_per_split": {k: len(v) for k, v in rl.items()},
        "sft_kinds": dict(Counter(r["kind"] for r in all_sft)),
        "rl_kinds": dict(Counter(r["kind"] for r in all_rl)),
        "sft_sources": dict(Counter(r["source"] for r in all_sft)),
        "sft_augment": dict(Counter(r["augment"] or "original" for r in all_sft)),
        "rl_augment": dict(Counter(r["augment"] or "original" for r in all_rl)),
        "sft_primitives": {p: [n, y] for p, n, y in primitive_table(all_sft)},
        "rl_primitives": {p: [n, y] for p, n, y in primitive_table(all_rl)},
        "chain_words": chain_lengths(all_sft),
        "difficulty_bins": {f"{i / 5:.1f}-{(i + 1) / 5:.1f}": bins.get(i, 0) for i in range(5)},
        "rejections": rejections,
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(x) for x in row) + " |" for row in rows]
    return "\n".join(lines)


def _share(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def render_card(manifest: dict[str, Any], stats: dict[str, Any]) -> str:
    """README.md text: YAML front matter (configs for ``datasets``) and the tables."""
    splits = ("train", "validation", "test")
    front = ["---", "configs:"]
    files = manifest.get("exports", {}).get("hf", [])
    for name in ("sft", "rl"):
        present = [s for s in splits if f"hf/{name}/{s}.parquet" in files]
        if not present:
            continue
        front.append(f"- config_name: {name}")
        front.append("  data_files:")
        for s in present:
            front.append(f"  - split: {s}")
            front.append(f"    path: hf/{name}/{s}.parquet")
    front += ["tags:", "- video", "- camera-motion", "- camreasoner", "---", ""]
    prim_rows = []
    for p in PRIMITIVES:
        n_s, y_s = stats["sft_primitives"][p]
        n_r, y_r = stats["rl_primitives"][p]
        prim_rows.append((p, n_s, _share(y_s), n_r, _share(y_r)))
    kinds = sorted(set(stats["sft_kinds"]) | set(stats["rl_kinds"]))
    rej = stats["rejections"]
    grounded = rej.get("grounded", {})
    teacher = rej.get("teacher", {})
    body = [
        "# CamReasoner Inference Trajectory Suite",
        "",
        "Built by `camreasoner suite build` from labelled clips. SFT rows hold an O-T-A response",
        "(`<observation>…</observation><think>…</think><answer>X</answer>`); RL rows hold the question,",
        "options, answer letter, the observer's measured primitives and a difficulty estimate.",
        "Splits are by clip: a clip and all its augmentations are in one split.",
        "",
        f"- labels: `{manifest['labels']}`; video root: `{manifest['video_root']}`",
        f"- seed {manifest['seed']}; augmentations: {', '.join(manifest['options']['augment']) or 'none'}",
        f"- clips: {manifest['counts']['clips']} ({manifest['counts']['bad_clips']} unusable), "
        f"clip variants with augmentations: {manifest['counts']['variants']}",
        f"- difficulty reference: {manifest['options']['reference']} (difficulty = 1 - pass rate)",
        "",
        "## Sizes",
        "",
        _table(
            ("set", *splits, "total"),
            [
                (
                    "SFT",
                    *(stats["sft_per_split"].get(s, 0) for s in splits),
                    sum(stats["sft_per_split"].values()),
                ),
                (
                    "RL",
                    *(stats["rl_per_split"].get(s, 0) for s in splits),
                    sum(stats["rl_per_split"].values()),
                ),
            ],
        ),
        "",
        "## Question kinds",
        "",
        _table(
            ("kind", "SFT", "RL"),
            [(k, stats["sft_kinds"].get(k, 0), stats["rl_kinds"].get(k, 0)) for k in kinds],
        ),
        "",
        "## Binary questions per primitive (Yes share)",
        "",
        _table(("primitive", "SFT items", "SFT Yes", "RL items", "RL Yes"), prim_rows),
        "",
        "## Chains",
        "",
        _table(("source", "SFT rows"), sorted(stats["sft_sources"].items())),
        "",
        "Words per response: " + ", ".join(f"{k} {v:g}" for k, v in stats["chain_words"].items()),
        "",
        "## Rejections",
        "",
        "Grounded chains are written only when the observer's measured primitives give the labelled",
        "answer; teacher samples are kept only in strict O-T-A format, with the right answer and an",
        "observation that contradicts no measurement.",
        "",
        _table(("grounded: reason", "items"), sorted(grounded.items()))
        if grounded
        else "No grounded rejections.",
        "",
        _table(("teacher: reason", "samples"), sorted(teacher.items())) if teacher else "No teacher was run.",
        "",
        "## Augmentations",
        "",
        _table(
            ("augment", "SFT", "RL"),
            [
                (a, stats["sft_augment"].get(a, 0), stats["rl_augment"].get(a, 0))
                for a in sorted(set(stats["sft_augment"]) | set(stats["rl_augment"]))
            ],
        ),
        "",
        "## RL difficulty",
        "",
        _table(("difficulty", "RL rows"), list(stats["difficulty_bins"].items())),
        "",
    ]
    return "\n".join(front + body)


def kinds_per_primitive(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Binary items per primitive (helper for tests and the bench)."""
    out: dict[str, int] = defaultdict(int)
    for p, n, _ in primitive_table(rows):
        out[p] = n
    return dict(out)
