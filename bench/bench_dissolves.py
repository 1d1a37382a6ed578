"""Dissolves: shots cross-fading into each other, found and read shot by shot.

Clips with exactly known dissolves are made from the clips of ``bench_real_footage.py``'s sets: the
end of one clip (A) cross-fades into the start of another (B) over 0.33-2 s, linearly or eased
(smoothstep), drawn per clip with a fixed seed. A is drawn from one set and B from another
(``cross``) or both from one set (``same``: two views of one scene, harder). Sets:

- ``design``: calibration sources (vtest seed 1101, rendered seed 5151); the dissolve detector's
  thresholds were chosen on dissolves of these sources and on the calibration and design sets'
  single shots (plus the sample clips' real footage, which decided the ends' correlation limit);
- ``report``: report sources (vtest seed 2101, tree-hand seed 2102, rendered seed 3103), never
  tuned on.

Per set: dissolves found by the dissolve detector (a shot starts within the blend), of them between
two views of one scene, the boundary's distance from the blend's middle; clips split within the
blend by either detector (a short dissolve can pass for a cut); and per shot (each shot's labels are those of the clip most of its frames come from)
the shots exactly right, false Yes per shot (a Yes where that clip's label is No) and missed Yes,
with the observer's dissolve detector on and off. Then false dissolves: clips of single-shot sets
(and the sample clips) where one was found.

    nice python bench/bench_dissolves.py --clips 40 --work /tmp/realfoot
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.observer import ObserverOptions
from camreasoner.observer.reading import analyze_shots
from camreasoner.synth.writer import read_frames, write_mp4
from camreasoner.testing.sample_clips import available_clips, bench_clips
from camreasoner.video.decode import probe

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_real_footage import make_set, synthetic_clips  # noqa: E402

# name -> (role, [(source, seed)...] the clips are drawn from, seed of the draw)
DISSOLVE_SETS = {
    "design": ("calibration", [("vtest", 1101), ("rendered", 5151)], 51),
    "report": ("report", [("vtest", 2101), ("tree", 2102), ("rendered", 3103)], 52),
}
LENGTHS_S = (0.33, 0.5, 1.0, 1.5, 2.0)
# single-shot sets read for false dissolves: (source, seed)
SINGLE_SETS = (("vtest", 1101), ("rendered", 5151), ("vtest", 2101), ("tree", 2102), ("rendered", 3103))


def make_dissolves(work: Path, name: str, clips: int, per_set: int) -> Path:
    """Generate (or reuse, if complete) the dissolve clips of ``DISSOLVE_SETS[name]`` and their truth."""
    _, sources, seed = DISSOLVE_SETS[name]
    root = work / f"dissolves_{name}"
    truth_file = root / "truth.jsonl"
    if truth_file.is_file():
        return root
    pools = [synthetic_clips(make_set(work, source, s, per_set)) for source, s in sources]
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(clips):
        same = i % 3 == 2  # a third within one set
        a_set = rng.randrange(len(pools))
        b_set = a_set if same else rng.choice([k for k in range(len(pools)) if k != a_set])
        a, b = rng.choice(pools[a_set]), rng.choice(pools[b_set])
        while b.path == a.path:
            b = rng.choice(pools[b_set])
        length, eased = rng.choice(LENGTHS_S), rng.random() < 0.5
        first, second = read_frames(a.path), read_frames(b.path)
        fps = probe(a.path).fps
        assert abs(fps - probe(b.path).fps) < 1e-6 and first[0].shape == second[0].shape, (a.path, b.path)
        n = max(2, round(length * fps))
        weights = [(k + 1) / (n + 1) for k in range(n)]
        if eased:
            weights = [w * w * (3 - 2 * w) for w in weights]
        blends = [((1 - w) * first[len(first) - n + k].astype(np.float32) + w * second[k].astype(np.float32))
                  .round().astype(np.uint8) for k, w in enumerate(weights)]
        path = root / f"{name}_{i:03d}.mp4"
        write_mp4(path, first[:-n] + blends + second[n:], fps, crf=20)
        rows.append({"path": path.name, "a": str(a.path), "b": str(b.path), "a_labels": a.labels,
                     "b_labels": b.labels, "fps": fps, "blend": [len(first) - n, len(first)],
                     "frames": len(first) + len(second) - n, "same": same})
    truth_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def shot_labels(row: dict[str, Any], start: int, end: int) -> dict[str, bool | None]:
    """The labels of the clip most of frames ``start .. end`` come from (blends count half each)."""
    b0, b1 = row["blend"]
    from_a = max(0, min(end, b0) - start) + 0.5 * max(0, min(end, b1) - max(start, b0))
    from_b = (end - start) - from_a
    return row["a_labels"] if from_a >= from_b else row["b_labels"]


def score(root: Path) -> dict[str, Any]:
    rows = [json.loads(line) for line in (root / "truth.jsonl").read_text().splitlines()]
    out: dict[str, Any] = {"clips": len(rows), "same_scene": sum(r["same"] for r in rows)}
    for mode, dissolves in (("on", True), ("off", False)):
        shots = exact = false_yes = missed = n_yes = found = found_same = split = 0
        errors: list[float] = []
        for row in rows:
            reading = analyze_shots(root / row["path"], ObserverOptions(dissolves=dissolves))
            b0, b1 = row["blend"]
            hit = [s for s in reading.shots[1:] if b0 - 1 <= s.shot.start_frame <= b1 + 1]
            split += bool(hit)  # by either detector (a short dissolve can pass for a cut)
            if dissolves:
                track_dissolves = reading.measurements["dissolves"]
                found += bool(hit) and track_dissolves > 0
                found_same += bool(hit) and track_dissolves > 0 and row["same"]
                if hit:
                    errors.append(abs(hit[0].shot.start_frame - (b0 + b1) / 2) / row["fps"])
            for s in reading.shots:
                labels = shot_labels(row, s.shot.start_frame, s.shot.end_frame)
                ok = True
                for p in PRIMITIVES:
                    truth, said = labels.get(p), s.reading.primitives.get(p)
                    if truth is None:
                        continue
                    ok &= said == truth
                    false_yes += bool(said) and not truth
                    n_yes += truth
                    missed += truth and not said
                shots += 1
                exact += ok
        out[mode] = {"split": split, "shots": shots, "exact": exact / shots, "false_yes": false_yes / shots,
                     "missed_yes": missed / n_yes if n_yes else None}
        if dissolves:
            out["found"], out["found_same"] = found, found_same
            out["boundary_error_s"] = statistics.median(errors) if errors else None
    return out


def false_dissolves(work: Path, per_set: int) -> list[tuple[str, int, list[str]]]:
    """(set, clips, the clips where a dissolve was found) for each single-shot set and the sample clips."""
    from camreasoner.observer.track import track_video

    out = []
    groups = [(f"{source} {seed}", [c.path for c in synthetic_clips(make_set(work, source, seed, per_set))])
              for source, seed in SINGLE_SETS]
    groups.append(("sample clips (real)", sorted({*available_clips().values(), *bench_clips().values()})))
    for label, paths in groups:
        found = [Path(path).name for path in paths
                 if track_video(path, ObserverOptions(max_side=64, max_points=20)).dissolves]
        out.append((label, len(paths), found))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clips", type=int, default=40, help="dissolve clips per set, and clips per source set")
    ap.add_argument("--work", type=Path, required=True, help="generated sets are kept and reused here")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    print("set     role         clips  found (same scene)  boundary err | detector  split  shots  exact  "
          "false Yes/shot  missed Yes")
    for name, (role, _, _) in DISSOLVE_SETS.items():
        r = score(make_dissolves(args.work, name, args.clips, args.clips))
        for mode in ("on", "off"):
            m = r[mode]
            head = (f"{name:7s} {role:11s} {r['clips']:6d}  {r['found']:3d} ({r['found_same']:2d} of {r['same_scene']:2d})"
                    f"        {r['boundary_error_s']:.2f} s    " if mode == "on" else " " * 63)
            print(f"{head}| {mode:8s} {m['split']:5d} {m['shots']:6d}  {m['exact']:.3f}  {m['false_yes']:.3f}           "
                  f"{m['missed_yes']:.3f}")
    print("\nfalse dissolves on single shots:")
    for label, n, found in false_dissolves(args.work, args.clips):
        print(f"  {label:22s} {len(found)} of {n} clips" + (f" ({', '.join(found)})" if found else ""))


if __name__ == "__main__":
    main()
