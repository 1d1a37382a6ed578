"""Turn a run's predictions into metrics.json, the score files and the report."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from camreasoner.core.io import write_json_atomic
from camreasoner.core.taxonomy import YES_LETTER, skill_of
from camreasoner.evaluate.metrics import (
    BinaryItem,
    ChoiceItem,
    PairScores,
    binary_metrics,
    choice_metrics,
    majority_baseline_accuracy,
    pair_metrics,
)
from camreasoner.formats.predictions import PREDICTIONS, read_predictions
from camreasoner.formats.questions import Question

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

if TYPE_CHECKING:
    from camreasoner.evaluate.config import EvalConfig


def error_kind(message: str) -> str:
    """An error message without its quoted specifics and paths, to count errors by kind."""
    return _QUOTED.sub("…", message).split(":")[0].strip()


def binary_item(rec: dict[str, Any]) -> BinaryItem:
    """The metric view of a binary prediction record (its answer must be known)."""
    letter = rec.get("letter")
    return BinaryItem(
        primitive=rec.get("primitive") or skill_of(rec["problem_id"]),
        truth=rec["answer"] == YES_LETTER,
        pred=None if letter is None else letter == YES_LETTER,
        score=rec.get("score"),
        clip=rec.get("video", ""),
    )


def choice_item(rec: dict[str, Any]) -> ChoiceItem:
    """The metric view of a multiple-choice prediction record (its answer must be known)."""
    return ChoiceItem(
        skill=rec.get("skill") or skill_of(rec["problem_id"]),
        question=rec["question"],
        options=tuple(rec["options"]),
        truth=rec["answer"],
        pred=rec.get("letter"),
        clip=rec.get("video", ""),
        pair=None if rec.get("pair_id") is None else str(rec["pair_id"]),
    )


def pair_scores(records: Sequence[dict[str, Any]]) -> list[PairScores]:
    """The complete pairs of the pair records (a pair cut short by --limit is left out)."""
    by_pair: dict[str, dict[str, dict[str, Any]]] = {}
    for rec in records:
        if rec["kind"] == "pair":
            by_pair.setdefault(rec["pair"], {})[rec["combo"]] = rec
    out = []
    for combos in by_pair.values():
        if len(combos) != 4:
            continue
        first = next(iter(combos.values()))
        failed = any(r.get("error") or r.get("score") is None for r in combos.values())
        yes = None if failed else {c: float(r["score"]) for c, r in combos.items()}
        out.append(PairScores(skill=first["skill"], task=first["task"], yes=yes))
    return out


def compute_metrics(records: Sequence[dict[str, Any]], n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """metrics.json from prediction records (the keys are listed in docs/evaluation.md)."""
    labelled = [r for r in records if r.get("answer")]
    answered = [r for r in records if not r.get("error")]
    binary = [binary_item(r) for r in labelled if r["kind"] == "binary"]
    choice = [choice_item(r) for r in labelled if r["kind"] == "vqa"]
    errors = [r for r in records if r.get("error")]
    metrics: dict[str, Any] = {
        "n": len(records),
        "n_errors": len(errors),
        "n_unlabelled": len(records) - len(labelled),
        "accuracy": (sum(bool(r["correct"]) for r in labelled) / len(labelled)) if labelled else None,
        "majority_baseline_accuracy": majority_baseline_accuracy([r["answer"] for r in labelled]),
        "majority_answer": Counter(r["answer"] for r in labelled).most_common(1)[0][0] if labelled else None,
        "format_error_rate": (
            sum(not r.get("strict_format") for r in answered) / len(answered) if answered else None
        ),
        "n_scored": sum(b.score is not None for b in binary),
    }
    bm = binary_metrics(binary, n_boot=n_boot, seed=seed)
    per_primitive = bm.pop("per_primitive")
    metrics.update(bm)
    metrics.update(choice_metrics(choice))
    metrics["per_primitive"] = per_primitive
    pairs = pair_scores(labelled)
    metrics["pairs"] = pair_metrics(pairs) if pairs else None
    metrics["errors_by_kind"] = dict(Counter(error_kind(str(r["error"])) for r in errors))
    return metrics


def planned_records(out: Path, planned_keys: Sequence[str]) -> list[dict[str, Any]]:
    """The records of the planned items, in question-file order (the last record of each key)."""
    by_key: dict[str, dict[str, Any]] = {}
    for rec in read_predictions(out / PREDICTIONS):
        by_key[rec["key"]] = rec
    return [by_key[k] for k in planned_keys if k in by_key]


def finalize(out: Path, cfg: EvalConfig, questions: Sequence[Question], planned_keys: Sequence[str]) -> dict[str, Any]:
    """Write metrics.json, the score files and (unless disabled) report.md / report.html."""
    from camreasoner.formats.official import write_binary_scores, write_pair_scores
    from camreasoner.formats.scores import write_scores

    records = planned_records(out, planned_keys)
    metrics = compute_metrics(records, n_boot=cfg.n_boot, seed=cfg.seed)
    metrics["n_planned"] = len(planned_keys)
    metrics["complete"] = len(records) == len(planned_keys)
    metrics["backend"] = cfg.backend
    metrics["model"] = cfg.backend_options.get("model")
    metrics["bench"] = str(cfg.bench)
    write_json_atomic(out / "metrics.json", metrics)
    meta = {"backend": cfg.backend, "bench": str(cfg.bench), "model": cfg.backend_options.get("model")}
    write_scores(out / "scores.json", records, meta)
    official = {"model_name": cfg.backend, "checkpoint": cfg.backend_options.get("model") or "",
                "data_file": str(cfg.bench), "video_dir": cfg.video_root}
    write_binary_scores(out, records, official)
    write_pair_scores(out, records, official)
    if cfg.report:
        from camreasoner.evaluate.report import write_report

        write_report(out, metrics, records, title=f"{cfg.backend} on {Path(cfg.bench).name}")
    return metrics
