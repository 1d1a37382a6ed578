"""Run a backend over a question file: resolve videos, group items per video, answer, record.

Items are grouped per video so each video is decoded once (one ``Backend.answer`` call per
video). With ``workers > 1`` the groups go to a process pool, each process holding its own
backend. Records are appended to ``predictions.jsonl`` as groups finish; ``resume`` skips every
item with a complete, error-free record (failed items are answered again), and refuses a run
whose identity (backend, model, question file, video root, answer-changing options) differs.
Missing videos become error records (counted in ``n_errors``),
never dropped; a video root that matches no video at all stops the run at once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from camreasoner.backends.base import Backend, BackendItem, BackendResponse, get_backend
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.faults import crash_point
from camreasoner.core.io import write_json_atomic, write_jsonl_atomic
from camreasoner.core.ota import is_strict_format
from camreasoner.core.taxonomy import YES_LETTER, skill_of
from camreasoner.core.workers import spawn_pool
from camreasoner.evaluate.config import EvalConfig
from camreasoner.formats.official import read_bench
from camreasoner.formats.predictions import PREDICTIONS, PredictionWriter, item_key, read_predictions
from camreasoner.formats.questions import Question

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
    problem: str | None = None


def _video_path(root: str | None, rel: str) -> str:
    return str(Path(root) / rel) if root is not None else rel


def _is_readable_file(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.R_OK)


def backend_item(q: Question, video: str) -> BackendItem:
    """The backend's view of question ``q`` about ``video``."""
    return BackendItem(video=video, question=q.question, options=tuple(q.options), id=q.id)


def _kind(q: Question) -> str:
    """``pair`` (one combination of a CameraBench VQA pair), ``binary`` or ``vqa``."""
    if q.extra.get("combo"):
        return "pair"
    return "binary" if q.is_binary else "vqa"


