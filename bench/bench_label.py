"""Benchmark of `camreasoner label` on a built library of >= 200 videos, in one run.

Usage: ``nice python bench/bench_label.py [--work DIR] [--long-minutes 60]``. A rerun with the same
``--work`` reuses the library it built and redoes every labelling run from scratch.

The library: rendered clips (camreasoner synth, 160x120 and 320x240, H.264), `sequence` clips
(two motions in sequence, known change time), concatenations of rendered clips with known cuts,
segments of the real sample clips re-encoded with H.264, MPEG-4 Part 2, MJPEG and VP9 at two
sizes, and broken files (empty, text, truncated, a listed path that does not exist). Every video
is listed in one .txt list file.

It prints: video-seconds labelled per wall-second with 1 and 2 workers and their ratio; the same
rate for decoding the files alone and for Open-Sora's flow tagger (bench/opensora_tagger.py);
cut F1 at a 2-frame tolerance on the concatenations; timeline changes found within 0.3 s on the
sequence clips; how the timeline names the rendered clips whose motion holds throughout (time naming a primitive
labelled No, unknown, exactly right); peak memory (the labelling process's own VmHWM) on a short and on a long video;
ten SIGKILLs of the process group at random moments of one run (each while work is left: at a
random count of stored videos plus a random fraction of a video), then the same command, compared
row for row with the uninterrupted run's shots.parquet; and the exit code and error count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).parent))

CLI = str(Path(sys.executable).parent / "camreasoner")
CODECS = (("libx264", ".mp4", "yuv420p"), ("mpeg4", ".avi", "yuv420p"), ("mjpeg", ".avi", "yuvj420p"),
          ("libvpx-vp9", ".webm", "yuv420p"))


def encode(path: Path, frames, fps: float, codec: str = "libx264", pix: str = "yuv420p") -> None:
    import av

    with av.open(str(path), mode="w") as c:
        s = c.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix
        if codec == "libvpx-vp9":
            s.options = {"deadline": "realtime", "cpu-used": "8"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def read_frames(path: Path, start: float = 0.0, seconds: float = 1e9, size: tuple[int, int] | None = None):
    import av

    out = []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        fps = float(st.average_rate or 25)
        for f in c.decode(video=0):
            t = float(f.time or 0.0)
            if t < start:
                continue
            if t >= start + seconds:
                break
            w, h = size or (f.width // 2 * 2, f.height // 2 * 2)
            out.append(f.to_ndarray(format="rgb24", width=w, height=h))
    return out, fps


def build_library(work: Path, seed: int) -> dict:
    """Write the library under work/lib; return its list file and ground truth."""
    from camreasoner.formats.labels import read_labels
    from camreasoner.synth.dataset import generate_dataset
    from camreasoner.testing.sample_clips import available_clips

    lib = work / "lib"
    lib.mkdir(parents=True, exist_ok=True)
    generate_dataset(work / "synth_s", 120, seed, size=(160, 120), fps=12.0, seconds=2.0, progress=False)
    generate_dataset(work / "synth_m", 20, seed + 1, size=(320, 240), fps=12.0, seconds=2.0, progress=False)
    generate_dataset(work / "synth_q", 20, seed + 2, size=(160, 120), fps=12.0, seconds=4.0, progress=False,
                     recipes=["sequence"], effects=False)
    videos: list[str] = []
    for d in ("synth_s", "synth_m", "synth_q"):
        videos += sorted(str(p) for p in (work / d / "clips").glob("*.mp4"))
    truth = {}  # the single-motion clips' labels, by video path
    for d in ("synth_s", "synth_m"):
        for lab in read_labels(work / d / "labels.jsonl"):
            truth[str(work / d / lab.path)] = lab.primitives
    changes = {}
    for line in (work / "synth_q" / "labels.jsonl").read_text().splitlines():
        rec = json.loads(line)
        changes[str(work / "synth_q" / rec["path"])] = rec["recipe"]["change_s"]
    rng = random.Random(seed)
    small = sorted((work / "synth_s" / "clips").glob("*.mp4"))
    cuts: dict[str, list[int]] = {}
    for i in range(16):
        parts = rng.sample(small, rng.randint(2, 4))
        frames, marks = [], []
        for p in parts:
            f, _ = read_frames(p, 0.0, rng.uniform(1.2, 2.0))
            if frames:
                marks.append(len(frames))
            frames += f
        path = lib / f"concat_{i:02d}.mp4"
        encode(path, frames, 12.0)
        cuts[str(path)] = marks
        videos.append(str(path))
    real = available_clips()
    k = 0
    for name, src in sorted(real.items()):
        for j in range(8):
            codec, ext, pix = CODECS[k % len(CODECS)]
            size = (160, 120) if j % 2 else (320, 240)
            frames, fps = read_frames(src, start=1.5 * j, seconds=2.5, size=size)
            if len(frames) < 8:
                continue
            path = lib / f"real_{name}_{j}{ext}"
            encode(path, frames, min(fps, 30.0), codec, pix)
            videos.append(str(path))
            k += 1
    broken = lib / "broken"
    broken.mkdir(exist_ok=True)
    (broken / "empty.mp4").write_bytes(b"")
    (broken / "text.mp4").write_text("not a video\n")
    data = Path(videos[0]).read_bytes()
    (broken / "truncated.mp4").write_bytes(data[: len(data) // 2])
    webm = next(v for v in videos if v.endswith(".webm"))
    wdata = Path(webm).read_bytes()
    (broken / "truncated.webm").write_bytes(wdata[: len(wdata) // 3])
    videos += [str(p) for p in sorted(broken.iterdir())] + [str(lib / "missing.mp4")]
    listing = work / "videos.txt"
    listing.write_text("\n".join(videos) + "\n")
    return {"list": listing, "videos": videos, "cuts": cuts, "changes": changes, "truth": truth, "broken": 4}


# The CLI in this interpreter, writing its own peak resident memory (VmHWM of /proc/self/status: the
# high-water mark of the address space it exec'd into, so pages the fork copied from this bench
# process do not count) to the file named by argv[1] when it exits.
CLI_PEAK = (
    "import atexit, sys\n"
    "def _peak(path=sys.argv[1]):\n"
    "    hwm = next(x.split()[1] for x in open('/proc/self/status') if x.startswith('VmHWM:'))\n"
    "    open(path, 'w').write(hwm)\n"
    "atexit.register(_peak)\n"
    "sys.argv = ['camreasoner', *sys.argv[2:]]\n"
    "from camreasoner.cli.app import main\n"
    "sys.exit(main())\n"
)


def run_cli(args: list[str], env: dict | None = None) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS (KiB, the CLI process's own VmHWM; worker processes it
    starts are not counted) of one camreasoner run in its own process group."""
    with tempfile.TemporaryDirectory(prefix="bench_peak_") as tmp:
        peak = Path(tmp) / "vmhwm"
        t0 = time.time()
        proc = subprocess.Popen([sys.executable, "-c", CLI_PEAK, str(peak), *args], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}, start_new_session=True)
        rc = proc.wait()
        wall = time.time() - t0
        kib = int(peak.read_text()) if peak.exists() else 0
    return rc, wall, kib


