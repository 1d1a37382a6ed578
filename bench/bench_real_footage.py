"""Camera motion on real footage: the geometric observer beside Open-Sora's flow tagger, one table.

Sets (every one generated with a fixed seed, so anyone gets the same clips):

- semi-real ``vtest`` (opencv-doc's pedestrians, a fixed camera) and ``tree-hand`` (opencv-doc's
  ``tree.avi`` from 23.4 s on, where a hand moves over half of a fixed webcam's view), each through
  the virtual camera of
  ``camreasoner synth --from-video``: REPORT sets (never tuned on) of both, and a CALIBRATION set
  of vtest only (another seed; the observer's thresholds may be tuned on it), so tree.avi is a
  source no calibration has seen;
- rendered: ``camreasoner synth`` with effects on, a seed no calibration uses;
- real shots of the sample clips, labelled by eye (bench/data/real_shots.jsonl; see
  docs/synthetic-data.md for how they were judged); unsure labels are null and left out. Role
  ``informed``: they measured the design and then informed rules (see ``TUNED_ON``);
- held-out real shots (bench/data/heldout_shots.jsonl): clips of three more Debian packages
  (``make bench-data`` unpacks them), labelled by eye before any reader ran on them; their first
  run informed one change (see ``TUNED_ON``), so their role is ``informed`` too; and a second
  batch (bench/data/heldout2_shots.jsonl, two more packages) labelled after that change and never
  tuned on (role ``report``), and a third (bench/data/heldout3_shots.jsonl: fixed-camera shots of
  python3-mecavideo's physics-class videos, people and pucks moving in front of the camera), role
  ``informed`` since two of its still shots led Static to the fitted motion (see ``TUNED_ON``).
  Each is skipped with a note when its clips are absent;
- semi-real with burned-in text (``vtest+text``, ``tree-hand+text``): the same clips as the
  semi-real sets of the same seeds, each with a logo, a running timestamp, subtitles or a logo and
  a timestamp drawn on its frames before its one encoding (``overlays.py``): calibration seed 1101
  and report seeds 2101 (vtest) and 2102 (tree);
- semi-real in black bars (``vtest+bars``): the same clips in letterbox or pillarbox bars, 8-15% of
  the frame a side: calibration seed 1101, report seed 2101;
- semi-real under a watermark (``vtest+mark``): the same clips with a translucent word across the
  middle of the frame, as stock-footage previews carry: calibration seed 1101, report seed 2101;
- semi-real through a wide lens (``vtest+lens``): the same clips bent by barrel distortion within
  the frame, as an action camera's uncorrected wide view is: calibration seed 1101, report seed 2101;
- semi-real, heavily compressed (``vtest+crf``): the same clips encoded at H.264 CRF 30, 35 or 40
  instead of 20, as small web previews are: calibration seed 1101, report seed 2101.

Per set and reader: clips exactly right (every known label), false Yes per clip (a Yes where the
label is No), missed Yes (share of the Yes labels answered No), balanced accuracy and mean AP
(camreasoner.evaluate.metrics, conventions.md's definitions). For the real shots, also how
``camreasoner label``'s timeline reads them: the share of their time in segments naming a motion
labelled No, in ``unknown`` segments, and in ``Static`` segments where Static is labelled No.

    nice python bench/bench_real_footage.py --clips 40 --work /tmp/realfoot [--fps 0]

``--fps`` sets the observer's sampling rate (default 4, the rate its calibration was fitted at;
0: every decoded frame); the tagger keeps its own sampling. ``--rendered-seed`` makes the rendered
set from another seed (role ``other seed``: a design seed or a fresh one, see ``TUNED_ON``; e.g.
``--only rendered --clips 160 --rendered-seed 8108``, a fresh seed); ``--semireal-seed`` makes the
semi-real report sets from another seed the same way (a fresh check of a change, e.g.
``--only vtest,tree-hand,vtest+crf --semireal-seed 2301``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.evaluate.metrics import BinaryItem, binary_metrics
from camreasoner.formats.labels import read_labels
from camreasoner.observer import ObserverOptions, Reading, analyze_video
from camreasoner.synth import generate_dataset
from camreasoner.synth.realcam import generate_realcam_dataset
from camreasoner.testing.sample_clips import sample_clip

sys.path.insert(0, str(Path(__file__).resolve().parent))
from opensora_tagger import tag  # noqa: E402
from overlays import SET_KINDS, overlay_set  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
REAL_SHOTS = DATA / "real_shots.jsonl"
HELDOUT_SHOTS = DATA / "heldout_shots.jsonl"
HELDOUT2_SHOTS = DATA / "heldout2_shots.jsonl"
HELDOUT3_SHOTS = DATA / "heldout3_shots.jsonl"
# The batches of hand-labelled real shots: (label, role, the ``--only`` name that picks it, labels file).
SHOT_BATCHES = (("real shots (by eye)", "informed", "real", REAL_SHOTS),
                ("held-out real shots (by eye)", "informed", "heldout", HELDOUT_SHOTS),
                ("held-out real shots, 2nd", "report", "heldout", HELDOUT2_SHOTS),
                ("held-out real shots, 3rd", "informed", "heldout", HELDOUT3_SHOTS))
# (name, source or "rendered", role, seed). Calibration seeds may be tuned on; report seeds never.
SETS = (
    ("vtest", "vtest", "calibration", 1101),
    ("vtest", "vtest", "report", 2101),
    ("tree-hand", "tree", "report", 2102),
    ("rendered", "rendered", "report", 3103),
    ("vtest+text", "vtest+text", "calibration", 1101),
    ("vtest+text", "vtest+text", "report", 2101),
    ("tree-hand+text", "tree+text", "report", 2102),
    ("vtest+bars", "vtest+bars", "calibration", 1101),
    ("vtest+bars", "vtest+bars", "report", 2101),
    ("vtest+mark", "vtest+mark", "calibration", 1101),
    ("vtest+mark", "vtest+mark", "report", 2101),
    ("vtest+lens", "vtest+lens", "calibration", 1101),
    ("vtest+lens", "vtest+lens", "report", 2101),
    ("vtest+crf", "vtest+crf", "calibration", 1101),
    ("vtest+crf", "vtest+crf", "report", 2101),
)
TUNED_ON = ("the observer may be tuned on the vtest calibration set (seed 1101), on other vtest seeds that "
            "are not report seeds (its layer rules also looked at 1201) and on rendered sets of its own "
            "seeds (calibration 7-9, design 11); never on the report sets (seeds 2101, 2102, 3103) nor "
            "on tree.avi (a source no calibration uses); the real shots informed three rules (the rotation "
            "check, PairOptions.max_rotation_excess, and the local-motion shrink, ClipCues.local_weight, "
            "both found on Megamind.avi's still shots; the unmeasured shot, ClipCues.measured, found on "
            "bikes.mp4's first shot), so their figures are not held-out ones; the held-out shots, labelled "
            "before any reader ran on them, were first read with the local-motion shrink on Static too, which "
            "silenced a still screencast (exact 0.250, missed Yes 1.000); Static was then exempted, so they "
            "informed that one change; the rule for text fixed on the frame (geometry.overlays) was "
            "chosen on vtest+text seed 1101, vtest seed 4242, rendered design seed 11 and the real shots; its "
            "first form was also read on the held-out shots and rendered seed 3103, and two of its conditions "
            "came after that read (the extents, from tree.avi's hand shot; the top and bottom bands, from a "
            "dolly it cost seed 3103, fitted on seed 11): those sets read as they did before the rule; its "
            "still-scene condition came from a test; reading each pair inside its black bars "
            "(geometry.overlays.frame_bars) was chosen on vtest+bars seed 1101; a rule for a watermark across "
            "the middle was chosen on vtest+mark seed 1101, read once on seed 2101 and left out (docs/observer.md); "
            "the wide-lens step (geometry.lens) was chosen on vtest+lens seed 1101, vtest seed 1101 and rendered "
            "design seeds 5151, 6161 and 11; vtest+lens seed 2101 only measured it; nothing was chosen on "
            "vtest+crf (heavy compression): both its seeds only measured the observer; Static weighing the "
            "fitted motion (ClipCues.fitted_motion) came from two still shots of the third held-out batch "
            "that read no Static (a VHS tape's jitter read as motion): nothing was tuned on them (the cue has "
            "no setting; Static's map was refitted on the calibration sets), but that batch informed the "
            "change; the translations' ranking forests (observer.ranking, which raise the No side of the "
            "scores and change no decision) were fitted on the calibration sets, their form and settings "
            "chosen on rendered design seeds 5151, 6161 and 11, and raising the No side rather than "
            "replacing it on the real shots (six track orders)")  # fmt: skip


def chosen_sets(only: set[str], rendered_seed: int, semireal_seed: int | None = None
                ) -> list[tuple[str, str, str, int]]:
    """``SETS`` named in ``only`` (all when empty), the rendered one made from ``rendered_seed``
    and, with ``semireal_seed``, every semi-real report set made from that seed instead (another
    seed than the report seed takes the role ``other seed``; calibration sets keep theirs)."""
    out = []
    for name, source, role, seed in SETS:
        if only and name not in only:
            continue
        if source == "rendered" and rendered_seed != seed:
            role, seed = "other seed", rendered_seed
        elif source != "rendered" and role == "report" and semireal_seed not in (None, seed):
            role, seed = "other seed", semireal_seed
        out.append((name, source, role, seed))
    return out


@dataclass
class Clip:
    """One clip to read: a file, an optional time range, and its known labels."""

    path: Path
    labels: dict[str, bool | None]
    start: float | None = None
    end: float | None = None


def synthetic_clips(root: Path) -> list[Clip]:
    """The clips of a generated set with their labels."""
    return [Clip(root / lab.path, lab.primitives) for lab in read_labels(root / "labels.jsonl")]


def real_shot_clips(path: Path = REAL_SHOTS) -> list[Clip]:
    """The hand-labelled shots: ``path`` names a sample clip, ``start``/``end`` the shot in seconds."""
    out = []
    for lab in read_labels(path):
        out.append(Clip(sample_clip(lab.path), lab.primitives, lab.extra["start"], lab.extra["end"]))
    return out


def chosen_shot_batches(only: set[str]) -> list[tuple[str, str, Path, list[Clip]]]:
    """``SHOT_BATCHES`` named in ``only`` (all when empty) as (label, role, labels file, clips); a
    batch whose clips are absent (a Debian package not installed) is skipped with a note."""
    out = []
    for label, role, name, path in SHOT_BATCHES:
        if only and name not in only:
            continue
        try:
            out.append((label, role, path, real_shot_clips(path)))
        except CamReasonerError as exc:
            print(f"note: {label} skipped ({exc})", file=sys.stderr)
    return out


@cache
def observe(path: Path, start: float | None, end: float | None, fps: float) -> Reading:
    """The geometric observer's reading of a span, sampling ``fps`` frames per second (0: every
    decoded frame); read once for the table and the timeline lines."""
    return analyze_video(path, ObserverOptions(start=start, end=end, fps=fps))


def read_observer(clip: Clip, fps: float = 4.0) -> tuple[dict[str, bool], dict[str, float]]:
    """The geometric observer's decisions and scores (see :func:`observe`)."""
    reading = observe(clip.path, clip.start, clip.end, fps)
    return reading.primitives, reading.scores


