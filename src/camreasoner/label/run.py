"""``camreasoner label``: expand the inputs, label each video (in process, a process pool or Ray
Data tasks), store each result as it finishes, then assemble the outputs and the manifest.

Resumable exactly: OUT/work/run.json fixes the inputs and options; every finished video is one
atomic Parquet part; a restart labels only the videos without a part; the outputs and label.json
(the finished marker) are rewritten whole at the end. Rows depend only on the inputs and the
options, never on --workers or Ray.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic
from camreasoner.core.workers import spawn_pool
from camreasoner.label.inputs import expand_inputs, video_root
from camreasoner.label.options import LabelOptions, TimelineOptions
from camreasoner.label.outputs import write_outputs
from camreasoner.label.store import read_parts, write_part
from camreasoner.label.video import label_video

FORMAT = "camreasoner-label"
FORMAT_VERSION = 1
# Fault injection for the resume tests and benchmark: SIGKILL this process after storing N videos,
# or at a named point ("assemble": after the row files, before label.json).
CRASH_AFTER_ENV = "CAMREASONER_LABEL_CRASH_AFTER"
CRASH_AT_ENV = "CAMREASONER_LABEL_CRASH_AT"


@dataclass
class LabelResult:
    """What a run did: the manifest, whether it was already finished, the failed count."""

    manifest: dict[str, Any]
    already_done: bool
    failed: int
    out: Path


def _crash(point: str) -> None:
    if os.environ.get(CRASH_AT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


def _options_from(data: dict[str, Any]) -> LabelOptions:
    data = dict(data)
    data["timeline"] = TimelineOptions(**data.get("timeline", {}))
    return LabelOptions(**data)


def _identity(videos: list[str], root: str, opts: LabelOptions) -> dict[str, Any]:
    digest = hashlib.sha1("\n".join(videos).encode()).hexdigest()
    return {"format": FORMAT, "version": FORMAT_VERSION, "videos": len(videos), "videos_sha1": digest,
            "video_root": root, "options": {**opts.identity(), "video_root": root}}


def _difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    if old.get("videos_sha1") != new.get("videos_sha1"):
        return f"other inputs ({old.get('videos')} videos listed before, {new.get('videos')} now)"
    a, b = old.get("options", {}), new.get("options", {})
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            return f"other options ({k}: {a.get(k)!r} before, {b.get(k)!r} now)"
    return "another format"


def _with_defaults(recorded: dict[str, Any]) -> dict[str, Any]:
    """A recorded identity with the options it lacks (added to LabelOptions since it was written)
    at their defaults."""
    options = recorded.get("options")
    if not isinstance(options, dict):
        return recorded
    return {**recorded, "options": {**LabelOptions().identity(), **options}}


def _check_out(out: Path, identity: dict[str, Any]) -> bool:
    """True when OUT already holds this run finished; raise when it holds anything else."""
    run_file = out / "work" / "run.json"
    if run_file.is_file():
        old = _with_defaults(json.loads(run_file.read_text(encoding="utf-8")))
        if old != identity:
            raise CamReasonerError(f"{out}: holds a labelling run with {_difference(old, identity)}; "
                                   "use another --out or the same command")
        return (out / "label.json").is_file()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CamReasonerError(f"{out}: exists and is not an empty folder or a labelling run")
    write_json_atomic(run_file, identity)
    return False


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _job(args: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    video, rel, opt = args
    return label_video(video, rel, _options_from(opt))


def _ray_label(row: dict[str, Any], opt: dict[str, Any], root: str) -> dict[str, Any]:
    video = row["video"]
    result = label_video(video, os.path.relpath(video, root), _options_from(opt))
    return {"video": video, "result": json.dumps(result)}


def _run_local(jobs: list[tuple[str, str, dict]], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1:
        _init_cv = __import__("cv2")
        _init_cv.setNumThreads(1)
        for job in jobs:
            yield _job(job)
        return
    with spawn_pool(workers, _init_worker) as pool:
        futures = [pool.submit(_job, job) for job in jobs]
        for fut in as_completed(futures):
            yield fut.result()


def _run_ray(jobs: list[tuple[str, str, dict]], parts: Path, opts: LabelOptions, root: str,
             on_done: Callable[[int], None]) -> None:
    """Ray Data: the list as a dataset, one labelling task per video, Parquet parts written by the tasks."""
    try:
        import ray
    except ImportError:
        raise CamReasonerError("--ray-address needs Ray: pip install 'ray[data]'") from None
    try:
        if opts.ray_address == "local":
            ray.init(num_cpus=opts.workers, include_dashboard=False, ignore_reinit_error=True,
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=opts.ray_address, ignore_reinit_error=True, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CamReasonerError(f"--ray-address {opts.ray_address}: cannot reach a Ray cluster ({first})") from None
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = opts.progress
    ds = ray.data.from_items([{"video": v} for v, _, _ in jobs], override_num_blocks=len(jobs))
    ds = ds.map(_ray_label, fn_kwargs={"opt": jobs[0][2], "root": root})
    ds.write_parquet(str(parts), min_rows_per_file=1)
    on_done(len(jobs))


class _Progress:
    """rich progress: videos and shots done, video-seconds labelled per second, ETA."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.enabled = enabled
        self.shots = 0
        self.seconds = 0.0
        self.t0 = time.monotonic()
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("videos"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[info]}"), TimeRemainingColumn())
            self.bar.start()
            self.task = self.bar.add_task("label", total=total, completed=done, info="")

    def advance(self, result: dict[str, Any] | None, n: int = 1) -> None:
        if result is not None:
            self.shots += len(result["rows"])
            self.seconds += float(result.get("duration") or 0.0)
        if self.enabled:
            rate = self.seconds / max(time.monotonic() - self.t0, 1e-6)
            self.bar.update(self.task, advance=n, info=f"{self.shots} shots, {rate:.1f} video-s/s")

    def close(self) -> None:
        if self.enabled:
            self.bar.stop()


