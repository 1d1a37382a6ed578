"""Shots and long videos: per-shot readings in one decode, no motion across a cut, sampling at a fixed
rate whatever the clip's length, scores and decisions that do not depend on a shot's length, the
variable-frame-rate tolerance, ``--fps 0``."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from observer_scenes import pose, render, render_clip, texture, write_clip, write_timed_clip

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.observer.geometry.cues import window_slices
from camreasoner.observer.ranking import ranked_scores
from camreasoner.observer.reading import ObserverOptions, analyze_shots, analyze_video, measure_video
from camreasoner.observer.scoring import score_cues
from camreasoner.testing.sample_clips import available_clips
from camreasoner.video.decode import probe
from camreasoner.video.reader import SAMPLE_TOLERANCE, VideoReader
from camreasoner.video.shots import detect_shots

EXE = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "camreasoner")
FPS = 12


def run(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def cut_clip(tmp_path_factory):
    """2 s panning left, then 2 s of another, darker scene tilting up: a hard cut at frame 24 (2.0 s)."""
    frames = render_clip("Pan_Left", 24, seed=0) + [f // 3 for f in render_clip("Tilt_Up", 24, seed=3)]
    return write_clip(tmp_path_factory.mktemp("shots") / "cut.mp4", frames, fps=FPS)


@pytest.fixture(scope="module")
def cut_reading(cut_clip):
    return analyze_shots(cut_clip)


def test_a_cut_reads_as_two_shots_each_with_its_own_motion(cut_reading):
    first, second = cut_reading.shots
    assert abs(first.shot.end_frame - 24) <= 1 and second.shot.start_frame == first.shot.end_frame
    assert first.shot.start == 0.0 and second.shot.end == pytest.approx(4.0, abs=0.1)
    assert first.reading.answer == "Pan_Left" and second.reading.answer == "Tilt_Up"
    assert first.reading.measurements["cues"]["tilt_deg"] == pytest.approx(0.0, abs=1.0)
    assert second.reading.measurements["cues"]["pan_deg"] == pytest.approx(0.0, abs=1.0)


def test_motion_is_never_added_across_the_cut(cut_clip, cut_reading):
    # the pair straddling the cut is in the clip's series, invalid, and in neither shot's
    straddling = [p for p in cut_reading.series if p["t0"] < 2.0 - 1e-3 < p["t1"]]
    assert len(straddling) == 1 and not straddling[0]["valid"]
    assert sum(len(s.reading.series) for s in cut_reading.shots) == len(cut_reading.series) - 1
    # the first shot's pan is what the first two seconds alone read
    alone = analyze_video(cut_clip, ObserverOptions(end=1.95, shots=False))
    pan = cut_reading.shots[0].reading.measurements["cues"]["pan_deg"]
    assert pan == pytest.approx(alone.measurements["cues"]["pan_deg"], rel=0.02)
    # the whole-clip reading is one shot's (the first of two equally long), never a sum
    m = cut_reading.measurements
    assert (m["shots"], m["shot"], m["cuts"]) == (2, 0, 1) and cut_reading.answer == "Pan_Left"
    assert m["cues"]["tilt_deg"] == pytest.approx(0.0, abs=1.0)
    assert "holds 2 shots" in cut_reading.observation


def test_shots_of_the_decode_equal_a_separate_detection(cut_clip, cut_reading):
    assert [s.shot for s in cut_reading.shots] == detect_shots(cut_clip)


def faded(frame: np.ndarray, amount: float, toward: int) -> np.ndarray:
    """``frame`` faded ``amount`` of the way (0 leaves it, 1 reaches it) towards the grey level ``toward``."""
    return (frame + (toward - frame.astype(np.float32)) * amount).round().astype(np.uint8)


@pytest.mark.parametrize("toward", [0, 255], ids=["black", "white"])
def test_a_fade_through_black_or_white_reads_as_two_shots_each_with_its_own_motion(tmp_path, toward):
    # 2.5 s panning left, 0.5 s fading out, two black (white) frames, 0.5 s fading in on a scene tilting up
    first, second = render_clip("Pan_Left", 36, seed=0), render_clip("Tilt_Up", 36, seed=3)
    out = [faded(f, (i + 1) / 7, toward) for i, f in enumerate(first[-6:])]
    into = [faded(f, 1 - (i + 1) / 7, toward) for i, f in enumerate(second[:6])]
    frames = first[:-6] + out + [np.full_like(first[0], toward)] * 2 + into + second[6:]
    clip = write_clip(tmp_path / "fade.mp4", frames, fps=FPS)
    reading = analyze_shots(clip)
    shots = [s.shot for s in reading.shots]
    # the boundary lies in the middle of the black (white) stretch, frames 36 and 37, found by the decode
    assert [(s.start_frame, s.end_frame) for s in shots] == [(0, 37), (37, 74)] and shots == detect_shots(clip)
    assert [s.reading.answer for s in reading.shots] == ["Pan_Left", "Tilt_Up"]
    # a pan faded three quarters of the way and back, never black (white), stays one shot
    pan = render_clip("Pan_Left", 60, seed=0)
    amounts = np.maximum(0.0, 0.75 - 0.05 * np.abs(np.arange(60) - 30))  # 0 out to 0.75 at frame 30
    dim = [faded(f, amount, toward) for f, amount in zip(pan, amounts, strict=True)]
    assert len(detect_shots(write_clip(tmp_path / "dim.mp4", dim, fps=FPS))) == 1


def dissolved(first: list[np.ndarray], second: list[np.ndarray], frames: int) -> list[np.ndarray]:
    """``first`` cross-fading into ``second`` over ``frames`` frames, linearly: its last ``frames``
    blended with the other's first ``frames``."""
    blends = [((1 - (k + 1) / (frames + 1)) * first[len(first) - frames + k].astype(np.float32)
               + (k + 1) / (frames + 1) * second[k].astype(np.float32)).round().astype(np.uint8)
              for k in range(frames)]
    return first[:-frames] + blends + second[frames:]