def video_seconds(videos: list[str]) -> float:
    from camreasoner.video.decode import probe

    total = 0.0
    for v in videos:
        try:
            total += float(probe(v).duration or 0.0)
        except Exception:  # noqa: BLE001 - broken files count nothing
            pass
    return total


def timed(fn, videos: list[str]) -> float:
    t0 = time.time()
    for v in videos:
        try:
            fn(v)
        except Exception:  # noqa: BLE001
            pass
    return time.time() - t0


def cut_f1(rows: list[dict], cuts: dict[str, list[int]], tol: int = 2) -> tuple[float, int, int, int]:
    tp = fp = fn = 0
    for video, truth in cuts.items():
        found = [r["start_frame"] for r in rows if r["video"] == video and r["shot"] > 0]
        left = list(truth)
        for f in found:
            hit = next((t for t in left if abs(t - f) <= tol), None)
            if hit is None:
                fp += 1
            else:
                tp += 1
                left.remove(hit)
        fn += len(left)
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    return f1, tp, fp, fn


def timeline_hits(rows: list[dict], changes: dict[str, float], tol: float = 0.3) -> tuple[int, int, list[float]]:
    hits, errs = 0, []
    for video, change in changes.items():
        bounds = [s["start"] for r in rows if r["video"] == video for s in r["segments"][1:]]
        bounds += [r["start"] for r in rows if r["video"] == video and r["shot"] > 0]
        err = min((abs(b - change) for b in bounds), default=float("inf"))
        errs.append(err)
        hits += err <= tol
    return hits, len(changes), errs