def read_tagger(clip: Clip) -> tuple[dict[str, bool], dict[str, float]]:
    """Open-Sora's tagger's decisions and vote-share scores."""
    t = tag(clip.path, clip.start, clip.end)
    return t.primitives, t.scores


READERS = {"observer": read_observer, "open-sora": read_tagger}


def score_set(clips: list[Clip], reader) -> dict[str, Any]:
    """Clips exactly right, false Yes per clip, missed Yes share, balanced accuracy, mean AP, and
    the false Yes counted per primitive."""
    items: list[BinaryItem] = []
    where: Counter[str] = Counter()
    exact = false_yes = missed = n_yes = 0
    for clip in clips:
        try:
            pred, score = reader(clip)
        except CamReasonerError as exc:  # an unreadable clip: no answers, every known label counts wrong
            print(f"warning: {exc}", file=sys.stderr)
            pred, score = {}, {}
        ok = True
        for p in PRIMITIVES:
            truth = clip.labels.get(p)
            if truth is None:
                continue
            said = pred.get(p)
            items.append(BinaryItem(p, truth, said, score.get(p), clip=str(clip.path)))
            ok &= said == truth
            false_yes += bool(said) and not truth
            where[p] += bool(said) and not truth
            n_yes += truth
            missed += truth and not said
        exact += ok
    m = binary_metrics(items, n_boot=200)
    # CameraBench's evaluator gives a primitive with one answer only AP 0.0; a set where no
    # primitive holds both answers (every shot still) has no mean AP, not 0.
    both = any(len({it.truth for it in items if it.primitive == p}) == 2 for p in PRIMITIVES)
    return {"exact": exact / len(clips), "false_yes": false_yes / len(clips),
            "missed_yes": missed / n_yes if n_yes else None,
            "balanced_accuracy": m["balanced_accuracy"], "mean_ap": m["mean_ap"] if both else None,
            "false_yes_by_primitive": dict(where.most_common())}  # fmt: skip