def test_a_dissolve_reads_as_two_shots_each_with_its_own_motion(tmp_path):
    # 2.5 s panning left, then 1 s (frames 30-41) cross-fading into another scene tilting up
    frames = dissolved(render_clip("Pan_Left", 42, seed=0), render_clip("Tilt_Up", 42, seed=3), 12)
    clip = write_clip(tmp_path / "dissolve.mp4", frames, fps=FPS)
    reading = analyze_shots(clip)
    shots = [s.shot for s in reading.shots]
    # the boundary is where the blend turns to the second scene, half way (frame 36, within a
    # frame); the same when the shots are detected by a decode of their own
    first, second = shots
    assert (first.start_frame, second.end_frame) == (0, 72) and abs(first.end_frame - 36) <= 1
    assert second.start_frame == first.end_frame and shots == detect_shots(clip)
    assert [s.reading.answer for s in reading.shots] == ["Pan_Left", "Tilt_Up"]
    assert reading.measurements["dissolves"] == 1 and reading.measurements["cuts"] == 1
    # no pair that touches a blended frame (30-41) is measured, nor counted in a shot; the others are
    blended = [p for p in reading.series if p["t1"] > 29 / FPS + 1e-3 and p["t0"] < 42 / FPS - 1e-3]
    assert [p["t0"] for p in blended] == [2.25, 2.5, 2.75, 3.0, 3.25] and not any(p["valid"] for p in blended)
    assert sum(len(s.reading.series) for s in reading.shots) == len(reading.series) - len(blended)
    # without the dissolve detector the two scenes' motions read as one shot's
    merged = analyze_shots(clip, ObserverOptions(dissolves=False))
    assert len(merged.shots) == 1 and {"Pan_Left", "Tilt_Up"} <= {k for k, v in merged.primitives.items() if v}
    out = run("analyze", clip, "--json", "--no-dissolves")
    assert out.returncode == 0 and len(json.loads(out.stdout)["shots"]) == 1
    for flags, rows in (((), 2), (("--no-dissolves",), 1)):  # label: a row per shot
        labelled = run("label", clip, "--out", tmp_path / f"run{rows}", "--quiet", *flags)
        assert labelled.returncode == 0, labelled.stderr
        assert len((tmp_path / f"run{rows}" / "shots.jsonl").read_text().splitlines()) == rows


