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
where it stopped and a finished directory never holds half-written files (camreasoner.synth.output).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import ClipLabel
from camreasoner.formats.questions import Question
from camreasoner.synth import output
from camreasoner.synth.effects import Effects, apply_photometric, sample_effects
from camreasoner.synth.output import (
    JobResult,
    Source,
    SynthResult,
    assemble,
    check_out_dir,
    finished_result,
    open_stage,
    run_jobs,
    save_result,
)
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
SOURCE = Source(DATA_SOURCE, "synth")


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
# Jobs and the data set directory (camreasoner.synth.output)


def _run_job(job: tuple[ClipPlan, int, SynthOptions, str]) -> JobResult:
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


def _identity(clips: int, seed: int, opts: SynthOptions) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "clips": clips,
        "seed": seed,
        "settings": opts.to_json(),
    }


_save_result = save_result


def binary_questions(labels: list[ClipLabel]) -> list[Question]:
    """All 15 binary questions of every clip (null labels skipped), ids ``<Primitive>_<clip index>``."""
    return output.binary_questions(labels, SOURCE)


def generate_dataset(out_dir: str | os.PathLike[str], clips: int, seed: int, *,
                     size: tuple[int, int] = (320, 240), fps: float = 12.0, seconds: float = 3.0,
                     primitives: list[str] | tuple[str, ...] | None = None, max_combo: int = 3,
                     distractors: float = 0.3, workers: int = 1, progress: bool = True,
                     effects: bool = True, recipes: list[str] | tuple[str, ...] | None = None,
                     ) -> SynthResult:  # fmt: skip
    """Write a synthetic data set to ``out_dir`` (see the module docstring). Same seed, same data set.

    Raises CamReasonerError for bad settings or an ``out_dir`` that holds anything else.
    ``recipes`` restricts the kinds of clip (trajectories.RECIPE_KINDS; EXTRA_RECIPE_KINDS such as
    ``sequence`` only by name). With ``workers`` > 1 the workers are spawned processes: call this from under ``if __name__ == "__main__":`` in a script.
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
    state = check_out_dir(out, identity)
    textures = texture_source()
    if state == "done":
        return finished_result(out)
    stage, done = open_stage(out, identity)
    todo = [p for p in plans if p.index not in done]
    jobs = [(p, seed, opts, str(stage)) for p in todo]
    run_jobs(_run_job, jobs, stage, workers, progress, total=clips, completed=clips - len(todo))
    return _assemble(out, stage, plans, seed, identity, textures, resumed=state == "resume")


def _assemble(out: Path, stage: Path, plans: list[ClipPlan], seed: int, identity: dict[str, Any],
              textures: str, resumed: bool) -> SynthResult:  # fmt: skip
    extra = {"textures": textures, "pose_convention": POSE_CONVENTION}
    return assemble(out, stage, [p.index for p in plans], seed, identity, extra, SOURCE, resumed)
