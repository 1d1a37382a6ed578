"""The observer on footage with independently moving subjects, and on mirrored clips.

A textured rectangle over a third of a static rendered scene is a subject, not camera motion; a
virtual pan over vtest.avi's walkers is a pan, not a truck, and a tilt under burned-in subtitles a
tilt, not a pedestal; a clip and its mirror image get mirrored scores (opposite primitives share
their calibration).
"""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from observer_scenes import texture

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.observer import ObserverOptions, analyze_video
from camreasoner.synth.dataset import SynthOptions, single_plan, synthesize_clip
from camreasoner.synth.realcam import (
    RealcamOptions,
    place_windows,
    probe_source,
    read_source_frames,
    render_window,
    synthesize_realcam_clip,
    window_path,
)
from camreasoner.synth.writer import write_mp4
from camreasoner.testing.sample_clips import available_clips, sample_clip

MIRROR_X = {"Pan_Left": "Pan_Right", "Move_Left": "Move_Right", "Roll_Clockwise": "Roll_Counterclockwise"}
MIRROR_Y = {"Tilt_Up": "Tilt_Down", "Move_Up": "Move_Down", "Roll_Clockwise": "Roll_Counterclockwise"}


def mirrored(table: dict[str, str]) -> dict[str, str]:
    """Primitive -> its mirror image's primitive under a flip that swaps the pairs of ``table``."""
    out = {p: p for p in PRIMITIVES}
    for a, b in table.items():
        out[a], out[b] = b, a
    return out


def rendered(primitive: str, seed: int) -> list[np.ndarray]:
    """The RGB frames of a rendered clip of ``primitive`` (no effects)."""
    return synthesize_clip(single_plan(primitive), seed, SynthOptions(effects=False)).frames


