"""Run a backend over a question file: resolve videos, group items per video, answer, record.

Items are grouped per video so each video is decoded once (one ``Backend.answer`` call per
video). With ``workers > 1`` the groups go to a process pool, each process holding its own
backend. Records are appended to ``predictions.jsonl`` as groups finish; ``resume`` skips every
item with a complete record. Missing videos become error records (counted in ``n_errors``),
never dropped; a video root that matches no video at all stops the run at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from camreasoner.backends.base import Backend, BackendItem, BackendResponse, get_backend
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic
from camreasoner.core.ota import is_strict_format
from camreasoner.core.taxonomy import YES_LETTER, skill_of
from camreasoner.evaluate.config import EvalConfig
from camreasoner.formats.predictions import PREDICTIONS, PredictionWriter, item_key, read_predictions
from camreasoner.formats.questions import Question, read_questions

RUN_FILE = "run.json"


@dataclass
class RunTimings:
    """Where the time of a run went (seconds). ``answer_s`` sums Backend.answer over all groups."""

    wall_s: float = 0.0
    setup_s: float = 0.0
    backend_init_s: float = 0.0
    answer_s: float = 0.0
    worker_other_s: float = 0.0
    record_s: float = 0.0
    finalize_s: float = 0.0
    workers: int = 1

    @property
    def evaluator_s(self) -> float:
        """The evaluator's own time on the critical path: everything but backend init and answer."""
        return self.setup_s + self.record_s + self.finalize_s + self.worker_other_s / max(self.workers, 1)


@dataclass
class RunResult:
    """What a run produced."""

    out: Path
    n_items: int
    n_done_before: int
    n_answered: int
    metrics: dict[str, Any]
    timings: RunTimings


def _video_path(root: str | None, rel: str) -> str:
    return str(Path(root) / rel) if root is not None else rel


def _is_readable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def backend_item(q: Question, video: str) -> BackendItem:
    """The backend's view of question ``q`` about ``video``."""
    return BackendItem(video=video, question=q.question, options=tuple(q.options), id=q.id)


def make_record(index: int, q: Question, video: str, resp: BackendResponse, seconds: float) -> dict[str, Any]:
    """One predictions.jsonl record."""
    letters = q.letters
    ok = isinstance(resp.letter, str) and len(resp.letter) == 1 and resp.letter in letters
    letter = resp.letter if ok else None
    probs = {k: float(v) for k, v in (resp.option_probs or {}).items()}
    score = None
    if q.is_binary and resp.error is None and YES_LETTER in probs:
        score = probs[YES_LETTER]
    return {
        "key": item_key(index, q.id),
        "index": index,
        "id": q.id,
        "problem_id": q.problem_id,
        "kind": "binary" if q.is_binary else "vqa",
        "primitive": q.primitive,
        "skill": None if q.is_binary else skill_of(q.problem_id),
        "pair_id": q.extra.get("pair_id"),
        "video": q.path,
        "video_path": video,
        "question": q.question,
        "options": list(q.options),
        "answer": q.answer,
        "letter": letter,
        "option_probs": probs,
        "score": score,
        "correct": None if q.answer is None else letter == q.answer,
        "strict_format": None if resp.error else is_strict_format(resp.text or "", letters),
        "error": resp.error,
        "text": resp.text,
        "seconds": round(seconds, 6),
    }


def _answer_group(
    backend: Backend, items: list[BackendItem]
) -> tuple[list[BackendResponse], float, float]:
    """Answer one video's items; a raising backend turns into one error per item."""
    t0 = time.perf_counter()
    try:
        responses = list(backend.answer(items))
        if len(responses) != len(items):
            raise RuntimeError(f"returned {len(responses)} responses for {len(items)} items")
    except Exception as exc:  # a backend bug must not stop the batch: record it and go on
        msg = f"backend {getattr(backend, 'name', '?')} failed: {type(exc).__name__}: {exc}"
        responses = [BackendResponse("", None, {}, error=msg) for _ in items]
    t1 = time.perf_counter()
    return responses, t1 - t0, t1


# --- worker processes -------------------------------------------------------------------------

_WORKER_BACKEND: Backend | None = None
_WORKER_INIT_S: float | None = None


