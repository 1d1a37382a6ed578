"""Synthetic data sets: plan, render (in parallel), encode and label clips; write labels, binary and VQA files.

Layout of a data set directory DIR::

    DIR/clips/*.mp4      H.264 clips
    DIR/labels.jsonl     one clip a line: path, 15 primitives (true/false/null), fps, size, n_frames,
                         seed, index, recipe, intrinsics (per frame [fx, fy, cx, cy]), poses (per frame
                         world-to-camera [R | t], 3x4), pose_convention
    DIR/binary.json      the 15 binary questions per clip (CameraBench format; null labels skipped)
    DIR/vqa.json         multiple-choice questions from camreasoner.qa.vqa.vqa_questions
    DIR/synth.json       manifest: settings, counts, texture source, failed clips (written last)

Work goes to DIR/.tmp first (clips and one record per finished clip), so an interrupted run resumes
where it stopped and a finished directory never holds half-written files.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_json_atomic
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import ClipLabel, write_labels
from camreasoner.formats.questions import Question, binary_question, write_questions
from camreasoner.synth.effects import Effects, apply_photometric, sample_effects
from camreasoner.synth.render import render_clip
from camreasoner.synth.scene import Camera, Scene, assign_textures, make_layout, size_backdrop
from camreasoner.synth.trajectories import (
    RECIPE_KINDS,
    ClipPlan,
    Trajectory,
    build_trajectory,
    plan_clips,
    validate_primitives,
    validate_recipes,
)

FORMAT = "camreasoner-synth"
FORMAT_VERSION = 1
POSE_CONVENTION = (
    "world_to_camera: X_cam = R @ X_world + t; world = first frame's camera (x right, y down, z forward)"
)
DATA_SOURCE = "camreasoner-synth"


@dataclass
class SynthOptions:
    """Settings of a data set (everything but its size and seed)."""

    width: int = 320
    height: int = 240
    fps: float = 12.0
    seconds: float = 3.0
    primitives: tuple[str, ...] = PRIMITIVES
    max_combo: int = 3
    distractors: float = 0.3
    recipes: tuple[str, ...] = RECIPE_KINDS
    effects: bool = True  # False: no shake, distractors, blur, noise or drift (for tests and figures)

    @property
    def n_frames(self) -> int:
        """Frames per clip."""
        return int(round(self.seconds * self.fps))

    def validate(self) -> None:
        """Raise CamReasonerError for impossible settings."""
        w, h = self.width, self.height
        if not (32 <= w <= 3840 and 32 <= h <= 2160):
            raise CamReasonerError(f"--size {w}x{h}: width must be 32-3840 and height 32-2160 pixels")
        if w % 2 or h % 2:
            raise CamReasonerError(f"--size {w}x{h}: width and height must be even (H.264 yuv420p)")
        if not (0 < self.fps <= 120) or not math.isfinite(self.fps):
            raise CamReasonerError(f"--fps {self.fps}: must be above 0 and at most 120")
        if not (0 < self.seconds <= 60) or not math.isfinite(self.seconds):
            raise CamReasonerError(f"--seconds {self.seconds}: must be above 0 and at most 60")
        if self.n_frames < 2:
            raise CamReasonerError(
                f"--seconds {self.seconds} at --fps {self.fps} gives {self.n_frames} frame(s); need 2"
            )
        if not 1 <= self.max_combo <= 4:
            raise CamReasonerError(f"--max-combo {self.max_combo}: must be 1 to 4")
        if not 0.0 <= self.distractors <= 1.0:
            raise CamReasonerError(f"--distractors {self.distractors}: must be a probability in [0, 1]")

    def to_json(self) -> dict[str, Any]:
        """JSON-able settings (the manifest's identity of a data set, with clips and seed)."""
        d = asdict(self)
        d["primitives"] = list(self.primitives)
        d["recipes"] = list(self.recipes)
        return d


@dataclass
class SynthClip:
    """One rendered clip before encoding: frames, labels, and the geometry that made them."""

    plan: ClipPlan
    frames: list[np.ndarray]
    labels: dict[str, bool | None]
    scene: Scene
    cameras: list[Camera]
    times: list[float]
    trajectory: Trajectory
    effects: Effects
    hfov_deg: float
    extra: dict[str, Any] = field(default_factory=dict)

    def record_extra(self, seed: int, opts: SynthOptions) -> dict[str, Any]:
        """The extra keys of this clip's labels line."""
        return {
            "fps": opts.fps,
            "size": [opts.width, opts.height],
            "n_frames": len(self.frames),
            "seed": seed,
            "index": self.plan.index,
            "recipe": {
                **self.trajectory.to_json(),
                "effects": self.effects.to_json(),
                "hfov_deg": round(self.hfov_deg, 3),
                "depths_m": {
                    "near": round(self.scene.near_depth, 3),
                    "mid": round(self.scene.mid_depth, 3),
                    "far": round(self.scene.far_depth, 3),
                },  # fmt: skip
            },
            "intrinsics": [[round(x, 6) for x in c.intrinsics()] for c in self.cameras],
            "poses": [[[round(x, 9) for x in row] for row in c.pose()] for c in self.cameras],
            "pose_convention": POSE_CONVENTION,
        }


def clip_rngs(seed: int, plan: ClipPlan) -> tuple[np.random.Generator, np.random.Generator, list[int]]:
    """(clip rng, pair rng, scene seed key) from the data set seed and the clip index only."""
    clip_rng = np.random.default_rng(np.random.SeedSequence([seed, plan.index, 1]))
    scene_index = plan.pair if plan.pair is not None else plan.index
    pair_rng = np.random.default_rng(np.random.SeedSequence([seed, scene_index, 2]))
    return clip_rng, pair_rng, [seed, scene_index, 3]


def synthesize_clip(plan: ClipPlan, seed: int, opts: SynthOptions) -> SynthClip:
    """Render one planned clip (no file I/O). Deterministic in (plan, seed, opts)."""
    clip_rng, pair_rng, scene_key = clip_rngs(seed, plan)
    scene_rng = np.random.default_rng(np.random.SeedSequence(scene_key))
    effects = sample_effects(clip_rng, opts.distractors) if opts.effects else Effects()
    if plan.kind == "static_subjects":
        effects.n_distractors = max(effects.n_distractors, 1 + int(clip_rng.integers(0, 2)))
    if plan.pair is not None and opts.effects:
        # Both clips of a confusable pair share their scene, distractors included.
        pair_scene_rng = np.random.default_rng(np.random.SeedSequence([*scene_key, 4]))
        effects.n_distractors = (
            int(pair_scene_rng.integers(1, 3)) if pair_scene_rng.random() < opts.distractors else 0
        )
    hfov = float(scene_rng.uniform(45.0, 65.0))
    scene = make_layout(scene_rng, hfov, opts.height / opts.width, n_distractors=effects.n_distractors)
    n = opts.n_frames
    duration = (n - 1) / opts.fps
    traj = build_trajectory(plan, clip_rng, pair_rng, scene.near_depth, duration, effects.shake)
    if traj.shake is None:
        effects.shake = None
    f0 = (opts.width / 2) / math.tan(math.radians(hfov) / 2)
    cx, cy = (opts.width - 1) / 2, (opts.height - 1) / 2
    times = [k / (n - 1) for k in range(n)]
    cameras = [traj.camera(s, f0, cx, cy) for s in times]
    blur_times = blur_cams = None
    every = list(cameras)
    if effects.blur:
        half = 0.25 / (n - 1)  # shutter open for half a frame interval
        blur_times = [[min(max(s + d, 0.0), 1.0) for d in (-half, 0.0, half)] for s in times]
        blur_cams = [[traj.camera(t, f0, cx, cy) for t in ts] for ts in blur_times]
        every += [c for cams in blur_cams for c in cams]
    size_backdrop(scene, every, opts.width, opts.height)
    assign_textures(scene, every, scene_key)
    frames = render_clip(scene, cameras, times, opts.width, opts.height, blur_cams, blur_times)
    frames = apply_photometric(frames, effects, int(clip_rng.integers(2**31)))
    return SynthClip(plan, frames, traj.labels(), scene, cameras, times, traj, effects, hfov)


def single_plan(primitive: str, index: int = 0, kind: str = "single") -> ClipPlan:
    """A plan for one clip of ``primitive`` ("Static" gives a static clip); handy for tests and figures."""
    if primitive == "Static":
        return ClipPlan(index, "static", ())
    return ClipPlan(index, kind, (primitive,))


def clip_name(seed: int, index: int) -> str:
    """The relative path of clip ``index``."""
    return f"clips/s{seed}_{index:06d}.mp4"


# ----------------------------------------------------------------------------------------------
# Workers


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)
    # Ctrl-C reaches the whole process group: the parent alone handles it (and ends the workers).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _run_job(job: tuple[ClipPlan, int, SynthOptions, str]) -> tuple[int, dict[str, Any] | None, str | None]:
    """Render, encode and label one clip into the staging directory; errors are returned, not raised."""
    from camreasoner.synth.writer import write_mp4

    plan, seed, opts, stage = job
    try:
        clip = synthesize_clip(plan, seed, opts)
        rel = clip_name(seed, plan.index)
        write_mp4(Path(stage) / rel, clip.frames, opts.fps, crf=clip.effects.crf)
        record = ClipLabel(rel, clip.labels, clip.record_extra(seed, opts)).to_record()
        return plan.index, record, None
    except Exception as exc:  # noqa: BLE001 - a bad clip is recorded and the batch goes on
        return plan.index, None, f"{type(exc).__name__}: {exc}"


