"""A data set directory of labelled clips: checks, staging, parallel jobs, resume and final assembly.

Shared by the rendered (``camreasoner synth``) and the semi-real (``--from-video``) generators.
Layout of a finished directory DIR::

    DIR/clips/*.mp4      H.264 clips
    DIR/labels.jsonl     one clip a line (conventions.md labels format plus the generator's keys)
    DIR/binary.json      the 15 binary questions per clip (CameraBench format; null labels skipped)
    DIR/vqa.json         multiple-choice questions from camreasoner.qa.vqa.vqa_questions
    DIR/synth.json       manifest: identity (format, clips, seed, settings), counts, failed clips

Work goes to DIR/.tmp first (clips and one record per finished clip), so an interrupted run resumes
where it stopped and a finished directory never holds half-written files. A job function takes one
picklable job and returns ``(index, record or None, error or None)``.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.core.workers import spawn_context
from camreasoner.formats.labels import ClipLabel, write_labels
from camreasoner.formats.questions import Question, binary_question, write_questions

JobResult = tuple[int, dict[str, Any] | None, str | None]


@dataclass(frozen=True)
class Source:
    """How the questions of a data set name where they come from."""

    data_source: str
    dataset: str


@dataclass
class SynthResult:
    """What a generator did."""

    out_dir: Path
    clips: int
    failed: list[dict[str, Any]]
    status: str  # "written" | "resumed" | "already complete"
    vqa: str
    textures: str
    warnings: list[str] = field(default_factory=list)


def init_worker() -> None:
    """Worker set-up: one OpenCV thread; Ctrl-C is the parent's alone (it ends the workers)."""
    import cv2

    cv2.setNumThreads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def stage_dir(out: Path) -> Path:
    """Where an unfinished data set of ``out`` is staged (``open_stage``; moved into ``out`` when done)."""
    return out / ".tmp"


