"""``camreasoner suite build``: labelled clips -> augmented clips -> observer readings -> questions ->
grounded (and teacher) chains, RL samples with difficulty -> splits -> exports and card.

Deterministic (every random choice is seeded by the seed and the clip/item it concerns), parallel
over clips (processes, or Ray with ``ray_address``), and resumable: augmented clips, readings,
teacher samples and reference samples are cached under ``OUT/work``, so a killed build picks up
where it stopped; the exports and the manifest are rewritten (atomically) at the end.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import as_completed
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic, write_text_atomic
from camreasoner.core.taxonomy import split_option
from camreasoner.core.workers import spawn_pool
from camreasoner.formats.labels import ClipLabel, label_from_record, read_labels
from camreasoner.formats.questions import Question
from camreasoner.qa.vqa import balance_answers, balanced_binary_questions, vqa_questions
from camreasoner.suite.augment import AUGMENTATIONS, DEFAULT_AUGMENTATIONS, augment_clip, cut_shot
from camreasoner.suite.chains import grounded_chain
from camreasoner.suite.measure import measure
from camreasoner.suite.splits import DEFAULT_RATIOS, SPLITS, check_ratios, split_of

FORMAT = "camreasoner-suite"
FORMAT_VERSION = 1


@dataclass
class BuildOptions:
    """Everything a build depends on (its settings are recorded in suite.json)."""

    labels: Path
    video_root: Path
    out: Path
    sft: int = 18000
    rl: int = 38000
    seed: int = 0
    workers: int = 1
    augment: tuple[str, ...] = DEFAULT_AUGMENTATIONS
    crops: int = 1
    yes_ratio: float = 0.5
    vqa_rounds: int = 4
    split: tuple[float, float, float] = DEFAULT_RATIOS
    teacher: str | None = None
    teacher_options: dict[str, Any] = field(default_factory=dict)
    k: int = 4
    teacher_items: int | None = None
    teacher_only: bool = False
    reference: str = "geometric"
    reference_options: dict[str, Any] = field(default_factory=dict)
    reference_k: int = 4
    batch_size: int = 16
    observer: dict[str, Any] = field(default_factory=dict)
    ray_address: str | None = None
    progress: bool = True

    def check(self) -> None:
        """Raise CamReasonerError for impossible settings."""
        if self.sft < 0 or self.rl < 0:
            raise CamReasonerError("--sft and --rl must be 0 or more")
        if self.workers < 1:
            raise CamReasonerError(f"--workers {self.workers}: must be at least 1")
        if self.k < 1 or self.reference_k < 1:
            raise CamReasonerError("-k and --reference-k must be at least 1")
        if not 0.0 < self.yes_ratio < 1.0:
            raise CamReasonerError(f"--yes-ratio {self.yes_ratio}: must be strictly between 0 and 1")
        if self.crops < 0:
            raise CamReasonerError(f"--crops {self.crops}: must be 0 or more")
        if self.vqa_rounds < 0:
            raise CamReasonerError(f"--vqa-rounds {self.vqa_rounds}: must be 0 or more")
        bad = sorted(set(self.augment) - set(AUGMENTATIONS))
        if bad:
            raise CamReasonerError(f"--augment {bad[0]!r}: choose from {', '.join(AUGMENTATIONS)}")
        check_ratios(self.split)
        if not self.video_root.is_dir():
            raise CamReasonerError(f"--video-root {self.video_root}: no such directory")
        if self.teacher_only and not self.teacher:
            raise CamReasonerError("--teacher-only needs --teacher")


@dataclass
class BuildResult:
    """What a build produced (the manifest) and how long it took."""

    manifest: dict[str, Any]
    seconds: float


# ---- stage 1: per clip (parallel) -------------------------------------------------------------


def _clip_task(args: tuple[dict, str, str, tuple[str, ...], int, int, dict]) -> dict[str, Any]:
    """Augment one clip and measure it and its variants (cached). Never raises for a bad clip."""
    record, video_root, out, kinds, seed, crops, observer = args
    label = label_from_record(record, "clip")
    root = Path(video_root)
    src = root / label.path
    result: dict[str, Any] = {"clip": label.path, "variants": [], "readings": {}, "errors": []}
    if not src.is_file():
        result["errors"].append(f"{label.path}: video not found under {video_root}")
        return result
    try:  # a shot of a longer video (start/end): measured and augmented as its own clip
        shot = cut_shot(label, root, Path(out) / "videos", "shots")
    except Exception as exc:
        result["errors"].append(f"{label.path}: cutting the shot failed: {exc}".splitlines()[0])
        return result
    if shot is not None:
        src = Path(out) / "videos" / shot.path
        label = ClipLabel(os.path.relpath(src, root), shot.primitives, shot.extra)
    variants = [(label, src)]
    try:
        for aug in augment_clip(label, root, Path(out) / "videos", "aug", kinds, seed, crops):
            full = Path(out) / "videos" / aug.label.path
            rel = os.path.relpath(full, root)
            variants.append((ClipLabel(rel, aug.label.primitives, aug.label.extra), full))
    except Exception as exc:  # one bad clip is recorded, the build goes on
        result["errors"].append(f"{label.path}: augmentation failed: {exc}".splitlines()[0])
    cache = Path(out) / "work" / "measure"
    for var, full in variants:
        try:
            reading = measure(full, cache, observer)
        except Exception as exc:  # an observer failure on one clip must not stop the build
            reading = {"error": f"observer failed ({type(exc).__name__}: {exc})".splitlines()[0]}
        reading.pop("video", None)
        result["variants"].append(var.to_record())
        result["readings"][var.path] = reading
        if "error" in reading:
            result["errors"].append(f"{var.path}: {reading['error']}")
    return result


def _run_clips(opts: BuildOptions, labels: list[ClipLabel], tick: Callable[[], None]) -> list[dict[str, Any]]:
    jobs = [
        (
            lab.to_record(),
            str(opts.video_root),
            str(opts.out),
            tuple(opts.augment),
            opts.seed,
            opts.crops,
            dict(opts.observer),
        )
        for lab in labels
    ]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    if opts.ray_address:
        try:
            import ray
        except ImportError:
            raise CamReasonerError("--ray-address needs Ray: pip install 'ray[default]'") from None
        try:
            ray.init(address=opts.ray_address, ignore_reinit_error=True)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CamReasonerError(
                f"--ray-address {opts.ray_address}: cannot reach a Ray cluster ({first})"
            ) from None
        remote = ray.remote(_clip_task)
        pending = {remote.remote(job): i for i, job in enumerate(jobs)}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                results[pending.pop(ref)] = ray.get(ref)
                tick()
    elif opts.workers > 1:
        with spawn_pool(opts.workers) as pool:
            futures = {pool.submit(_clip_task, job): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                tick()
    else:
        for i, job in enumerate(jobs):
            results[i] = _clip_task(job)
            tick()
    return [r for r in results if r is not None]


# ---- stage 2: questions ----------------------------------------------------------------------


@dataclass
class PoolItem:
    """One question about one clip variant."""

    id: str
    question: Question
    variant: ClipLabel
    clip: str
    split: str


def _stable_key(opts: BuildOptions, path: str) -> str:
    """A variant's name that does not depend on where OUT is: augmented clips as ``OUT/…``."""
    full = (Path(opts.video_root) / path).resolve()
    try:
        return "OUT/" + full.relative_to(Path(opts.out).resolve()).as_posix()
    except ValueError:
        return path