# ----------------------------------------------------------------------------------------------
# Output directory checks, staging and assembly


def _identity(clips: int, seed: int, opts: SynthOptions) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "clips": clips,
        "seed": seed,
        "settings": opts.to_json(),
    }


def _check_out_dir(out: Path, identity: dict[str, Any]) -> str:
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
        if info.get("format") == FORMAT and {k: info.get(k) for k in identity} == identity:
            return "done"
        differ = [k for k in ("clips", "seed", "settings") if info.get(k) != identity[k]] or ["format"]
        raise CamReasonerError(
            f"{out}: holds another data set ({info.get('clips')} clips, seed {info.get('seed')}; "
            f"different {', '.join(differ)}); choose a new --out"
        )
    if entries == [".tmp"]:
        stage_manifest = out / ".tmp" / "synth.json"
        try:
            info = json.loads(stage_manifest.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            info = {}
        if info == identity:
            return "resume"
        raise CamReasonerError(
            f"{out}: holds an unfinished data set with other settings; remove it or choose a new --out"
        )
    raise CamReasonerError(f"{out}: not empty (holds {entries[0]!r}); choose an empty or new --out directory")


def _vqa_questions(labels: list[ClipLabel], seed: int) -> tuple[list[Question] | None, str]:
    """The VQA questions of every clip via camreasoner.qa.vqa (issue 6), or None and why not."""
    try:
        from camreasoner.qa.vqa import vqa_questions
    except ImportError as exc:
        return None, f"camreasoner.qa.vqa unavailable ({exc})"
    out: list[Question] = []
    for label in labels:
        rng = random.Random(f"{seed}:{label.extra['index']}:vqa")
        index = int(label.extra["index"])
        out.extend(vqa_questions(label, rng, index, data_source=DATA_SOURCE, dataset="synth"))
    return out, "camreasoner.qa.vqa.vqa_questions"


def binary_questions(labels: list[ClipLabel]) -> list[Question]:
    """All 15 binary questions of every clip (null labels skipped), ids ``<Primitive>_<clip index>``."""
    out = []
    for label in labels:
        for p in PRIMITIVES:
            value = label.primitives.get(p)
            if value is None:
                continue
            out.append(binary_question(p, label.path, value, int(label.extra["index"]),
                                       data_source=DATA_SOURCE, dataset="synth"))  # fmt: skip
    return out


@dataclass
class SynthResult:
    """What generate_dataset did."""

    out_dir: Path
    clips: int
    failed: list[dict[str, Any]]
    status: str  # "written" | "resumed" | "already complete"
    vqa: str
    textures: str


def generate_dataset(out_dir: str | os.PathLike[str], clips: int, seed: int, *,
                     size: tuple[int, int] = (320, 240), fps: float = 12.0, seconds: float = 3.0,
                     primitives: list[str] | tuple[str, ...] | None = None, max_combo: int = 3,
                     distractors: float = 0.3, workers: int = 1, progress: bool = True,
                     effects: bool = True, recipes: list[str] | tuple[str, ...] | None = None,
                     ) -> SynthResult:  # fmt: skip
    """Write a synthetic data set to ``out_dir`` (see the module docstring). Same seed, same data set.

    Raises CamReasonerError for bad settings or an ``out_dir`` that holds anything else.
    ``recipes`` restricts the kinds of clip (trajectories.RECIPE_KINDS). With ``workers`` > 1 the
    workers are spawned processes: call this from under ``if __name__ == "__main__":`` in a script.
    """
    from camreasoner.synth.textures import texture_source

    if clips < 1:
        raise CamReasonerError(f"--clips must be at least 1 (got {clips})")
    if workers < 1:
        raise CamReasonerError(f"--workers must be at least 1 (got {workers})")
    opts = SynthOptions(
        width=size[0],
        height=size[1],
        fps=float(fps),
        seconds=float(seconds),
        primitives=validate_primitives(list(primitives or [])),
        max_combo=int(max_combo),
        distractors=float(distractors),
        recipes=validate_recipes(list(recipes or [])),
        effects=effects,
    )
    opts.validate()
    plans = plan_clips(clips, seed, opts.primitives, opts.max_combo, opts.recipes)  # checks the mix too
    out = Path(out_dir)
    identity = _identity(clips, seed, opts)
    state = _check_out_dir(out, identity)
    textures = texture_source()
    if state == "done":
        info = json.loads((out / "synth.json").read_text(encoding="utf-8"))
        return SynthResult(out, info["counts"]["clips"], info.get("failed", []), "already complete",
                           info.get("vqa", ""), info.get("textures", ""))  # fmt: skip
    stage = out / ".tmp"
    (stage / "clips").mkdir(parents=True, exist_ok=True)
    (stage / "records").mkdir(exist_ok=True)
    write_json_atomic(stage / "synth.json", identity)
    done = {
        int(p.stem)
        for p in (stage / "records").glob("*.json")
        if '"record"' in p.read_text(encoding="utf-8")[:12]
    }
    todo = [p for p in plans if p.index not in done]
    jobs = [(p, seed, opts, str(stage)) for p in todo]
    _run_jobs(jobs, stage, workers, progress, total=clips, completed=clips - len(todo))
    return _assemble(out, stage, plans, seed, identity, textures, resumed=state == "resume")


def _save_result(stage: Path, index: int, record: dict[str, Any] | None, error: str | None) -> None:
    payload = {"record": record} if record is not None else {"error": error, "index": index}
    write_json_atomic(stage / "records" / f"{index:06d}.json", payload, indent=None)


def _run_jobs(jobs: list, stage: Path, workers: int, progress: bool, total: int, completed: int) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("synth"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    previous = None
    if threading.current_thread() is threading.main_thread():
        # SIGTERM ends the run like Ctrl-C: workers stopped, finished clips kept for a resume.
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    if workers > 1 and len(jobs) > 1:
        ctx = multiprocessing.get_context("spawn")  # fork would copy OpenCV's thread pool
        pool = ctx.Pool(min(workers, len(jobs)), initializer=_init_worker)
        results = pool.imap_unordered(_run_job, jobs, chunksize=1)
    else:
        pool = None
        results = map(_run_job, jobs)
    try:
        with Progress(*columns, disable=not progress, transient=False) as bar:
            task = bar.add_task("synth", total=total, completed=completed)
            for index, record, error in results:
                _save_result(stage, index, record, error)
                bar.advance(task)
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _assemble(out: Path, stage: Path, plans: list[ClipPlan], seed: int, identity: dict[str, Any],
              textures: str, resumed: bool) -> SynthResult:  # fmt: skip
    labels: list[ClipLabel] = []
    failed: list[dict[str, Any]] = []
    for plan in plans:
        payload = json.loads((stage / "records" / f"{plan.index:06d}.json").read_text(encoding="utf-8"))
        if "record" in payload:
            rec = payload["record"]
            labels.append(ClipLabel(rec["path"], rec["primitives"],
                                    {k: v for k, v in rec.items() if k not in ("path", "primitives")}))  # fmt: skip
        else:
            failed.append({"index": plan.index, "error": payload["error"]})
    if not labels:
        raise CamReasonerError(f"{out}: every clip failed (first: {failed[0]['error']}); nothing written")
    write_labels(stage / "labels.jsonl", labels)
    binary = binary_questions(labels)
    write_questions(stage / "binary.json", binary)
    vqa, vqa_note = _vqa_questions(labels, seed)
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
    manifest = {**identity, "counts": counts, "failed": failed, "textures": textures, "vqa": vqa_note,
                "pose_convention": POSE_CONVENTION}  # fmt: skip
    if (out / "clips").exists():
        shutil.rmtree(out / "clips")
    os.replace(stage / "clips", out / "clips")
    for name in ("labels.jsonl", "binary.json", "vqa.json"):
        if (stage / name).exists():
            os.replace(stage / name, out / name)
    write_json_atomic(out / "synth.json", manifest)
    shutil.rmtree(stage)
    return SynthResult(out, len(labels), failed, "resumed" if resumed else "written", vqa_note, textures)