# Part of a sample clip used as a source: (start, end) seconds.
SEGMENTS = {"tree": (23.4, 29.6)}


def timeline_reading(clips: list[Clip], fps: float = 4.0) -> dict[str, float]:
    """How ``camreasoner label``'s timeline reads the shots (its segments, default options): the
    share of their time in segments naming a motion labelled No, in ``unknown`` segments, and in
    ``Static`` segments where Static is labelled No."""
    from camreasoner.label.options import LabelOptions
    from camreasoner.label.video import shot_row

    total = wrong = unknown = static_no = 0.0
    for clip in clips:
        try:
            reading = observe(clip.path, clip.start, clip.end, fps)
        except CamReasonerError:  # unreadable: the table counts it, the timeline has nothing to show
            continue
        for i, shot in enumerate(reading.shots):
            for seg in shot_row(str(clip.path), "", i, shot.shot, shot.reading, LabelOptions())["segments"]:
                length = seg["end"] - seg["start"]
                total += length
                wrong += length * any(clip.labels.get(p) is False for p in seg["motion"] if p != "Static")
                unknown += length * (not seg["motion"])
                static_no += length * (seg["motion"] == ["Static"] and clip.labels.get("Static") is False)
    return {"wrong_motion": wrong / total, "unknown": unknown / total, "static_where_no": static_no / total}