def check_out_dir(out: Path, identity: dict[str, Any]) -> str:
    """'new', 'resume' or 'done'; raise if ``out`` holds something else."""
    if out.exists() and not out.is_dir():
        raise CamReasonerError(f"{out}: exists and is not a directory")
    if not out.exists():
        return "new"
    entries = sorted(os.listdir(out))
    if not entries:
        return "new"
    manifest = out / "synth.json"
    if manifest.is_file():
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, OSError):
            info = {}
        if {k: info.get(k) for k in identity} == identity:
            return "done"
        differ = [k for k in identity if k not in ("format", "version") and info.get(k) != identity[k]]
        raise CamReasonerError(
            f"{out}: holds another data set ({info.get('clips')} clips, seed {info.get('seed')}; "
            f"different {', '.join(differ or ['format'])}); choose a new --out"
        )
    if entries == [stage_dir(out).name]:
        try:
            info = json.loads((stage_dir(out) / "synth.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            info = {}
        if info == identity:
            return "resume"
        raise CamReasonerError(
            f"{out}: holds an unfinished data set with other settings; remove it or choose a new --out"
        )
    raise CamReasonerError(f"{out}: not empty (holds {entries[0]!r}); choose an empty or new --out directory")


def finished_result(out: Path) -> SynthResult:
    """The result of a directory that is already complete (nothing is redone)."""
    info = json.loads((out / "synth.json").read_text(encoding="utf-8"))
    return SynthResult(out, info["counts"]["clips"], info.get("failed", []), "already complete",
                       info.get("vqa", ""), info.get("textures", ""))  # fmt: skip


def open_stage(out: Path, identity: dict[str, Any]) -> tuple[Path, set[int]]:
    """Create (or reopen) DIR/.tmp; return it and the indices of clips already finished there."""
    stage = stage_dir(out)
    (stage / "clips").mkdir(parents=True, exist_ok=True)
    (stage / "records").mkdir(exist_ok=True)
    write_json_atomic(stage / "synth.json", identity)
    done = {
        int(p.stem)
        for p in (stage / "records").glob("*.json")
        if '"record"' in p.read_text(encoding="utf-8")[:12]
    }
    return stage, done


def save_result(stage: Path, index: int, record: dict[str, Any] | None, error: str | None) -> None:
    """Keep one finished clip's labels record (or its error) in the staging directory."""
    payload = {"record": record} if record is not None else {"error": error, "index": index}
    write_json_atomic(stage / "records" / f"{index:06d}.json", payload, indent=None)


def run_jobs(job_fn: Callable[[Any], JobResult], jobs: Sequence[Any], stage: Path, workers: int,
             progress: bool, total: int, completed: int) -> None:  # fmt: skip
    """Run ``job_fn`` over ``jobs`` (in spawned processes when ``workers`` > 1), saving each result."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM ends the run like Ctrl-C: workers stopped, finished clips kept for a resume.
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    if workers > 1 and len(jobs) > 1:
        pool = spawn_context().Pool(min(workers, len(jobs)), initializer=init_worker)
        results = pool.imap_unordered(job_fn, jobs, chunksize=1)
    else:
        pool = None
        results = map(job_fn, jobs)
    try:
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("synth", total=total, completed=completed)
            for index, record, error in results:
                save_result(stage, index, record, error)
                bar.advance(task)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def binary_questions(labels: list[ClipLabel], source: Source) -> list[Question]:
    """All 15 binary questions of every clip (null labels skipped), ids ``<Primitive>_<clip index>``."""
    out = []
    for label in labels:
        for p in PRIMITIVES:
            value = label.primitives.get(p)
            if value is None:
                continue
            out.append(binary_question(p, label.path, value, int(label.extra["index"]),
                                       data_source=source.data_source, dataset=source.dataset))  # fmt: skip
    return out


def vqa_questions(labels: list[ClipLabel], seed: int, source: Source) -> tuple[list[Question] | None, str]:
    """The VQA questions of every clip via camreasoner.qa.vqa, or None and why not."""
    try:
        from camreasoner.qa.vqa import vqa_questions as make
    except ImportError as exc:
        return None, f"camreasoner.qa.vqa unavailable ({exc})"
    out: list[Question] = []
    for label in labels:
        rng = random.Random(f"{seed}:{label.extra['index']}:vqa")
        index = int(label.extra["index"])
        out.extend(make(label, rng, index, data_source=source.data_source, dataset=source.dataset))
    return out, "camreasoner.qa.vqa.vqa_questions"


def assemble(out: Path, stage: Path, indices: Sequence[int], seed: int, identity: dict[str, Any],
             manifest_extra: dict[str, Any], source: Source, resumed: bool) -> SynthResult:  # fmt: skip
    """Write labels, binary and VQA files and the manifest from the staged records; move them into ``out``."""
    labels: list[ClipLabel] = []
    failed: list[dict[str, Any]] = []
    for index in indices:
        payload = json.loads((stage / "records" / f"{index:06d}.json").read_text(encoding="utf-8"))
        if "record" in payload:
            rec = payload["record"]
            labels.append(ClipLabel(rec["path"], rec["primitives"],
                                    {k: v for k, v in rec.items() if k not in ("path", "primitives")}))  # fmt: skip
        else:
            failed.append({"index": index, "error": payload["error"]})
    if not labels:
        raise CamReasonerError(f"{out}: every clip failed (first: {failed[0]['error']}); nothing written")
    write_labels(stage / "labels.jsonl", labels)
    binary = binary_questions(labels, source)
    write_questions(stage / "binary.json", binary)
    vqa, vqa_note = vqa_questions(labels, seed, source)
    if vqa is not None:
        write_questions(stage / "vqa.json", vqa)
    counts = {
        "clips": len(labels),
        "binary_questions": len(binary),
        "vqa_questions": len(vqa) if vqa is not None else 0,
        "recipes": {
            k: sum(1 for lab in labels if lab.extra["recipe"]["kind"] == k)
            for k in sorted({lab.extra["recipe"]["kind"] for lab in labels})
        },  # fmt: skip
        "true": {p: sum(1 for lab in labels if lab.primitives[p] is True) for p in PRIMITIVES},
        "null": {p: sum(1 for lab in labels if lab.primitives[p] is None) for p in PRIMITIVES},
    }
    manifest = {**identity, "counts": counts, "failed": failed, "vqa": vqa_note, **manifest_extra}
    if (out / "clips").exists():
        shutil.rmtree(out / "clips")
    os.replace(stage / "clips", out / "clips")
    for name in ("labels.jsonl", "binary.json", "vqa.json"):
        if (stage / name).exists():
            os.replace(stage / name, out / name)
    write_json_atomic(out / "synth.json", manifest)
    shutil.rmtree(stage)
    return SynthResult(out, len(labels), failed, "resumed" if resumed else "written", vqa_note,
                       str(manifest_extra.get("textures", "")), list(manifest_extra.get("source_warnings", [])))  # fmt: skip