def test_a_faster_stream_is_looked_at_every_second_frame_and_its_dissolve_found():
    from camreasoner.video.dissolves import DissolveDetector

    # 25 fps, the motion per second of the 12-fps clips: 2 s of a pan, a 1-s dissolve (frames
    # 50-74) into another scene's tilt, then 2 s of it
    def slow(primitive: str, seed: int) -> list[np.ndarray]:
        return [render(*pose(primitive, k * 12 / 25), seed=seed) for k in range(75)]

    frames = dissolved(slow("Pan_Left", 0), slow("Tilt_Up", 3), 25)
    detector = DissolveDetector(25.0)
    for k, frame in enumerate(frames):
        detector.feed(k, frame)
    (found,) = detector.dissolves()
    assert detector.stride == 2 and found.first % 2 == 0 and found.last % 2 == 0
    # the window's ends lie within a kept frame or so of the blend's (49 and 75), the boundary at its middle
    assert abs(found.first - 49) <= 3 and abs(found.last - 75) <= 3 and abs(found.boundary - 62) <= 2


@pytest.mark.parametrize(("primitive", "step"), [("Pan_Left", 3), ("Pan_Left", 4), ("Tilt_Up", 4),
                                                 ("Zoom_In", 3), ("Roll_Clockwise", 3)])
def test_fast_camera_motion_is_not_a_dissolve(primitive, step):
    # over smooth texture and seen at 8x6 px, a fast pan's frames pass for blends of its ends; the
    # contrast of the view it moves over does not dip as a blend's does
    from camreasoner.video.dissolves import CONTRAST_SIZE, DissolveDetector, DissolveOptions

    frames = render_clip(primitive, 48 * step, seed=0)[::step]  # 4 s at 12 fps
    detector = DissolveDetector(FPS)
    for k, frame in enumerate(frames):
        detector.feed(k, frame)
    small = [cv2.resize(f, CONTRAST_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32).ravel() for f in frames]
    # frames over the scene's flat stretch have no contrast, so no shape to compare: left out
    shape = {k: (g - g.mean()) / g.std() for k, g in enumerate(small) if g.std() > 0}
    ends = min(float(shape[k] @ shape[k + FPS]) / small[0].size for k in shape if k + FPS in shape)
    assert ends < DissolveOptions().max_end_correlation  # a second apart, the views are different pictures
    assert detector.dissolves() == []


@pytest.mark.skipif(not {"vtest", "bikes"} <= set(available_clips()), reason="needs vtest.avi and bikes.mp4")
def test_a_pan_across_flat_sky_between_two_views_is_not_a_dissolve():
    # a panorama: vtest.avi's street, a smooth sky-like gradient half or one and a half frames wide,
    # bikes.mp4's road; panned across at half a frame, one and three frames a second. The sky's
    # frames are flat, and the frames entering it are the first view giving way to a plain one:
    # without the contrast tests the slow pans read as dissolves
    from camreasoner.video.dissolves import DissolveDetector

    def grey(name: str, t: float) -> np.ndarray:
        with av.open(str(available_clips()[name])) as c:
            frame = next(f for f in c.decode(video=0) if f.time >= t)
        return cv2.resize(frame.to_ndarray(format="gray"), (640, 240))

    street, road = grey("vtest", 10.0), grey("bikes", 3.0)
    for gap in (160, 480):
        sky = np.tile(np.linspace(200, 170, 240)[:, None], (1, gap)).astype(np.uint8)
        panorama = np.hstack([street, sky, road])
        for frames_per_second in (0.5, 1.0, 3.0):
            detector = DissolveDetector(25.0)
            xs = np.arange(0, panorama.shape[1] - 320, frames_per_second * 320 / 25.0).astype(int)
            for k, x in enumerate(xs):
                detector.feed(k, panorama[:, x : x + 320])
            assert detector.dissolves() == [], (gap, frames_per_second)