def timeline_truth(rows: list[dict], truth: dict[str, dict]) -> dict[str, float]:
    """On the rendered clips with known labels, whose motion holds throughout: the share of their time in
    segments naming a primitive labelled No (``Static`` too), in ``unknown`` segments, and in
    segments naming exactly the clip's primitives."""
    total = wrong = unknown = exact = 0.0
    for r in rows:
        labels = truth.get(r["video"])
        if labels is None:
            continue
        held = {p for p, v in labels.items() if v}
        for seg in r["segments"]:
            length = seg["end"] - seg["start"]
            total += length
            wrong += length * any(labels.get(p) is False for p in seg["motion"])
            unknown += length * (not seg["motion"])
            exact += length * (set(seg["motion"]) == held)
    return {"wrong": wrong / total, "unknown": unknown / total, "exact": exact / total}


def long_video(path: Path, minutes: float, src: Path) -> None:
    """A ``minutes``-long 160x90 H.264 video: 10 s of ``src`` forward then backward (no cut where the
    loop closes), encoded once and repeated by stream copy (packets re-timed, nothing re-encoded)."""
    import av

    frames = read_frames(src, 0.0, 30.0, size=(160, 90))[0][:120]  # 10 s at 12 fps
    unit = path.with_suffix(".unit.mp4")
    with av.open(str(unit), mode="w") as c:
        s = c.add_stream("libx264", rate=12)
        s.width, s.height, s.pix_fmt = 160, 90, "yuv420p"
        s.options = {"preset": "ultrafast", "bframes": "0"}
        for f in frames + frames[::-1]:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    with av.open(str(unit)) as inp:
        ist = inp.streams.video[0]
        packets = [p for p in inp.demux(ist) if p.size]
        step = max(p.pts for p in packets) + packets[1].pts - packets[0].pts  # one unit in time-base ticks
        copies = max(1, round(minutes * 60 / (len(packets) / 12)))
        with av.open(str(path), mode="w") as out:
            ost = out.add_stream_from_template(ist)
            for k in range(copies):
                for p in packets:
                    q = av.Packet(bytes(p))
                    q.pts, q.dts, q.is_keyframe, q.time_base = p.pts + k * step, p.dts + k * step, p.is_keyframe, ist.time_base
                    q.stream = ost
                    out.mux(q)
    unit.unlink()