def run_label(inputs: list[str], out: str | os.PathLike[str], opts: LabelOptions) -> LabelResult:
    """Label every video of ``inputs`` into ``out`` (see the module docstring)."""
    opts.check()
    if opts.backend != "geometric":
        from camreasoner.label.ask import backend_for, release_backends

        backend_for(opts.backend, opts.backend_options)  # a bad name or option fails here, before any work
        if opts.workers > 1 or opts.ray_address:
            release_backends()  # each worker builds its own; the driver keeps no model
    out = Path(out)
    videos = expand_inputs(inputs)
    root = os.path.abspath(opts.video_root) if opts.video_root else video_root(videos)
    identity = _identity(videos, root, opts)
    if _check_out(out, identity):
        manifest = json.loads((out / "label.json").read_text(encoding="utf-8"))
        return LabelResult(manifest, True, int(manifest["counts"]["failed"]), out)
    parts = out / "work" / "parts"
    started = time.time()
    done = read_parts(parts)
    opt = {**opts.settings(), "video_root": root}
    jobs = [(v, os.path.relpath(os.path.abspath(v), root), opt) for v in videos if v not in done]
    crash_after = int(os.environ.get(CRASH_AFTER_ENV, "0") or 0)
    progress = _Progress(len(videos), len(videos) - len(jobs), opts.progress)
    stored = 0
    try:
        if jobs and opts.ray_address:
            _run_ray(jobs, parts, opts, root, lambda n: progress.advance(None, n))
        elif jobs:
            for result in _run_local(jobs, opts.workers):
                write_part(parts, result)
                stored += 1
                progress.advance(result)
                if crash_after and stored >= crash_after:
                    os.kill(os.getpid(), signal.SIGKILL)
    finally:
        progress.close()
    done = read_parts(parts)
    missing = [v for v in videos if v not in done]
    if missing:
        raise CamReasonerError(f"{out}: {len(missing)} videos were not labelled (first: {missing[0]}); run again",
                               exit_code=1)
    rows = [row for v in videos for row in done[v]["rows"]]
    errors = [{"path": v, "reason": done[v]["error"]} for v in videos if done[v]["error"]]
    write_outputs(out, rows, errors)
    _crash("assemble")
    seconds = sum(float(done[v]["duration"] or 0.0) for v in videos if not done[v]["error"])
    wall = time.time() - started
    manifest = {
        **identity,
        "inputs": list(inputs),
        "counts": {"videos": len(videos), "labelled": len(videos) - len(errors), "failed": len(errors),
                   "shots": len(rows), "video_seconds": round(seconds, 3)},
        "timings": {"wall_s_last_invocation": round(wall, 3), "labelled_this_invocation": len(jobs),
                    "workers": opts.workers, "ray_address": opts.ray_address},
        "files": ["shots.parquet", "shots.jsonl", "labels.jsonl", "errors.jsonl"],
    }
    write_json_atomic(out / "label.json", manifest)
    return LabelResult(manifest, False, len(errors), out)