def test_a_short_first_span_joins_the_next():
    from camreasoner.video.shots import merge_short

    assert merge_short([3, 20], 0, 40, 10) == [(0, 20), (20, 40)]
    assert merge_short([3, 20, 30], 0, 40, 10) == [(0, 20), (20, 30), (30, 40)]
    assert merge_short([3], 0, 40, 10) == [(0, 40)]
    assert merge_short([], 0, 5, 10) == [(0, 5)]


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuvj420p"])
def test_the_fade_detector_reads_brightness_on_one_scale_whatever_the_stream_range(pix_fmt):
    from camreasoner.video.shots import small_copies

    for level in (0, 128, 255):
        grey = av.VideoFrame.from_ndarray(np.full((48, 64), level, np.uint8), format="gray")
        frame = grey.reformat(format=pix_fmt)
        bgr, luma = small_copies(frame, (32, 24))
        assert bgr.shape == (24, 32, 3) and luma.shape == (24, 32)
        assert float(luma.mean()) == pytest.approx(level, abs=3)


def test_analysis_runs_opencv_on_one_thread_and_restores_the_setting(cut_clip):
    from camreasoner.observer.track import one_opencv_thread

    original = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        seen = []
        with one_opencv_thread():
            seen.append(cv2.getNumThreads())
        with pytest.raises(RuntimeError), one_opencv_thread():
            raise RuntimeError("an analysis that fails")
        after_error = cv2.getNumThreads()
        analyze_video(cut_clip, ObserverOptions(max_frames=4))
        assert seen == [1] and after_error == 2 and cv2.getNumThreads() == 2
        cv2.setNumThreads(1)  # as label's worker processes set it: left as it is
        with one_opencv_thread():
            seen.append(cv2.getNumThreads())
        assert seen == [1, 1] and cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(original)