def make_record(index: int, q: Question, video: str, resp: BackendResponse, seconds: float) -> dict[str, Any]:
    """One predictions.jsonl record."""
    letters = q.letters
    kind = _kind(q)
    ok = isinstance(resp.letter, str) and len(resp.letter) == 1 and resp.letter in letters
    letter = resp.letter if ok else None
    probs = {k: float(v) for k, v in (resp.option_probs or {}).items()}
    score = None
    if kind != "vqa" and resp.error is None and YES_LETTER in probs:
        score = probs[YES_LETTER]
    record = {
        "key": item_key(index, q.id),
        "index": index,
        "id": q.id,
        "problem_id": q.problem_id,
        "kind": kind,
        "primitive": q.primitive if kind == "binary" else None,
        "skill": q.extra["skill"] if kind == "pair" else None if kind == "binary" else skill_of(q.problem_id),
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
    if kind == "pair":
        record.update(pair=q.extra["pair"], combo=q.extra["combo"], task=q.extra["task"])
    return record


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

# Backend options that change the answers: a resume must keep them (transport options such as
# base_url, api_key, timeout, concurrency or batch_size may change).
IDENTITY_OPTIONS = ("hint", "fps", "max_frames", "max_pixels", "max_side", "temperature", "max_new_tokens",
                    "seed", "video_as", "dtype")


def _resolved(path: str | None) -> str | None:
    return None if path is None else str(Path(path).resolve())


def _model_identity(model: Any) -> Any:
    """A model given as a local path is named by its absolute path, a served name as it is."""
    if isinstance(model, str) and os.path.exists(model):
        return str(Path(model).resolve())
    return model


def run_identity(cfg: EvalConfig, n_items: int) -> dict[str, Any]:
    """What a resumed run must share with the run it continues."""
    options = cfg.backend_options
    return {
        "bench": _resolved(cfg.bench),
        "n_items": n_items,
        "backend": cfg.backend,
        "model": _model_identity(options.get("model")),
        "video_root": _resolved(cfg.video_root),
        "options": {k: options[k] for k in IDENTITY_OPTIONS if options.get(k) is not None},
    }


def _identity_difference(prev: dict[str, Any], now: dict[str, Any]) -> str | None:
    """The first difference between two identities, as ``what was X, now Y``; None if equal."""
    for key, value in now.items():
        if key == "options":
            continue
        if prev.get(key) != value:
            return f"{key} was {prev.get(key)!r}, now {value!r}"
    before, after = prev.get("options") or {}, now["options"]
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            return f"option {key} was {before.get(key)!r}, now {after.get(key)!r}"
    return None


def _check_run_file(out: Path, cfg: EvalConfig, n_items: int) -> None:
    """Refuse to continue a run of another backend, model, file, video root or options; record this one."""
    run_file = out / RUN_FILE
    identity = run_identity(cfg, n_items)
    if run_file.exists():
        try:
            prev = json.loads(run_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise CamReasonerError(f"{run_file}: unreadable ({exc})") from None
        diff = _identity_difference(prev, identity)
        if diff is not None:
            raise CamReasonerError(f"{out}: --resume of a different run ({diff}); choose another --out")
    opts = {k: v for k, v in cfg.backend_options.items() if k != "api_key"}
    write_json_atomic(run_file, {**identity, "backend_options": opts})


def _previous_records(out: Path, cfg: EvalConfig, questions: Sequence[Question]) -> list[dict[str, Any]]:
    """The complete records already in ``out`` (checked against the question file)."""
    pred_path = out / PREDICTIONS
    records = read_predictions(pred_path, repair=cfg.resume)
    if records and not cfg.resume:
        raise CamReasonerError(
            f"{out}: already holds {len(records)} predictions; pass --resume to continue it or choose another --out"
        )
    for rec in records:
        idx = rec.get("index")
        if not isinstance(idx, int) or idx >= len(questions) or rec["key"] != item_key(idx, questions[idx].id):
            raise CamReasonerError(f"{pred_path}: record {rec['key']!r} does not match {cfg.bench}")
    return records


def _drop_failed(out: Path, records: list[dict[str, Any]]) -> set[str]:
    """Keep only the error-free records (rewriting the file if any failed); their keys are done."""
    kept = [r for r in records if not r.get("error")]
    if len(kept) < len(records):
        write_jsonl_atomic(out / PREDICTIONS, kept)
    return {r["key"] for r in kept}


def _resolve_videos(cfg: EvalConfig, planned: list[tuple[int, Question]]) -> dict[str, str | None]:
    """Relative path -> absolute path, or None when the video is missing or unreadable."""
    if cfg.video_root is None:
        return {q.path: q.path for _, q in planned}
    if not Path(cfg.video_root).is_dir():
        raise CamReasonerError(f"--video-root {cfg.video_root}: no such directory")
    paths = list(dict.fromkeys(q.path for _, q in planned))
    found = {p: _video_path(cfg.video_root, p) for p in paths}
    ok = {p: v if _is_readable_file(v) else None for p, v in found.items()}
    if paths and not any(ok.values()):
        raise CamReasonerError(
            f"--video-root {cfg.video_root}: matches none of the {len(paths)} videos of {cfg.bench} "
            f"(looked for {found[paths[0]]})"
        )
    return ok


def _check_config(cfg: EvalConfig) -> None:
    if cfg.workers < 1:
        raise CamReasonerError(f"--workers must be at least 1, got {cfg.workers}")
    if cfg.limit is not None and cfg.limit < 1:
        raise CamReasonerError(f"--limit must be at least 1, got {cfg.limit}")
    if not 0.0 <= cfg.max_error_rate <= 1.0:
        raise CamReasonerError(f"--max-error-rate must be between 0 and 1, got {cfg.max_error_rate}")
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise CamReasonerError(f"--out {out}: exists and is not a directory")


def _videoless_backend(cfg: EvalConfig, timings: RunTimings) -> Backend | None:
    """Without --video-root, build the backend now: it must be one that ignores videos."""
    if cfg.video_root is not None:
        return None
    backend = _build_backend(cfg, timings)
    if getattr(backend, "needs_video", True):
        raise CamReasonerError(f"backend {cfg.backend!r} looks at videos: give --video-root DIR")
    return backend


def _build_backend(cfg: EvalConfig, timings: RunTimings) -> Backend:
    t0 = time.perf_counter()
    backend = get_backend(cfg.backend, **cfg.backend_options)
    timings.backend_init_s += time.perf_counter() - t0
    return backend


Group = list[tuple[int, Question]]


def _groups(todo: list[tuple[int, Question]], videos: dict[str, str | None]) -> tuple[dict[str, Group], dict[str, Group]]:
    """The items to answer per video: (videos that are missing, videos that are present)."""
    groups: dict[str, Group] = {}
    for i, q in todo:
        groups.setdefault(q.path, []).append((i, q))
    missing = {p: g for p, g in groups.items() if videos.get(p) is None}
    present = {p: g for p, g in groups.items() if videos.get(p) is not None}
    return missing, present


# --- answering --------------------------------------------------------------------------------

Answered = tuple[Group, str, list[BackendResponse], float]


class _Recorder:
    """Appends each answered group's records, counts them and reports progress."""

    def __init__(self, writer: PredictionWriter, total: int, timings: RunTimings,
                 progress: Callable[[int, int], None] | None) -> None:
        self.writer, self.total, self.timings, self.progress = writer, total, timings, progress
        self.n = 0

    def record(self, answered: Answered) -> None:
        group, video, responses, secs = answered
        t0 = time.perf_counter()
        per = secs / max(len(group), 1)
        self.writer.write(make_record(i, q, video, r, per) for (i, q), r in zip(group, responses, strict=True))
        crash_point("eval-recorded")  # tests kill the run here, after a group's records are flushed
        self.n += len(group)
        if self.progress:
            self.progress(self.n, self.total)
        self.timings.record_s += time.perf_counter() - t0


def _missing_answers(cfg: EvalConfig, missing: dict[str, Group]) -> Iterator[Answered]:
    for rel, group in missing.items():
        video = _video_path(cfg.video_root, rel)
        why = "missing video" if not os.path.exists(video) else "unreadable video"
        yield group, video, [BackendResponse("", None, {}, error=f"{why}: {video}") for _ in group], 0.0


def _serial_answers(backend: Backend, present: dict[str, Group], videos: dict[str, str | None],
                    timings: RunTimings) -> Iterator[Answered]:
    for rel, group in present.items():
        video = videos[rel] or rel
        responses, answer_s, _ = _answer_group(backend, [backend_item(q, video) for _, q in group])
        timings.answer_s += answer_s
        yield group, video, responses, answer_s


def _start_pool(cfg: EvalConfig, present: dict[str, Group], videos: dict[str, str | None]
                ) -> tuple[ProcessPoolExecutor, dict[Future[Any], tuple[Group, str]]]:
    """Start the (spawned, see camreasoner.core.workers) workers and submit every group."""
    pool = spawn_pool(cfg.workers, _init_worker, (cfg.backend, cfg.backend_options))
    pending = {}
    for rel, group in present.items():
        video = videos[rel] or rel
        pending[pool.submit(_worker_task, [backend_item(q, video) for _, q in group])] = (group, video)
    # While the workers answer, import what the metrics and the report need.
    threading.Thread(target=_preimport, args=(cfg.report,), daemon=True).start()
    return pool, pending


def _pool_answers(pending: dict[Future[Any], tuple[Group, str]], workers: int,
                  timings: RunTimings) -> Iterator[Answered]:
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
            timings.backend_init_s += init_s / workers  # workers build backends in parallel
            yield group, video, responses, answer_s


def _answer_all(cfg: EvalConfig, out: Path, todo_n: int, missing: dict[str, Group], present: dict[str, Group],
                videos: dict[str, str | None], backend: Backend | None, timings: RunTimings,
                progress: Callable[[int, int], None] | None) -> int:
    """Answer every group (missing videos first) and append the records; returns how many."""
    pool = pending = None
    if present and cfg.workers > 1:
        pool, pending = _start_pool(cfg, present, videos)
    try:
        with PredictionWriter(out / PREDICTIONS) as writer:
            recorder = _Recorder(writer, todo_n, timings, progress)
            for answered in _missing_answers(cfg, missing):
                recorder.record(answered)
            if pending is not None:
                answers = _pool_answers(pending, cfg.workers, timings)
            elif present:
                answers = _serial_answers(backend or _build_backend(cfg, timings), present, videos, timings)
            else:
                answers = iter(())
            for answered in answers:
                recorder.record(answered)
            return recorder.n
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def error_share_problem(metrics: dict[str, Any], max_error_rate: float) -> str | None:
    """Why a finished run is not to be trusted (no item succeeded, or too many failed); None if fine."""
    n, errors = metrics.get("n", 0), metrics.get("n_errors", 0)
    if n and errors >= n:
        return f"no item succeeded: all {errors} of {n} items failed"
    if n and errors / n > max_error_rate:
        return f"{errors} of {n} items failed ({errors / n:.1%}), more than --max-error-rate {max_error_rate:.0%}"
    return None


def run_eval(cfg: EvalConfig, progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run (or resume) one evaluation and write predictions, metrics, scores and report."""
    from camreasoner.evaluate.summary import finalize

    t_start = time.perf_counter()
    timings = RunTimings(workers=max(cfg.workers, 1))
    _check_config(cfg)
    questions = read_bench(cfg.bench)
    planned = list(enumerate(questions))[: cfg.limit]
    out = Path(cfg.out)
    previous = _previous_records(out, cfg, questions)
    backend = _videoless_backend(cfg, timings)
    videos = _resolve_videos(cfg, planned)
    out.mkdir(parents=True, exist_ok=True)  # only now: a run refused above leaves nothing behind
    _check_run_file(out, cfg, len(questions))
    done = _drop_failed(out, previous)  # failed items are answered again
    todo = [(i, q) for i, q in planned if item_key(i, q.id) not in done]
    missing, present = _groups(todo, videos)
    timings.setup_s = time.perf_counter() - t_start - timings.backend_init_s

    n_answered = _answer_all(cfg, out, len(todo), missing, present, videos, backend, timings, progress)

    t0 = time.perf_counter()
    metrics = finalize(out, cfg, questions, [item_key(i, q.id) for i, q in planned])
    timings.finalize_s = time.perf_counter() - t0
    timings.wall_s = time.perf_counter() - t_start
    write_json_atomic(out / "timings.json", {**asdict(timings), "evaluator_s": timings.evaluator_s})
    n_done = sum(item_key(i, q.id) in done for i, q in planned)
    return RunResult(out, len(planned), n_done, n_answered, metrics, timings,
                     problem=error_share_problem(metrics, cfg.max_error_rate))