def _question_pool(opts: BuildOptions, variants: list[ClipLabel], groups: dict[str, str]) -> list[PoolItem]:
    vqa: list[Question] = []
    owner: dict[int, ClipLabel] = {}
    for var in variants:
        seen: set[tuple[str, tuple[str, ...]]] = set()
        for r in range(opts.vqa_rounds):
            rng = random.Random(f"{opts.seed}:vqa:{_stable_key(opts, var.path)}:{r}")
            for q in vqa_questions(var, rng, r, data_source=FORMAT):
                key = (q.question, tuple(sorted(split_option(o)[1] for o in q.options)))
                if key not in seen:
                    seen.add(key)
                    owner[id(q)] = var
                    vqa.append(q)
    vqa = balance_answers(vqa, random.Random(f"{opts.seed}:balance"))
    binary = balanced_binary_questions(
        variants, random.Random(f"{opts.seed}:binary"), yes_ratio=opts.yes_ratio, data_source=FORMAT
    )
    by_path = {v.path: v for v in variants}
    asked = [(q, by_path[q.path]) for q in binary] + [(q, owner[id(q)]) for q in vqa]
    items = [
        PoolItem(
            f"{_stable_key(opts, var.path)}::{q.problem_id}",
            q,
            var,
            groups[var.path],
            split_of(groups[var.path], opts.seed, opts.split),
        )
        for q, var in asked
    ]
    items.sort(key=lambda it: it.id)
    random.Random(f"{opts.seed}:pool").shuffle(items)
    return items