def test_a_moving_subject_over_a_static_scene_reads_static(tmp_path):
    frames = rendered("Static", 5)
    h, w = frames[0].shape[:2]
    rh, rw = int(0.55 * h), int(0.55 * w)  # 30% of the frame
    patch = np.repeat(texture(3, 512)[:rh, :rw, None], 3, axis=2)
    out = []
    for k, frame in enumerate(frames):
        x = int(10 + k * (w - rw - 20) / (len(frames) - 1))  # slides across the frame
        frame = frame.copy()
        frame[h // 4: h // 4 + rh, x: x + rw] = patch
        out.append(frame)
    path = tmp_path / "subject.mp4"
    write_mp4(path, out, 12.0, crf=12)
    reading = analyze_video(path)
    assert reading.answer == "Static", (reading.answer, reading.measurements["layers"], reading.measurements["cues"])
    layers = reading.measurements["layers"]
    assert layers["subject_share"] > 0.1 and layers["count"] >= 2
    assert "move on their own" in reading.observation


@pytest.mark.parametrize("primitive, start", [("Pan_Right", 2.0), ("Pan_Left", 20.0)])
def test_a_pan_under_walkers_reads_as_a_pan_not_a_truck(tmp_path, primitive, start):
    opts = RealcamOptions()
    src = probe_source(sample_clip("vtest"), opts.seconds + start)
    n = opts.n_frames
    windows = place_windows(window_path(primitive, 0.25, n), src, opts, np.random.default_rng(0))
    frames = read_source_frames(src, start + np.arange(n) / opts.fps)
    views = [render_window(f, win, (opts.width, opts.height)) for f, win in zip(frames, windows, strict=True)]
    path = tmp_path / f"{primitive}.mp4"
    write_mp4(path, views, opts.fps, crf=12)
    reading = analyze_video(path)
    assert reading.primitives[primitive], (reading.scores, reading.measurements["cues"])
    assert not reading.primitives["Move_Left"] and not reading.primitives["Move_Right"], reading.scores
    assert reading.answer == primitive
    assert reading.measurements["layers"]["overlay_share"] == 0.0  # no text there


def _subtitled(frame: np.ndarray) -> np.ndarray:
    """``frame`` with two lines of subtitles on a dark box burned in near its bottom."""
    img = frame.copy()
    h, w = img.shape[:2]
    cv2.rectangle(img, (w // 8, h - 44), (w - w // 8, h - 6), (0, 0, 0), -1)
    for k, text in enumerate(("Keep the camera rolling.", "Not yet. Wait for it.")):
        cv2.putText(img, text, (w // 8 + 8, h - 30 + 17 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                    cv2.LINE_AA)
    return img


@pytest.mark.parametrize("primitive, start", [("Tilt_Up", 2.0), ("Tilt_Down", 20.0)])
def test_a_tilt_under_burned_in_subtitles_reads_as_a_tilt_not_a_pedestal(tmp_path, primitive, start):
    """The text stays put while the scene moves under it, as an infinitely far layer would under a
    pedestal; it is left out of the camera estimate (and the scene's corners are tracked around it)."""
    opts = RealcamOptions()
    src = probe_source(sample_clip("vtest"), opts.seconds + start)
    n = opts.n_frames
    windows = place_windows(window_path(primitive, 0.2, n), src, opts, np.random.default_rng(0))
    frames = read_source_frames(src, start + np.arange(n) / opts.fps)
    views = [_subtitled(render_window(f, win, (opts.width, opts.height))) for f, win in zip(frames, windows, strict=True)]
    path = tmp_path / f"{primitive}.mp4"
    write_mp4(path, views, opts.fps, crf=12)
    reading = analyze_video(path)
    assert reading.answer == primitive, (reading.scores, reading.measurements["cues"])
    assert not reading.primitives["Move_Up"] and not reading.primitives["Move_Down"], reading.scores
    assert reading.measurements["layers"]["overlay_share"] >= 0.5
    assert "Text or a logo fixed on the frame" in reading.observation


@pytest.mark.parametrize("bars, start", [("letterbox", 2.0), ("pillarbox", 30.0)])
def test_a_zoom_in_a_letterboxed_picture_reads_as_a_zoom_not_a_dolly(tmp_path, bars, start):
    """Black bars (12% a side) round a virtual zoom over vtest.avi: tracks on a bar's edge see the
    still edge beside the growing picture and look like depth; the picture inside the bars is read."""
    opts = RealcamOptions()
    src = probe_source(sample_clip("vtest"), opts.seconds + start)
    n = opts.n_frames
    windows = place_windows(window_path("Zoom_In", 1.4, n), src, opts, np.random.default_rng(1))
    frames = read_source_frames(src, start + np.arange(n) / opts.fps)
    views = []
    for f, win in zip(frames, windows, strict=True):
        img = render_window(f, win, (opts.width, opts.height))
        h, w = img.shape[:2]
        if bars == "letterbox":
            img[: int(0.12 * h)] = img[h - int(0.12 * h):] = 0
        else:
            img[:, : int(0.12 * w)] = img[:, w - int(0.12 * w):] = 0
        views.append(img)
    path = tmp_path / f"{bars}.mp4"
    write_mp4(path, views, opts.fps, crf=20)
    reading = analyze_video(path)
    assert reading.answer == "Zoom_In", (reading.scores, reading.measurements["cues"])


def _through_a_wide_lens(frames: list[np.ndarray], k: float) -> list[np.ndarray]:
    """``frames`` bent by barrel distortion: the pixel at radius r (in half widths) from the centre
    shows the scene at r (1 + k r^2) / (1 + k R^2), R the corners' radius (the corners show the
    frame's corners: nothing from outside the frame is mirrored in)."""
    h, w = frames[0].shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    dx, dy = (xs - w / 2.0) / (w / 2.0), (ys - h / 2.0) / (w / 2.0)
    scale = (1.0 + k * (dx * dx + dy * dy)) / (1.0 + k * (1.0 + (h / w) ** 2))
    map_x, map_y = w / 2.0 + dx * scale * w / 2.0, h / 2.0 + dy * scale * w / 2.0
    return [cv2.remap(f, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT) for f in frames]


@pytest.mark.parametrize("index, k", [(17, 0.12), (24, 0.22), (4, 0.22)])
def test_a_pan_or_tilt_through_a_wide_lens_reads_as_itself(tmp_path, index, k):
    """A virtual pan or tilt over vtest.avi (clips 17, 24 and 4 of seed 1101, a calibration set)
    seen through a barrel lens: no homography fits a bent pan's tracks, and what it leaves passes
    for parallax (a truck); a bent tilt's homography takes the bend for a keystone, and its rotation
    explains almost none of the motion (no motion at all). The shot's lens is estimated and taken
    out, and the pan or tilt is read."""
    opts = RealcamOptions()
    clip = synthesize_realcam_clip(index, 1101, opts, [probe_source(sample_clip("vtest"), opts.seconds)])
    motion = next(p for p, said in clip.labels.items() if said)
    path = tmp_path / "wide.mp4"
    write_mp4(path, _through_a_wide_lens(clip.frames, k), opts.fps, crf=opts.crf)
    bent = analyze_video(path, ObserverOptions(lens=False))
    assert not bent.primitives[motion], bent.scores
    if motion.startswith("Pan"):
        assert bent.primitives[motion.replace("Pan", "Move")], bent.scores  # a truck
    reading = analyze_video(path)
    assert reading.answer == motion, (reading.scores, reading.measurements["lens"])
    assert reading.measurements["lens"] < -0.1 and "The lens bends straight lines" in reading.observation
    if index == 17:  # the command line's switch
        exe = Path(sys.executable).with_name("camreasoner")
        out = subprocess.run([str(exe), "analyze", str(path), "--json", "--no-lens"], capture_output=True, text=True,
                             timeout=120)
        off = json.loads(out.stdout)
        assert off["measurements"]["lens"] == 0.0 and off["primitives"] == bent.primitives
        run = tmp_path / "run"
        label = [str(exe), "label", str(path), "--out", str(run), "--quiet"]
        out = subprocess.run([*label, "--no-lens"], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        row = json.loads((run / "shots.jsonl").read_text().splitlines()[0])
        assert json.loads(row["measurements"])["lens"] == 0.0
        out = subprocess.run(label, capture_output=True, text=True, timeout=120)  # lens on: another run
        assert out.returncode == 2 and "other options (lens: False before, True now)" in out.stderr, out.stderr
    plain = tmp_path / "plain.mp4"
    write_mp4(plain, clip.frames, opts.fps, crf=opts.crf)
    assert analyze_video(plain).measurements["lens"] == 0.0


@pytest.mark.parametrize("primitive, axis", [("Move_Left", 1), ("Roll_Clockwise", 1), ("Pan_Right", 1),
                                             ("Move_Up", 0)])
def test_a_mirrored_clip_gets_mirrored_scores(tmp_path, primitive, axis):
    frames = rendered(primitive, 11)
    flipped = [np.ascontiguousarray(np.flip(f, axis=axis)) for f in frames]
    write_mp4(tmp_path / "a.mp4", frames, 12.0, crf=12)
    write_mp4(tmp_path / "b.mp4", flipped, 12.0, crf=12)
    a, b = analyze_video(tmp_path / "a.mp4"), analyze_video(tmp_path / "b.mp4")
    twin = mirrored(MIRROR_X if axis == 1 else MIRROR_Y)
    assert a.primitives[primitive] and b.primitives[twin[primitive]]
    for p in PRIMITIVES:
        assert b.primitives[twin[p]] == a.primitives[p], p
        assert abs(b.scores[twin[p]] - a.scores[p]) < 0.05, (p, a.scores[p], b.scores[twin[p]])


def test_a_subject_as_large_as_the_background_is_a_conflict(tmp_path):
    frames = rendered("Static", 5)
    h, w = frames[0].shape[:2]
    rh, rw = int(0.75 * h), int(0.62 * w)  # nearly half of the frame
    patch = np.repeat(texture(4, 512)[:rh, :rw, None], 3, axis=2)
    out = []
    for k, frame in enumerate(frames):
        x = int(4 + k * (w - rw - 8) / (len(frames) - 1))
        frame = frame.copy()
        frame[(h - rh) // 2: (h - rh) // 2 + rh, x: x + rw] = patch
        out.append(frame)
    path = tmp_path / "large.mp4"
    write_mp4(path, out, 12.0, crf=12)
    reading = analyze_video(path)
    layers = reading.measurements["layers"]
    assert layers["conflict"] and layers["conflict_share"] >= 0.5, layers
    assert "The evidence conflicts" in reading.observation
    assert not any(reading.primitives[p] for p in PRIMITIVES if p != "Static"), reading.scores
    # the scores are shrunk toward the priors: nearer to them than the same cues without the conflict
    # (and so are the translations' ranks, which order their No side)
    from camreasoner.observer.geometry import ClipCues
    from camreasoner.observer.ranking import rank_cues, ranked_scores
    from camreasoner.observer.scoring import load_calibration, score_cues

    cues = ClipCues(**reading.measurements["cues"])
    unshrunk = ClipCues(**{**reading.measurements["cues"], "conflict_share": 0.0})
    scores, plain = score_cues(cues), score_cues(unshrunk)
    prior = {p: v["prior"] for p, v in load_calibration().items()}
    assert ranked_scores(cues, scores) == pytest.approx(reading.scores)
    assert all(abs(scores[p] - prior[p]) <= abs(plain[p] - prior[p]) + 1e-9 for p in PRIMITIVES)
    assert any(abs(scores[p] - plain[p]) > 0.05 for p in PRIMITIVES)
    ranks, plain_ranks = rank_cues(cues), rank_cues(unshrunk)
    assert all(abs(ranks[p] - prior[p]) <= abs(plain_ranks[p] - prior[p]) + 1e-9 for p in ranks)


@pytest.mark.skipif("Megamind" not in available_clips(), reason="Megamind.avi (Debian's opencv-doc) is not installed")
def test_figures_filling_a_still_shot_do_not_make_a_tilt():
    """Megamind.avi 4.25-6.35 s: a still camera, two figures and moving hair fill the frame. Rigid-
    motion poses whose tilt the tracks do not show (a 7-degree tilt against 1 px of motion) are
    read by the homography instead, so no pan or tilt is read (before: a 13-degree Tilt_Down)."""
    reading = analyze_video(sample_clip("Megamind"), ObserverOptions(start=4.25, end=6.35))
    cues = reading.measurements["cues"]
    assert abs(cues["tilt_deg"]) < 4 and abs(cues["pan_deg"]) < 4, cues
    assert not any(reading.primitives[p] for p in ("Pan_Left", "Pan_Right", "Tilt_Up", "Tilt_Down"))


def test_a_shot_mostly_without_trackable_texture_reads_no_motion_and_says_so(tmp_path):
    from camreasoner.observer.scoring import load_calibration
    from camreasoner.qa.consistency import check_observation

    frames = rendered("Pan_Right", 9)  # 36 frames at 12 fps: 11 pairs at the default 4 fps
    flat = np.full_like(frames[0], 128)
    path = tmp_path / "mostly_flat.mp4"
    write_mp4(path, [flat] * 26 + frames[26:], 12.0, crf=12)  # only the last pairs can be tracked
    reading = analyze_video(path)
    cues = reading.measurements["cues"]
    assert 1 <= cues["valid_pairs"] and 2 * cues["valid_pairs"] < cues["pairs"], cues
    priors = {p: entry["prior"] for p, entry in load_calibration().items()}
    assert reading.answer == "None" and not any(reading.primitives.values())
    assert reading.scores == pytest.approx(priors, abs=1e-9)
    assert "too few to tell whether the camera moves" in reading.observation
    assert check_observation(reading.observation, reading.primitives).score == 1.0
    # the same motion, fully textured, is read
    whole = tmp_path / "textured.mp4"
    write_mp4(whole, frames, 12.0, crf=12)
    assert analyze_video(whole).primitives["Pan_Right"]


def test_bikes_first_shot_a_bus_roof_over_a_plain_road_reads_no_motion():
    # 0-1.2 s: 0-3 trackable points in three of its four frame pairs, 12 (all on the bus and a car
    # entering) in the fourth, which alone used to read Move_Up 1.00 and Move_In 0.94
    first = analyze_video(sample_clip("bikes")).shots[0].reading
    assert first.measurements["cues"]["valid_pairs"] == 1 and first.measurements["cues"]["pairs"] == 4
    assert not any(first.primitives.values()) and first.answer == "None"


def test_a_figure_filling_a_plain_still_shot_is_local_motion_and_reads_no_motion(tmp_path):
    """A textured figure in the middle of a frame that is flat elsewhere, drifting right: every track
    lies on it, so it is the only layer. A camera motion would move the whole frame; motion seen on
    under half of it says nothing (the motion primitives score their priors; Static, which the
    drift keeps low, is not shrunk) and the observation says why."""
    from camreasoner.observer.scoring import load_calibration
    from camreasoner.qa.consistency import check_observation

    h, w = 240, 320
    rh, rw = int(0.5 * h), int(0.4 * w)
    patch = np.repeat(texture(6, 512)[:rh, :rw, None], 3, axis=2)
    out = []
    for k in range(36):
        frame = np.full((h, w, 3), 90, np.uint8)
        x = int(0.3 * w + k * 2)  # 2 px per frame: 70 px over the clip
        frame[h // 4: h // 4 + rh, x: x + rw] = patch
        out.append(frame)
    path = tmp_path / "figure.mp4"
    write_mp4(path, out, 12.0, crf=12)
    reading = analyze_video(path)
    cues = reading.measurements["cues"]
    assert reading.measurements["layers"]["local_share"] == 1.0 and cues["valid_pairs"] == cues["pairs"], cues
    assert not any(reading.primitives.values()), reading.scores
    priors = {p: entry["prior"] for p, entry in load_calibration().items() if p != "Static"}
    assert {p: reading.scores[p] for p in priors} == pytest.approx(priors, abs=1e-9)
    assert reading.scores["Static"] < 0.1
    assert "seen on part of the frame only" in reading.observation
    assert check_observation(reading.observation, reading.primitives).score == 1.0
    # the same drift over a frame textured everywhere is the camera's: not local, and read
    full = [np.repeat(texture(6, 512)[:h, :w, None], 3, axis=2)]
    moved = [np.ascontiguousarray(np.roll(full[0], -2 * k, axis=1)) for k in range(36)]
    whole = tmp_path / "whole.mp4"
    write_mp4(whole, moved, 12.0, crf=12)
    panned = analyze_video(whole)
    assert panned.measurements["layers"]["local_share"] == 0.0
    assert panned.primitives["Pan_Right"], panned.scores


@pytest.mark.skipif("Megamind" not in available_clips(), reason="Megamind.avi (Debian's opencv-doc) is not installed")
def test_close_ups_on_a_dark_backdrop_read_no_motion():
    """Megamind.avi's three still shots (hand-labelled Static): the tracks lie on the faces and
    figures, the backdrop is too dark to track. They read confident dollies, pans and tilts
    before (Move_In 0.99, Pan_Left 0.98, ...); the motion is local, so nothing is said."""
    for start, end in ((4.25, 6.35), (6.55, 8.3), (8.45, 11.2)):
        reading = analyze_video(sample_clip("Megamind"), ObserverOptions(start=start, end=end))
        assert reading.measurements["layers"]["local_share"] > 0.4, (start, reading.measurements["layers"])
        assert not any(reading.primitives[p] for p in PRIMITIVES if p != "Static"), (start, reading.scores)


def test_extent_and_local_weight():
    from camreasoner.observer.geometry import ClipCues
    from camreasoner.observer.geometry.layers import extent

    corner = np.array([[5.0, 5.0], [20.0, 30.0], [40.0, 10.0]])  # one cell of a 6x6 grid over 320x240
    assert extent(corner, (320, 240), (6, 6)) == pytest.approx(1 / 36)
    grid = np.array([[x, y] for x in range(10, 320, 53) for y in range(10, 240, 40)], float)
    assert extent(grid, (320, 240), (6, 6)) == 1.0
    assert [ClipCues(local_share=s).local_weight for s in (0.0, 0.4, 0.6, 0.8, 1.0)] == pytest.approx([0, 0, 0.5, 1, 1])


def test_still_content_on_part_of_the_frame_still_reads_static(tmp_path):
    """The local-motion shrink is for motion claims: a textured panel fixed in a frame that is flat
    elsewhere (a screencast's window) is still wherever it can be seen, and reads Static."""
    h, w = 240, 320
    frame = np.full((h, w, 3), 90, np.uint8)
    frame[h // 4: h // 4 + h // 2, int(0.3 * w): int(0.3 * w) + int(0.4 * w)] = np.repeat(
        texture(6, 512)[: h // 2, : int(0.4 * w), None], 3, axis=2)
    path = tmp_path / "panel.mp4"
    write_mp4(path, [frame] * 36, 12.0, crf=12)
    reading = analyze_video(path)
    assert reading.measurements["layers"]["local_share"] == 1.0
    assert reading.answer == "Static", reading.scores
    assert "seen on part of the frame only" not in reading.observation


def test_a_dolly_read_beside_a_lens_zoom_says_less():
    """Two frames fit a zoom with a dolly in as well as a stronger zoom with a dolly out, so beyond
    a 10% zoom a dolly reading loses log-odds (the more, the stronger the zoom); under it (a
    dolly's own expansion) nothing changes, the mirror image loses as much, and no other primitive
    moves."""
    import math

    from camreasoner.observer.geometry import ClipCues
    from camreasoner.observer.scoring import (
        calibrated_score,
        context_values,
        feature_value,
        load_calibration,
        score_cues,
    )

    cal = load_calibration()
    cues = {"duration": 3.0, "pairs": 11, "valid_pairs": 11, "dolly": 0.03, "parallax_share": 0.6,
            "parallax_ratio": 1.0, "dolly_agree": 1.0}

    def logit(p: float) -> float:
        return math.log(p / (1 - p))

    def unshaded(c: ClipCues, p: str) -> float:
        return calibrated_score(feature_value(p, c), cal[p], context_values(p, c))

    for zoom, lost in ((0.0, 0.0), (8.0, 0.0), (10.0, 0.0), (14.0, 0.5 * math.asinh(4.0)), (40.0, 0.5 * math.asinh(30.0))):
        c = ClipCues(**cues, zoom_pct=zoom)
        mirror = ClipCues(**{**cues, "dolly": -0.03}, zoom_pct=-zoom)
        scores, mirrored_scores = score_cues(c), score_cues(mirror)
        assert logit(scores["Move_In"]) == pytest.approx(logit(unshaded(c, "Move_In")) - lost, abs=1e-9), zoom
        assert mirrored_scores["Move_Out"] == pytest.approx(scores["Move_In"]), zoom
        for p in PRIMITIVES:
            if p not in ("Move_In", "Move_Out"):
                assert scores[p] == pytest.approx(unshaded(c, p)), (zoom, p)
    assert score_cues(ClipCues(**cues, zoom_pct=40.0))["Move_In"] < score_cues(ClipCues(**cues, zoom_pct=14.0))["Move_In"]


def test_a_still_view_under_heavy_sensor_noise_reads_static_and_a_slow_drift_does_not(tmp_path):
    """Sensor noise jitters each track its own way; the pair's homography averages that out, so
    the Static decision, which weighs the motion the fit gives (``fitted_motion``), still says
    Static on a noisy still view, where the tracks' own median motion is several times larger.
    The same view drifting a third of a pixel a frame keeps its motion in the fit: not Static."""
    rng = np.random.default_rng(0)
    h, w = 240, 320
    base = texture(3, 512)[:h, :w].astype(np.float32)

    def noisy(image: np.ndarray) -> np.ndarray:
        grey = np.clip(image + rng.normal(0, 16, image.shape), 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)

    still, drift = tmp_path / "still.mp4", tmp_path / "drift.mp4"
    write_mp4(still, [noisy(base) for _ in range(36)], 12.0, crf=18)
    shifted = [cv2.warpAffine(base, np.float32([[1, 0, -k / 3], [0, 1, 0]]), (w, h), borderMode=cv2.BORDER_REFLECT)
               for k in range(36)]
    write_mp4(drift, [noisy(f) for f in shifted], 12.0, crf=18)
    quiet, moving = analyze_video(still), analyze_video(drift)
    cues = quiet.measurements["cues"]
    assert cues["fitted_motion"] < 0.25 * cues["motion"], cues
    assert quiet.answer == "Static", quiet.scores
    drifting = moving.measurements["cues"]
    assert drifting["fitted_motion"] > 0.8 * drifting["motion"], drifting
    assert not moving.primitives["Static"], moving.scores