def test_analyze_json_lists_the_shots_and_no_shots_reads_one(cut_clip):
    out = run("analyze", cut_clip, "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    keys = ["primitives", "scores", "measurements", "observation", "think", "answer"]
    assert [s["reading"]["answer"] for s in obj["shots"]] == ["Pan_Left", "Tilt_Up"]
    for shot in obj["shots"]:
        assert list(shot) == ["start", "end", "start_frame", "end_frame", "reading"]
        assert list(shot["reading"]) == keys
    assert obj["primitives"] == obj["shots"][0]["reading"]["primitives"]
    flat = json.loads(run("analyze", cut_clip, "--json", "--no-shots").stdout)
    assert "shots" not in flat and flat["measurements"]["shots"] == 1
    assert flat["measurements"]["frames"] == 16  # the whole span, 4 s at 4 fps
    text = run("analyze", cut_clip)
    assert "Shots" in text.stdout and "Pan_Left" in text.stdout and "Tilt_Up" in text.stdout


# ---- long clips: a cylindrical panorama seen by a camera panning right at a constant rate ----

PAN_RATE = 20.0  # degrees per second
SIZE = (160, 120)


def panorama_frames(seconds: float, fps: int = FPS) -> list[np.ndarray]:
    """Frames of a camera at the centre of a textured cylinder panning right at PAN_RATE (exact
    pinhole projection with the observer's assumed 60 degree field of view)."""
    w, h = SIZE
    f = (w / 2) / math.tan(math.radians(30))
    pano = np.concatenate([texture(s, 512) for s in range(4)], axis=1)  # 360 degrees in 2048 columns
    ph, pw = pano.shape
    xs, ys = np.meshgrid(np.arange(w) - (w - 1) / 2, np.arange(h) - (h - 1) / 2)
    azimuth = np.arctan2(xs, f)
    height = ys / np.hypot(xs, f)
    rows = (height / 1.2 * 0.5 + 0.5) * (ph - 1)
    out = []
    for k in range(int(seconds * fps)):
        yaw = math.radians(PAN_RATE * k / fps)
        cols = ((yaw + azimuth) / (2 * math.pi) * pw) % pw
        out.append(cv2.remap(pano, cols.astype(np.float32), rows.astype(np.float32), cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_WRAP))
    return out


@pytest.fixture(scope="module")
def pans(tmp_path_factory):
    root = tmp_path_factory.mktemp("long")
    frames = panorama_frames(60.0)
    return {10: write_clip(root / "pan10.mp4", frames[: 10 * FPS], fps=FPS),
            60: write_clip(root / "pan60.mp4", frames, fps=FPS)}


@pytest.fixture(scope="module")
def pan_readings(pans):
    return {n: analyze_video(path) for n, path in pans.items()}


def test_a_one_minute_pan_keeps_its_full_angle_and_rate(pan_readings):
    readings = pan_readings
    long = readings[60].measurements
    assert long["shots"] == 1 and long["frames"] >= 235  # 4 fps over the minute, no spreading cap
    true_angle = PAN_RATE * long["span_s"]
    assert long["cues"]["pan_deg"] == pytest.approx(true_angle, rel=0.10)
    rates = {n: r.measurements["cues"]["pan_deg"] / r.measurements["span_s"] for n, r in readings.items()}
    assert rates[60] == pytest.approx(rates[10], rel=0.05)
    assert readings[60].primitives["Pan_Right"]


def test_scoring_windows_span_three_seconds_and_cover_the_shot():
    assert window_slices([0.25] * 11, 3.0, 1.5) == [slice(0, 11)]  # a 3-s clip: one window, every pair
    assert window_slices([0.25] * 12, 3.0, 1.5) == [slice(0, 12)]
    long = window_slices([0.25] * 239, 3.0, 1.5)
    assert len(long) == 39 and all(s.stop - s.start == 12 for s in long)
    assert long[0].start == 0 and long[-1].stop == 239
    assert all(b.start - a.start <= 6 for a, b in zip(long, long[1:], strict=False))
    assert window_slices([], 3.0, 1.5) == []


def test_a_one_minute_pan_reads_the_pan_alone_with_the_scores_of_ten_seconds(pan_readings):
    readings = pan_readings
    long = readings[60]
    assert long.answer == "Pan_Right" and long.measurements["windows"] == 39
    assert readings[10].measurements["windows"] == 6
    for p in PRIMITIVES:
        assert long.scores[p] == pytest.approx(readings[10].scores[p], abs=0.02), p
    assert max(v for p, v in long.scores.items() if p != "Pan_Right") < 0.1
    # each window's span (3 s of pairs, in order, from the shot's first pair to its last) and scores,
    # which the shot's scores average (equal windows, every pair measured: equal weights)
    spans = [(w["start"], w["end"]) for w in long.windows]
    assert len(spans) == 39 and spans == sorted(spans)
    assert spans[0][0] == long.series[0]["t0"] and spans[-1][1] == long.series[-1]["t1"]
    assert all(b - a == pytest.approx(3.0, abs=0.01) for a, b in spans)
    for p in PRIMITIVES:
        assert long.scores[p] == pytest.approx(np.mean([w["scores"][p] for w in long.windows]), abs=1e-6), p
    # the shot's totals still describe the whole minute
    assert long.measurements["cues"]["pan_deg"] == pytest.approx(PAN_RATE * long.measurements["span_s"], rel=0.10)
    assert "pans right by 11" in long.observation


def test_a_three_second_clip_is_scored_on_its_whole_shot_as_one_window(tmp_path):
    clip = write_clip(tmp_path / "pan3.mp4", panorama_frames(3.0), fps=FPS)
    reading = analyze_video(clip, ObserverOptions())
    cues = measure_video(clip, ObserverOptions())[0]
    assert reading.measurements["windows"] == 1 and reading.measurements["span_s"] <= 3.0
    assert reading.measurements["chains"] == 1 and reading.measurements["pair_step_s"] == pytest.approx(0.25)
    assert reading.scores == ranked_scores(cues, score_cues(cues))
    assert reading.answer == "Pan_Right" and reading.windows == []  # scored as one window
    # every frame (12 fps): pairs stay 0.25 s apart, in three interleaved chains of one window each
    every = analyze_video(clip, ObserverOptions(fps=0))
    assert every.measurements["chains"] == 3 and every.measurements["windows"] == 3
    assert [w["start"] for w in every.windows] == pytest.approx([0.0, 1 / FPS, 2 / FPS], abs=0.01)
    assert every.measurements["pair_step_s"] == pytest.approx(0.25) and every.answer == "Pan_Right"
    assert every.measurements["cues"]["pan_deg"] == pytest.approx(reading.measurements["cues"]["pan_deg"], rel=0.1)


@pytest.fixture(scope="module")
def still_minute(tmp_path_factory):
    """A fixed camera for a minute: the first panorama view with fresh sensor noise in every frame."""
    view = panorama_frames(1.0 / FPS)[0].astype(np.int16)
    rng = np.random.default_rng(0)
    frames = [np.clip(view + rng.integers(-6, 7, view.shape), 0, 255).astype(np.uint8) for _ in range(60 * FPS)]
    return write_clip(tmp_path_factory.mktemp("still") / "still60.mp4", frames, fps=FPS)


def test_a_one_minute_still_shot_reads_static(still_minute):
    reading = analyze_video(still_minute)
    assert reading.answer == "Static" and reading.measurements["windows"] == 39


def test_a_still_shot_read_at_every_frame_keeps_its_static_score(tmp_path):
    """Sensor noise per pair of frames 1/24 s apart would read as fast motion; pairs stay 0.25 s
    apart (six interleaved chains), so every frame reads as 4 fps does."""
    view = panorama_frames(1.0 / FPS)[0].astype(np.int16)
    rng = np.random.default_rng(0)
    frames = [np.clip(view + rng.integers(-6, 7, view.shape), 0, 255).astype(np.uint8) for _ in range(4 * 24)]
    clip = write_clip(tmp_path / "still24.mp4", frames, fps=24)
    four, every = analyze_video(clip), analyze_video(clip, ObserverOptions(fps=0))
    assert four.answer == every.answer == "Static"
    assert every.scores["Static"] == pytest.approx(four.scores["Static"], abs=0.05)
    assert every.measurements["frames"] == 96 and every.measurements["chains"] == 6
    assert every.measurements["pair_step_s"] == pytest.approx(0.25)


def test_a_span_shorter_than_a_pair_step_is_read_as_one_pair(tmp_path):
    frames = panorama_frames(0.5)[:4]  # 4 frames at 12 fps: 0.25 s apart is 3 steps, so one pair 0-3
    reading = analyze_video(write_clip(tmp_path / "short.mp4", frames, fps=FPS), ObserverOptions(fps=0))
    assert reading.measurements["frames"] == 4 and reading.measurements["chains"] == 1
    assert reading.measurements["pair_step_s"] == pytest.approx(0.25) and len(reading.series) == 1
    # at 4 fps the sampling grid serves only its first instant: the span's last frame is the second
    three = write_clip(tmp_path / "three.mp4", frames[:3], fps=FPS)
    assert [round(f.time, 3) for f in VideoReader(three)] == [0.0, round(2 / FPS, 3)]
    reading = analyze_video(three)
    assert reading.measurements["frames"] == 2 and reading.measurements["pair_step_s"] == pytest.approx(2 / FPS, abs=1e-3)
    assert reading.measurements["cues"]["pan_deg"] == pytest.approx(PAN_RATE * 2 / FPS, rel=0.1)
    assert reading.scores["Pan_Right"] > 10 * reading.scores["Pan_Left"]


@pytest.mark.skipif("vtest" not in available_clips(), reason="vtest.avi (Debian's opencv-doc) is not installed")
def test_vtest_a_fixed_camera_for_eighty_seconds_reads_static():
    reading = analyze_video(available_clips()["vtest"])
    assert reading.measurements["span_s"] > 75 and reading.measurements["windows"] > 40
    assert reading.answer == "Static"


def test_sampling_spacing_does_not_depend_on_the_length_and_a_cap_truncates(pans):
    times = {n: [f.time for f in VideoReader(path, fps=4, max_side=80)] for n, path in pans.items()}
    for got in times.values():
        assert np.allclose(np.diff(got), 0.25, atol=1e-3)
    assert len(times[60]) == 240 and len(times[10]) == 40
    capped = VideoReader(pans[60], fps=4, max_frames=10, max_side=80)
    assert [round(f.time, 3) for f in capped] == [round(0.25 * k, 3) for k in range(10)] and capped.truncated


# ---- frame rate: 0 = every decoded frame; the variable-frame-rate tolerance ----

def test_fps_zero_is_every_decoded_frame_and_negative_is_refused(cut_clip):
    assert len(list(VideoReader(cut_clip, fps=0))) == 48
    every = analyze_video(cut_clip, ObserverOptions(fps=0, shots=False)).measurements
    # the histogram jump lies across one pair of each of the 3 chains: one cut, 3 pairs left out
    assert every["frames"] == 48 and every["chains"] == 3 and every["cuts"] == 1
    with pytest.raises(CamReasonerError, match="--fps must be >= 0"):
        VideoReader(cut_clip, fps=-1)
    with pytest.raises(CamReasonerError, match="--fps must be >= 0"):
        analyze_video(cut_clip, ObserverOptions(fps=-2))
    zero = run("analyze", cut_clip, "--json", "--fps", "0", "--no-shots")
    assert zero.returncode == 0 and json.loads(zero.stdout)["measurements"]["frames"] == 48
    bad = run("analyze", cut_clip, "--fps", "-1")
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().splitlines() == ["error: --fps must be >= 0 (0: every decoded frame), got -1.0"]
    vlm = run("analyze", cut_clip, "--backend", "always-no", "--fps", "0")
    assert vlm.returncode == 2 and len(vlm.stderr.strip().splitlines()) == 1 and "VLM backends need" in vlm.stderr


def test_variable_frame_rate_tolerance(tmp_path):
    # 10 fps with jitter and a gap; sampled at 2.5 fps the instants are 0, 0.4, 0.8, 1.2, 1.6 s
    times_ms = [0, 95, 210, 290, 395, 505, 580, 700, 760, 1250, 1300, 1410, 1560, 1640, 1700, 1810, 1900]
    path = write_timed_clip(tmp_path / "vfr.mkv", times_ms, step=8)
    reader = VideoReader(path, fps=2.5, max_side=None)
    tol = reader.tolerance
    assert probe(path).fps == 25 and tol == pytest.approx(SAMPLE_TOLERANCE / 25)  # half a frame at the declared rate
    got = [(round(f.time, 3), round((float(f.image.mean()) - 16) * 255 / 219 / 8)) for f in reader]
    # 0.395 s is early but within the tolerance (0.02 s) of 0.4 s; after the gap (0.76 -> 1.25 s) the
    # first frame serves the missed instants once; 1.56 s is 0.04 s early for 1.6 s: 1.64 s serves it
    assert got == [(0.0, 0), (0.395, 4), (1.25, 9), (1.64, 13)]