def source_video(work: Path, name: str) -> Path:
    """The sample clip ``name``, or its SEGMENTS part written once to ``work`` at the clip's nominal
    rate (each frame held until the next one's timestamp, as a player shows it)."""
    import numpy as np

    from camreasoner.synth.realcam import probe_source, read_source_frames
    from camreasoner.synth.writer import write_mp4

    path = sample_clip(name)
    if name not in SEGMENTS:
        return path
    start, end = SEGMENTS[name]
    out = work / f"{name}_{start:g}-{end:g}.mp4"
    if not out.is_file():
        src = probe_source(path, end - start)
        times = np.arange(start, end, 1.0 / src.fps)
        write_mp4(out, read_source_frames(src, times), src.fps, crf=12)
    return out


def make_set(work: Path, source: str, seed: int, clips: int) -> Path:
    """Generate (or reuse, if complete) one set under ``work``."""
    root = work / f"{source}_{seed}"
    base, _, overlay = source.partition("+")
    if overlay:
        return overlay_set(source_video(work, base), root, seed, clips, SET_KINDS[overlay])
    if source == "rendered":
        generate_dataset(root, clips, seed, effects=True, progress=False)
    else:
        generate_realcam_dataset(root, [source_video(work, source)], clips, seed, progress=False)
    return root