def _kind(it: PoolItem) -> str:
    return "binary" if it.question.is_binary else str(it.question.extra.get("skill", "vqa"))


def _interleave(items: list[PoolItem]) -> list[PoolItem]:
    """Round-robin over question kinds (order within a kind kept), so no kind crowds out the others."""
    queues: dict[str, list[PoolItem]] = {}
    for it in items:
        queues.setdefault(_kind(it), []).append(it)
    out: list[PoolItem] = []
    lists = [queues[k] for k in sorted(queues)]
    for i in range(max((len(q) for q in lists), default=0)):
        out.extend(q[i] for q in lists if i < len(q))
    return out


def _arrange(pool: list[PoolItem], n_sft: int, n_rl: int) -> tuple[list[PoolItem], list[PoolItem]]:
    """(SFT walk order, RL order): each kind is split between SFT and RL in proportion to the sizes
    asked, each part interleaved by kind; each order ends with the other's part as a reserve."""
    share = n_sft / (n_sft + n_rl) if n_sft + n_rl else 0.0
    by_kind: dict[str, list[PoolItem]] = {}
    for it in pool:
        by_kind.setdefault(_kind(it), []).append(it)
    sft_part: list[PoolItem] = []
    rl_part: list[PoolItem] = []
    for kind in sorted(by_kind):
        items = by_kind[kind]
        cut = round(len(items) * share)
        sft_part += items[:cut]
        rl_part += items[cut:]
    sft_i, rl_i = _interleave(sft_part), _interleave(rl_part)
    return sft_i + rl_i, rl_i + sft_i


# ---- work logs (resumable stages) --------------------------------------------------------------