def kill_run(args: list[str], out: Path, n_videos: int, kills: int, rng: random.Random, wall: float) -> int:
    """SIGKILL the process group of ``kills`` runs of ``args``, each at a random moment while it still
    has work: kill k waits until a random target count of stored parts (spread over the library, in
    increasing order) and then a random further part of one video's expected time. Returns how many
    kills hit a running process before it finished (label.json absent)."""
    parts = out / "work" / "parts"
    targets = sorted(rng.sample(range(1, n_videos - 2), kills))
    per_video = wall / n_videos
    landed = 0
    for target in targets:
        proc = subprocess.Popen([CLI, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        while proc.poll() is None and len(list(parts.glob("[0-9a-f]*.parquet"))) < target:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, per_video))
        if proc.poll() is None and not (out / "label.json").exists():
            landed += 1
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return landed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--long-minutes", type=float, default=60.0)
    ap.add_argument("--kills", type=int, default=10)
    a = ap.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="bench_label_"))
    for old in [*work.glob("out_w[12]"), work / "out_kill", *work.glob("out_long_*")]:
        shutil.rmtree(old, ignore_errors=True)  # a rerun in the same --work times and kills afresh
    t0 = time.time()
    lib = build_library(work, a.seed)
    good = [v for v in lib["videos"] if "broken" not in v and not v.endswith("missing.mp4")]
    secs = video_seconds(good)
    print(f"library: {len(lib['videos'])} videos ({len(lib['videos']) - len(good)} broken), "
          f"{secs:.0f} video-seconds, built in {time.time() - t0:.0f} s; load {os.getloadavg()[0]:.1f}")
    common = ["label", str(lib["list"]), "--quiet"]
    rates, walls = {}, {}
    for w in (1, 2):
        rc, wall, rss = run_cli([*common, "--out", str(work / f"out_w{w}"), "--workers", str(w)])
        rates[w], walls[w] = secs / wall, wall
        print(f"label --workers {w}: exit {rc}, {wall:.1f} s, {rates[w]:.1f} video-s/s, peak RSS {rss / 1024:.0f} MiB (main process)")
    same = pq.read_table(work / "out_w1" / "shots.parquet").equals(pq.read_table(work / "out_w2" / "shots.parquet"))
    print(f"scaling 2 vs 1 workers: x{rates[2] / rates[1]:.2f}; rows identical: {same}")
    from camreasoner.video.decode import DECODE_THREAD_MODES, decode_all

    # decode-only: each video in the faster of PyAV's thread modes (the stream decides which)
    dec = secs / sum(min(timed(partial(decode_all, threads=mode), [v]) for mode in DECODE_THREAD_MODES)
                     for v in good)
    print(f"decoding alone (each video in its faster PyAV thread mode): {dec:.1f} video-s/s; labelling (1 worker) costs x{dec / rates[1]:.1f} decoding")
    try:
        from opensora_tagger import tag_video

        tag = secs / timed(tag_video, good)
        print(f"Open-Sora flow tagger: {tag:.1f} video-s/s (1 process)")
    except ImportError as exc:
        print(f"Open-Sora flow tagger: not run ({exc})")
    rows = pq.read_table(work / "out_w1" / "shots.parquet").to_pylist()
    f1, tp, fp, fn = cut_f1(rows, lib["cuts"])
    print(f"cuts: F1 {f1:.3f} at 2 frames (tp {tp}, fp {fp}, fn {fn}) on {len(lib['cuts'])} concatenations")
    hits, n, errs = timeline_hits(rows, lib["changes"])
    med = float(np.median([e for e in errs if np.isfinite(e)])) if any(np.isfinite(errs)) else float("nan")
    print(f"timeline: {hits}/{n} sequence clips with a change within 0.3 s (median error {med:.2f} s)")
    tt = timeline_truth(rows, lib["truth"])
    print(f"timeline on {len(lib['truth'])} rendered clips of constant motion: {tt['wrong']:.3f} of the time in segments "
          f"naming a primitive labelled No, {tt['unknown']:.3f} unknown, {tt['exact']:.3f} naming exactly the clip's")
    errors = [json.loads(x) for x in (work / "out_w1" / "errors.jsonl").read_text().splitlines()]
    print(f"broken: {len(errors)} in errors.jsonl (built {lib['broken']} + 1 missing)")
    kill_out = work / "out_kill"
    args = [*common, "--out", str(kill_out), "--workers", "2"]
    landed = kill_run(args, kill_out, len(lib["videos"]), a.kills, random.Random(a.seed), walls[2])
    rc, wall, _ = run_cli(args)
    ref = pq.read_table(work / "out_w1" / "shots.parquet")
    got = pq.read_table(kill_out / "shots.parquet")
    print(f"faults: {landed} of {a.kills} SIGKILLs landed mid-run, then the same command: exit {rc}; "
          f"shots.parquet equals the "
          f"uninterrupted run's: {got.equals(ref)} ({got.num_rows} rows)")
    from camreasoner.testing.sample_clips import available_clips

    src = available_clips()["vtest"]
    for minutes in (1.0, a.long_minutes):
        lv = work / f"long_{minutes:g}min.mp4"
        long_video(lv, minutes, src)
        rc, wall, rss = run_cli(["label", str(lv), "--out", str(work / f"out_long_{minutes:g}"), "--quiet"])
        print(f"peak memory on a {minutes:g}-minute video: {rss / 1024:.0f} MiB (exit {rc}, {wall:.0f} s)")
    print(f"total {time.time() - t0:.0f} s; work in {work}; load {os.getloadavg()[0]:.1f}; "
          f"CPU children {resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime:.0f} s")


if __name__ == "__main__":
    main()