def fmt(v: float | None) -> str:
    return "  -  " if v is None else f"{v:5.3f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=40, help="clips per generated set")
    ap.add_argument("--work", type=Path, default=None, help="keep generated sets here (reused when complete)")
    names = dict.fromkeys([name for name, *_ in SETS] + [name for _, _, name, _ in SHOT_BATCHES])
    ap.add_argument("--only", default="", help=f"comma-separated set names to run ({', '.join(names)})")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--rendered-seed", type=int, default=3103,
                    help="the rendered set's seed (3103: the report seed; e.g. 8108: a fresh one)")
    ap.add_argument("--semireal-seed", type=int, default=None,
                    help="make the semi-real report sets from this seed instead (a fresh check; "
                         "calibration sets keep seed 1101)")
    ap.add_argument("--fps", type=float, default=4.0,
                    help="the observer's sampling rate (0: every decoded frame); the tagger keeps its own")
    args = ap.parse_args()
    readers = {**READERS, "observer": partial(read_observer, fps=args.fps)}
    work = args.work or Path(tempfile.mkdtemp(prefix="realfoot_"))
    work.mkdir(parents=True, exist_ok=True)
    only = {s for s in args.only.split(",") if s}
    rows = []
    t0 = time.perf_counter()
    plan: list[tuple[str, str, str, list[Clip]]] = []
    for name, source, role, seed in chosen_sets(only, args.rendered_seed, args.semireal_seed):
        label = f"{name} semi-real" if source != "rendered" else "rendered (synth, effects on)"
        plan.append((label, role, f"seed {seed}", synthetic_clips(make_set(work, source, seed, args.clips))))
    plan += [(label, role, path.name, clips) for label, role, path, clips in chosen_shot_batches(only)]
    print(f"{'set':<30} {'role':<12} {'from':<16} {'clips':>5} {'reader':<10} {'exact':>6} "
          f"{'falseY/clip':>11} {'missedY':>7} {'bal.acc':>7} {'meanAP':>6}")  # fmt: skip
    for label, role, origin, clips in plan:
        for reader_name, reader in readers.items():
            r = score_set(clips, reader)
            rows.append({"set": label, "role": role, "from": origin, "clips": len(clips), "reader": reader_name, **r})
            print(f"{label:<30} {role:<12} {origin:<16} {len(clips):>5} {reader_name:<10} {fmt(r['exact']):>6} "
                  f"{fmt(r['false_yes']):>11} {fmt(r['missed_yes']):>7} {fmt(r['balanced_accuracy']):>7} "
                  f"{fmt(r['mean_ap']):>6}", flush=True)  # fmt: skip
    for label, role, origin, clips in plan:
        if origin.endswith(".jsonl"):
            t = timeline_reading(clips, args.fps)
            print(f"timeline of {label} ({role}): {t['wrong_motion']:.3f} of the time in segments naming a motion "
                  f"labelled No, {t['unknown']:.3f} unknown, {t['static_where_no']:.3f} Static where Static is No")
    print("false Yes by primitive (observer):")
    for r in rows:
        if r["reader"] == "observer":
            worst = ", ".join(f"{p} {n}" for p, n in r["false_yes_by_primitive"].items() if n) or "none"
            print(f"  {r['set']} ({r['role']}): {worst}")
    print(f"calibration = may be tuned on; report = never tuned on; informed = measured the design and then informed a rule: {TUNED_ON}")
    print(f"{time.perf_counter() - t0:.0f} s; sets in {work}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