def _read_log(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a kill
            out[rec["id"]] = rec
    return out


class _Log:
    """Append-only JSON Lines log, flushed per record."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.done = _read_log(path)
        self._fh = path.open("a", encoding="utf-8")

    def add(self, rec: dict[str, Any]) -> None:
        self.done[rec["id"]] = rec
        self._fh.write(json.dumps(rec) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


# Backend options that say how to reach a backend, not what it samples: left out of the log key.
TRANSPORT_OPTIONS = frozenset(
    {"api_key", "base_url", "timeout", "retries", "concurrency", "batch_size", "device"}
)


def _log_path(out: Path, role: str, backend: str | None, options: dict[str, Any], k: int) -> Path:
    """A sample log per (backend, model, sampling options, k): a changed model or sampler never reuses
    another's samples; a moved server or a new secret does."""
    key = {"backend": backend, "k": k, **{n: v for n, v in options.items() if n not in TRANSPORT_OPTIONS}}
    digest = hashlib.sha1(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:12]
    return out / "work" / f"{role}-{backend}-{digest}.jsonl"


# ---- stage 3: chains and RL samples ----------------------------------------------------------


def _backend_item(opts: BuildOptions, it: PoolItem):
    from camreasoner.backends.base import BackendItem

    q = it.question
    return BackendItem(str(opts.video_root / it.variant.path), q.question, tuple(q.options), it.id)


def _teacher_chains(
    opts: BuildOptions, candidates: list[PoolItem], readings: dict[str, dict], progress: Any
) -> tuple[dict[str, str], Counter]:
    from camreasoner.backends import get_backend
    from camreasoner.suite.teacher import TeacherItem, sample_teacher

    log = _Log(_log_path(opts.out, "teacher", opts.teacher, opts.teacher_options, opts.k))
    todo = [it for it in candidates if it.id not in log.done]
    task = (
        progress.add_task(f"teacher {opts.teacher} (k={opts.k})", total=len(candidates)) if progress else None
    )
    if progress:
        progress.advance(task, len(candidates) - len(todo))
    try:
        if todo:
            backend = get_backend(opts.teacher, **opts.teacher_options)
            items = [
                TeacherItem(
                    it.id,
                    _backend_item(opts, it),
                    it.question.answer or "",
                    {p: bool(v) for p, v in readings[it.variant.path]["primitives"].items()},
                )
                for it in todo
            ]

            def done(outcome: Any) -> None:
                log.add({"id": outcome.id, "response": outcome.response, "reasons": dict(outcome.reasons)})
                if progress:
                    progress.advance(task)

            sample_teacher(backend, items, opts.k, opts.batch_size, on_done=done)
    finally:
        log.close()
    chains: dict[str, str] = {}
    reasons: Counter = Counter()
    for it in candidates:
        rec = log.done.get(it.id)
        if rec is None:
            continue
        reasons.update(rec["reasons"])
        if rec["response"]:
            chains[it.id] = rec["response"]
    return chains, reasons


def _pass_rates(
    opts: BuildOptions, items: list[PoolItem], readings: dict[str, dict], progress: Any
) -> dict[str, float]:
    from camreasoner.suite.rl import pass_rate_from_reading, pass_rates_from_backend

    if opts.reference == "geometric":
        return {it.id: pass_rate_from_reading(it.question, readings[it.variant.path]) for it in items}
    from camreasoner.backends import get_backend

    log = _Log(_log_path(opts.out, "reference", opts.reference, opts.reference_options, opts.reference_k))
    todo = [it for it in items if it.id not in log.done]
    task = (
        progress.add_task(f"reference {opts.reference} (k={opts.reference_k})", total=len(items))
        if progress
        else None
    )
    if progress:
        progress.advance(task, len(items) - len(todo))
    try:
        if todo:
            backend = get_backend(opts.reference, **opts.reference_options)
            step = max(1, opts.batch_size)
            for start in range(0, len(todo), step):
                chunk = todo[start : start + step]
                rates = pass_rates_from_backend(
                    backend,
                    [_backend_item(opts, it) for it in chunk],
                    [it.question.answer or "" for it in chunk],
                    opts.reference_k,
                    batch_size=step,
                )
                for it, rate in zip(chunk, rates, strict=True):
                    log.add({"id": it.id, "pass_rate": rate})
                if progress:
                    progress.advance(task, len(chunk))
    finally:
        log.close()
    return {it.id: float(log.done[it.id]["pass_rate"]) for it in items}


def _base_row(it: PoolItem) -> dict[str, Any]:
    q = it.question
    return {
        "id": it.id,
        "clip": it.clip,
        "video": it.variant.path,
        "problem": q.question,
        "options": list(q.options),
        "answer": q.answer,
        "kind": "binary" if q.is_binary else str(q.extra.get("skill", "vqa")),
        "augment": str(it.variant.extra.get("augment", "")),
    }


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )


# ---- stage 4: the build, step by step ---------------------------------------------------------


@dataclass
class _Clips:
    """The usable clip variants, their readings and source clips, and what could not be used."""

    variants: list[ClipLabel]
    readings: dict[str, dict]
    groups: dict[str, str]  # variant path -> the clip it was made from
    errors: list[str]
    bad_clips: int  # clips of which no variant could be read


@dataclass
class _SftPart:
    rows: list[dict[str, Any]]
    used: set[str]  # pool item ids that became SFT rows
    grounded_rejections: Counter
    teacher_reasons: Counter