def _init_worker(name: str, options: dict[str, Any]) -> None:
    global _WORKER_BACKEND, _WORKER_INIT_S
    t0 = time.perf_counter()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    _WORKER_BACKEND = get_backend(name, **options)
    _WORKER_INIT_S = time.perf_counter() - t0


def _worker_task(items: list[BackendItem]) -> tuple[list[BackendResponse], float, float, float]:
    """Answer one group in a worker: responses, answer seconds, other seconds, init seconds (once)."""
    global _WORKER_INIT_S
    t0 = time.perf_counter()
    assert _WORKER_BACKEND is not None
    responses, answer_s, t_end = _answer_group(_WORKER_BACKEND, items)
    init_s, _WORKER_INIT_S = _WORKER_INIT_S or 0.0, None
    return responses, answer_s, (t_end - t0) - answer_s, init_s


def _preimport(report: bool) -> None:
    """Import the metric and plotting libraries (run in a thread while workers answer)."""
    import sklearn.metrics  # noqa: F401

    if report:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401


# --- planning ---------------------------------------------------------------------------------


def _check_run_file(out: Path, cfg: EvalConfig, n_items: int) -> None:
    run_file = out / RUN_FILE
    identity = {"bench": str(Path(cfg.bench).resolve()), "n_items": n_items, "backend": cfg.backend}
    if run_file.exists():
        try:
            prev = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CamReasonerError(f"{run_file}: unreadable ({exc})") from None
        for key, value in identity.items():
            if prev.get(key) != value:
                raise CamReasonerError(
                    f"{out}: --resume of a different run ({key} was {prev.get(key)!r}, now {value!r})"
                )
    opts = {k: v for k, v in cfg.backend_options.items() if k != "api_key"}
    write_json_atomic(run_file, {**identity, "video_root": cfg.video_root, "backend_options": opts})


def _done_keys(out: Path, cfg: EvalConfig, questions: Sequence[Question]) -> set[str]:
    pred_path = out / PREDICTIONS
    records = read_predictions(pred_path, repair=cfg.resume)
    if records and not cfg.resume:
        raise CamReasonerError(
            f"{out}: already holds {len(records)} predictions; pass --resume to continue it or choose another --out"
        )
    keys: set[str] = set()
    for rec in records:
        idx = rec.get("index")
        if not isinstance(idx, int) or idx >= len(questions) or rec["key"] != item_key(idx, questions[idx].id):
            raise CamReasonerError(f"{pred_path}: record {rec['key']!r} does not match {cfg.bench}")
        keys.add(rec["key"])
    return keys


def _resolve_videos(cfg: EvalConfig, planned: list[tuple[int, Question]]) -> dict[str, str | None]:
    """Relative path -> absolute path, or None when the video is missing or unreadable."""
    paths = list(dict.fromkeys(q.path for _, q in planned))
    found = {p: _video_path(cfg.video_root, p) for p in paths}
    ok = {p: v if _is_readable_file(v) else None for p, v in found.items()}
    if paths and not any(ok.values()):
        raise CamReasonerError(
            f"--video-root {cfg.video_root}: matches none of the {len(paths)} videos of {cfg.bench} "
            f"(looked for {found[paths[0]]})"
        )
    return ok