def _collect_clips(results: list[dict[str, Any]]) -> _Clips:
    """Keep the variants whose reading has no error."""
    clips = _Clips([], {}, {}, [], 0)
    for res in results:
        clips.errors.extend(res["errors"])
        usable = 0
        for rec in res["variants"]:
            var = label_from_record(rec, "variant")
            reading = res["readings"][var.path]
            if "error" in reading:
                continue
            usable += 1
            clips.variants.append(var)
            clips.readings[var.path] = reading
            clips.groups[var.path] = res["clip"]
        clips.bad_clips += usable == 0
    return clips


def _measure_clips(
    opts: BuildOptions, labels: list[ClipLabel], progress: Any, say: Callable[[str], None]
) -> _Clips:
    """Stage 1 over every clip; records the errors in ``work/bad_items.json``, fails if nothing is usable."""
    task = progress.add_task("clips: augment + measure", total=len(labels))
    clips = _collect_clips(_run_clips(opts, labels, lambda: progress.advance(task)))
    write_json_atomic(opts.out / "work" / "bad_items.json", clips.errors)
    for e in clips.errors[:5]:
        say(f"skipped: {e}")
    if not clips.variants:
        first = clips.errors[0] if clips.errors else "none"
        raise CamReasonerError(f"{opts.labels}: no usable clips ({len(clips.errors)} errors; first: {first})")
    return clips


def _sft_rows(
    opts: BuildOptions, order: list[PoolItem], readings: dict[str, dict], progress: Any
) -> _SftPart:
    """Walk the SFT order: a teacher chain where one was accepted, else (unless --teacher-only) a
    grounded chain, until --sft rows."""
    part = _SftPart([], set(), Counter(), Counter())
    teacher_chains: dict[str, str] = {}
    if opts.teacher and opts.sft:
        n_teacher = opts.teacher_items if opts.teacher_items is not None else opts.sft
        teacher_chains, part.teacher_reasons = _teacher_chains(
            opts, order[: max(0, n_teacher)], readings, progress
        )
    task = progress.add_task("SFT chains", total=opts.sft)
    for it in order:
        if len(part.rows) >= opts.sft:
            break
        if it.id in teacher_chains:
            row = {**_base_row(it), "response": teacher_chains[it.id], "source": f"teacher:{opts.teacher}"}
        elif opts.teacher_only:
            continue
        else:
            rng = random.Random(f"{opts.seed}:chain:{it.id}")
            text, why = grounded_chain(it.question, readings[it.variant.path], rng)
            if text is None:
                part.grounded_rejections[why] += 1
                continue
            row = {**_base_row(it), "response": text, "source": "grounded"}
        row["split"] = it.split
        part.rows.append(row)
        part.used.add(it.id)
        progress.advance(task)
    return part


def _rl_rows(
    opts: BuildOptions, order: list[PoolItem], used: set[str], readings: dict[str, dict], progress: Any
) -> list[dict[str, Any]]:
    """--rl samples with pass rate and difficulty: items not used for SFT first, then SFT items."""
    rest = [it for it in order if it.id not in used] + [it for it in order if it.id in used]
    items = rest[: opts.rl]
    rates = _pass_rates(opts, items, readings, progress)
    rows = []
    for it in items:
        measured = {p: bool(v) for p, v in readings[it.variant.path]["primitives"].items()}
        rows.append(
            {
                **_base_row(it),
                "difficulty": round(1.0 - round(rates[it.id], 6), 6),
                "pass_rate": round(rates[it.id], 6),
                "measured": json.dumps(measured, sort_keys=True),
                "split": it.split,
            }
        )
    return rows


def _by_split(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows per split, sorted by id, without their ``split`` field."""
    out = {s: sorted((r for r in rows if r["split"] == s), key=lambda r: r["id"]) for s in SPLITS}
    for split_rows in out.values():
        for r in split_rows:
            r.pop("split")
    return out


def _options_record(opts: BuildOptions) -> dict[str, Any]:
    """The settings recorded in suite.json (paths are recorded apart, secrets never)."""
    rec = {k: v for k, v in asdict(opts).items() if k not in ("labels", "video_root", "out", "progress")}
    rec["augment"] = list(opts.augment)
    rec["split"] = list(opts.split)
    rec["teacher_options"] = {k: v for k, v in opts.teacher_options.items() if k != "api_key"}
    rec["reference_options"] = {k: v for k, v in opts.reference_options.items() if k != "api_key"}
    return rec


def _counts(
    opts: BuildOptions,
    labels: list[ClipLabel],
    clips: _Clips,
    pool: list[PoolItem],
    sft: _SftPart,
    rl: list[dict],
) -> dict[str, int]:
    return {
        "clips": len(labels),
        "bad_clips": clips.bad_clips,
        "errors": len(clips.errors),
        "variants": len(clips.variants),
        "pool": len(pool),
        "sft": len(sft.rows),
        "rl": len(rl),
        "rl_also_in_sft": sum(1 for r in rl if r["id"] in sft.used),
        "sft_requested": opts.sft,
        "rl_requested": opts.rl,
    }


def _write_suite(
    opts: BuildOptions, counts: dict[str, int], sft: _SftPart, rl: list[dict], t0: float
) -> dict:
    """The splits, exports, dataset card and (last) suite.json; returns the manifest."""
    from camreasoner.suite.card import render_card, statistics_of
    from camreasoner.suite.exports import write_all

    sft_splits, rl_splits = _by_split(sft.rows), _by_split(rl)
    rejections = {"grounded": dict(sft.grounded_rejections), "teacher": dict(sft.teacher_reasons)}
    stats = statistics_of(sft_splits, rl_splits, rejections)
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "labels": str(Path(opts.labels).resolve()),
        "video_root": str(opts.video_root),
        "seed": opts.seed,
        "counts": counts,
        "options": _options_record(opts),
        "exports": write_all(opts.out, sft_splits, rl_splits, opts.video_root),
        "statistics": stats,
    }
    write_text_atomic(opts.out / "README.md", render_card(manifest, stats))
    manifest["seconds"] = round(time.perf_counter() - t0, 2)
    write_json_atomic(opts.out / "suite.json", manifest)
    return manifest


def build_suite(opts: BuildOptions, log: Callable[[str], None] | None = None) -> BuildResult:
    """Run a whole build (see the module docstring); returns the manifest written to suite.json.

    ``opts`` is left as it is (the build works on a copy with resolved paths)."""
    t0 = time.perf_counter()
    opts = replace(opts, video_root=opts.video_root.resolve(), out=opts.out.resolve())
    opts.check()
    labels = read_labels(opts.labels)
    opts.out.mkdir(parents=True, exist_ok=True)
    say = log or (lambda _msg: None)
    with _progress(opts.progress) as progress:
        clips = _measure_clips(opts, labels, progress, say)
        pool = _question_pool(opts, clips.variants, clips.groups)
        say(f"{len(clips.variants)} clip variants, {len(pool)} questions in the pool")
        sft_order, rl_order = _arrange(pool, opts.sft, opts.rl)
        sft = _sft_rows(opts, sft_order, clips.readings, progress)
        rl = _rl_rows(opts, rl_order, sft.used, clips.readings, progress)
    counts = _counts(opts, labels, clips, pool, sft, rl)
    manifest = _write_suite(opts, counts, sft, rl, t0)
    if counts["sft"] < opts.sft or counts["rl"] < opts.rl:
        say(
            f"note: built {counts['sft']} SFT / {counts['rl']} RL of {opts.sft} / {opts.rl} asked "
            f"(pool {len(pool)}; add clips, --vqa-rounds or augmentations for more)"
        )
    return BuildResult(manifest, time.perf_counter() - t0)


def iter_rows(out: Path, name: str) -> Iterable[dict[str, Any]]:
    """All rows of the ``hf/<name>`` export, split by split (for the bench and tests)."""
    from camreasoner.suite.exports import read_hf

    for s in SPLITS:
        path = out / "hf" / name / f"{s}.parquet"
        if path.is_file():
            yield from read_hf(path)