def run_eval(cfg: EvalConfig, progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run (or resume) one evaluation and write predictions, metrics, scores and report."""
    from camreasoner.evaluate.summary import finalize

    timings = RunTimings(workers=max(cfg.workers, 1))
    t_start = time.perf_counter()
    if cfg.workers < 1:
        raise CamReasonerError(f"--workers must be at least 1, got {cfg.workers}")
    if cfg.limit is not None and cfg.limit < 1:
        raise CamReasonerError(f"--limit must be at least 1, got {cfg.limit}")
    questions = read_questions(cfg.bench)
    planned = list(enumerate(questions))[: cfg.limit]
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise CamReasonerError(f"--out {out}: exists and is not a directory")
    done = _done_keys(out, cfg, questions)

    backend: Backend | None = None
    if cfg.video_root is None:
        t0 = time.perf_counter()
        backend = get_backend(cfg.backend, **cfg.backend_options)
        timings.backend_init_s += time.perf_counter() - t0
        if getattr(backend, "needs_video", True):
            raise CamReasonerError(f"backend {cfg.backend!r} looks at videos: give --video-root DIR")
        videos: dict[str, str | None] = {q.path: q.path for _, q in planned}
    else:
        if not Path(cfg.video_root).is_dir():
            raise CamReasonerError(f"--video-root {cfg.video_root}: no such directory")
        videos = _resolve_videos(cfg, planned)
    out.mkdir(parents=True, exist_ok=True)  # only now: a run refused above leaves nothing behind
    _check_run_file(out, cfg, len(questions))

    todo = [(i, q) for i, q in planned if item_key(i, q.id) not in done]
    groups: dict[str, list[tuple[int, Question]]] = {}
    for i, q in todo:
        groups.setdefault(q.path, []).append((i, q))
    missing = {p: g for p, g in groups.items() if videos.get(p) is None}
    present = [(p, g) for p, g in groups.items() if videos.get(p) is not None]
    timings.setup_s = time.perf_counter() - t_start - timings.backend_init_s

    n_answered = 0
    pool: ProcessPoolExecutor | None = None
    pending: dict[Future[Any], tuple[list[tuple[int, Question]], str]] = {}
    if present and cfg.workers > 1:
        # Submit first: the workers fork now, before any progress-bar or pre-import thread exists.
        pool = ProcessPoolExecutor(
            max_workers=cfg.workers, initializer=_init_worker, initargs=(cfg.backend, cfg.backend_options)
        )
        for rel, group in present:
            video = videos[rel] or rel
            pending[pool.submit(_worker_task, [backend_item(q, video) for _, q in group])] = (group, video)
        # While the workers answer, import what the metrics and the report need.
        threading.Thread(target=_preimport, args=(cfg.report,), daemon=True).start()

    with PredictionWriter(out / PREDICTIONS) as writer:

        def record(group: list[tuple[int, Question]], video: str, responses: list[BackendResponse], secs: float) -> None:
            nonlocal n_answered
            t0 = time.perf_counter()
            per = secs / max(len(group), 1)
            writer.write(make_record(i, q, video, r, per) for (i, q), r in zip(group, responses, strict=True))
            n_answered += len(group)
            if progress:
                progress(n_answered, len(todo))
            timings.record_s += time.perf_counter() - t0

        try:
            for rel, group in missing.items():
                video = _video_path(cfg.video_root, rel)
                why = "missing video" if not os.path.exists(video) else "unreadable video"
                record(group, video, [BackendResponse("", None, {}, error=f"{why}: {video}") for _ in group], 0.0)

            if present and pool is None:
                if backend is None:
                    t0 = time.perf_counter()
                    backend = get_backend(cfg.backend, **cfg.backend_options)
                    timings.backend_init_s += time.perf_counter() - t0
                for rel, group in present:
                    video = videos[rel] or rel
                    responses, answer_s, _ = _answer_group(backend, [backend_item(q, video) for _, q in group])
                    timings.answer_s += answer_s
                    record(group, video, responses, answer_s)
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    group, video = pending.pop(fut)
                    try:
                        responses, answer_s, other_s, init_s = fut.result()
                    except Exception as exc:  # a worker died (e.g. killed): record, go on
                        msg = f"worker failed: {type(exc).__name__}: {exc}"
                        responses = [BackendResponse("", None, {}, error=msg) for _ in group]
                        answer_s = other_s = init_s = 0.0
                    timings.answer_s += answer_s
                    timings.worker_other_s += other_s
                    timings.backend_init_s += init_s / cfg.workers  # workers build backends in parallel
                    record(group, video, responses, answer_s)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    t0 = time.perf_counter()
    planned_keys = [item_key(i, q.id) for i, q in planned]
    metrics = finalize(out, cfg, questions, planned_keys)
    timings.finalize_s = time.perf_counter() - t0
    timings.wall_s = time.perf_counter() - t_start
    write_json_atomic(out / "timings.json", {**asdict(timings), "evaluator_s": timings.evaluator_s})
    return RunResult(out, len(planned), len(done), n_answered, metrics, timings)
