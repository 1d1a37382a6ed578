"""camreasoner label / view: inputs, per-shot rows, output formats, errors, exact resume, Ray, the page."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from label_fixtures import make_library

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.formats.labels import read_labels
from camreasoner.label import LabelOptions, run_label
from camreasoner.label.cmotion import cmotion
from camreasoner.label.inputs import expand_inputs
from camreasoner.label.options import TimelineOptions
from camreasoner.label.run import CRASH_AFTER_ENV, CRASH_AT_ENV
from camreasoner.label.timeline import MotionSeries, timeline

CLI = str(Path(sys.executable).parent / "camreasoner")


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    return make_library(tmp_path_factory.mktemp("labellib"))


@pytest.fixture(scope="module")
def labelled(library, tmp_path_factory):
    out = tmp_path_factory.mktemp("labelled") / "run"
    result = run_label([str(library["lib"]), str(library["broken"] / "*.mp4")], out,
                       LabelOptions(progress=False, video_root=str(library["lib"].parent)))
    return out, result


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_inputs_files_folders_globs_and_list_files(library, tmp_path):
    lib = library["lib"]
    by_dir = expand_inputs([str(lib)])
    assert by_dir == sorted(str(p) for p in lib.rglob("*.mp4")) and len(by_dir) == 3
    (tmp_path / "list.txt").write_text("# videos\n" + "\n".join(by_dir) + "\n\n")
    with (tmp_path / "list.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "text"])
        w.writerows([[p, "x"] for p in by_dir])
    pq.write_table(pa.table({"path": by_dir, "aes": [1.0] * 3}), tmp_path / "list.parquet")
    for name in ("list.txt", "list.csv", "list.parquet"):
        assert expand_inputs([str(tmp_path / name)]) == by_dir
    assert expand_inputs([str(lib / "**" / "*.mp4")]) == by_dir
    assert expand_inputs([str(library["a"]), str(lib)]) == [str(library["a"])] + [p for p in by_dir if p != str(library["a"])]
    shutil.copy(library["a"], tmp_path / "a_copy.mp4")
    (tmp_path / "rel2.txt").write_text("a_copy.mp4\n")
    assert expand_inputs([str(tmp_path / "rel2.txt")]) == [str(tmp_path / "a_copy.mp4")]
    pq.write_table(pa.table({"file": ["x"]}), tmp_path / "nopath.parquet")
    with pytest.raises(CamReasonerError, match="no 'path' column"):
        expand_inputs([str(tmp_path / "nopath.parquet")])
    with pytest.raises(CamReasonerError, match="no such file, folder or pattern"):
        expand_inputs([str(tmp_path / "nothing_here")])


def test_outputs_reload_with_pyarrow_and_datasets(labelled):
    out, result = labelled
    assert result.failed == 3 and not result.already_done
    rows = [json.loads(x) for x in (out / "shots.jsonl").read_text().splitlines()]
    table = pq.read_table(out / "shots.parquet")
    assert table.num_rows == len(rows) >= 4
    assert table.to_pylist()[0]["primitives"] == rows[0]["primitives"]
    for name in ("video", "shot", "start", "end", "start_frame", "end_frame", "primitives", "scores", "segments",
                 "cmotion", "observation", "timeline", "magnitude"):
        assert name in table.column_names
    import datasets

    ds = datasets.load_dataset("parquet", data_files=str(out / "shots.parquet"), split="train",
                               cache_dir=str(out.parent / "hf_cache"))
    assert len(ds) == len(rows) and ds[0]["cmotion"] == rows[0]["cmotion"]
    assert set(ds[0]["primitives"]) == set(PRIMITIVES)
    labels = read_labels(out / "labels.jsonl")
    assert [lab.path for lab in labels] == [r["path"] for r in rows]
    assert all(lab.extra["end"] > lab.extra["start"] for lab in labels)
    manifest = json.loads((out / "label.json").read_text())
    assert manifest["counts"] == {"videos": 6, "labelled": 3, "failed": 3, "shots": len(rows),
                                  "video_seconds": manifest["counts"]["video_seconds"]}


def test_bad_videos_go_to_errors_with_one_line_each(labelled, library):
    out, _ = labelled
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert sorted(Path(e["path"]).name for e in errors) == ["empty.mp4", "text.mp4", "truncated.mp4"]
    assert all(e["reason"].startswith(e["path"]) and "\n" not in e["reason"] for e in errors)
    assert "empty file" in next(e["reason"] for e in errors if e["path"].endswith("empty.mp4"))


def test_a_truncated_avi_is_an_error_that_says_it_was_not_labelled(tmp_path):
    """An AVI cut before its index: the reader warns it is truncated; label keeps no row of it."""
    from observer_scenes import render_clip, write_clip

    full = write_clip(tmp_path / "full.avi", render_clip("Pan_Left", 40), fps=12, codec="mpeg4")
    cut = tmp_path / "lib" / "cut.avi"
    cut.parent.mkdir()
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.8)])
    run_label([str(cut)], tmp_path / "out", LabelOptions(progress=False))
    (error,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert "truncated" in error["reason"] and error["reason"].endswith("; not labelled")
    assert "analysed" not in error["reason"]
    assert not (tmp_path / "out" / "shots.jsonl").read_text().strip()


def test_cut_splits_the_clip_into_two_shots(labelled):
    out, _ = labelled
    rows = [r for r in map(json.loads, (out / "shots.jsonl").read_text().splitlines()) if r["video"].endswith("cut.mp4")]
    assert [r["shot"] for r in rows] == [0, 1]
    assert abs(rows[0]["end_frame"] - 24) <= 2 and rows[1]["start_frame"] == rows[0]["end_frame"]
    assert rows[0]["segments"][0]["start"] == rows[0]["start"] and rows[0]["segments"][-1]["end"] == rows[0]["end"]


def test_labels_feed_suite_build(labelled, library, tmp_path):
    out, _ = labelled
    res = cli("suite", "build", "--labels", str(out / "labels.jsonl"), "--video-root", str(library["lib"].parent),
              "--out", str(tmp_path / "suite"), "--sft", "4", "--rl", "4", "--augment", "none", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "suite" / "hf" / "rl" / "train.parquet").is_file()


def test_cli_exit_codes_resume_noop_and_refusal(library, tmp_path):
    out = tmp_path / "run"
    res = cli("label", str(library["a"]), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert "finished: 1 of 1 videos" in res.stdout
    before = (out / "label.json").stat().st_mtime_ns
    again = cli("label", str(library["a"]), "--out", str(out), "--quiet")
    assert again.returncode == 0 and "already finished" in again.stdout
    assert (out / "label.json").stat().st_mtime_ns == before
    other = cli("label", str(library["a"]), "--out", str(out), "--fps", "6", "--quiet")
    assert other.returncode == 2 and other.stderr.count("\n") == 1 and "other options (fps" in other.stderr
    run_file = out / "work" / "run.json"  # a run recorded before an option existed takes it at its default
    recorded = json.loads(run_file.read_text())
    del recorded["options"]["lens"]
    run_file.write_text(json.dumps(recorded))
    assert "already finished" in cli("label", str(library["a"]), "--out", str(out), "--quiet").stdout
    lensless = cli("label", str(library["a"]), "--out", str(out), "--no-lens", "--quiet")
    assert lensless.returncode == 2 and "other options (lens: True before, False now)" in lensless.stderr
    bad = cli("label", str(library["a"]), str(library["broken"] / "empty.mp4"), "--out", str(tmp_path / "r2"), "--quiet")
    assert bad.returncode == 1 and "1 video(s) could not be read" in bad.stderr
    usage = cli("label", str(library["a"]), "--out", str(tmp_path / "r3"), "--workers", "0")
    assert usage.returncode == 2 and "--workers" in usage.stderr


def _table(out: Path) -> list[dict]:
    return pq.read_table(out / "shots.parquet").to_pylist()


def test_resume_after_sigkill_gives_the_uninterrupted_rows(library, labelled, tmp_path):
    ref, _ = labelled
    args = ["label", str(library["lib"]), str(library["broken"] / "*.mp4"), "--out", str(tmp_path / "run"),
            "--video-root", str(library["lib"].parent), "--quiet"]
    for n in ("1", "2", "2"):
        killed = cli(*args, env={CRASH_AFTER_ENV: n})
        assert killed.returncode == -signal.SIGKILL
    parts = list((tmp_path / "run" / "work" / "parts").glob("*.parquet"))
    assert len(parts) == 5  # each run labelled only what was missing: 1 + 2 + 2
    crashed = cli(*args, env={CRASH_AT_ENV: "assemble"})
    assert crashed.returncode == -signal.SIGKILL and not (tmp_path / "run" / "label.json").exists()
    final = cli(*args)
    assert final.returncode == 1, final.stderr
    assert _table(tmp_path / "run") == _table(ref)
    assert (tmp_path / "run" / "errors.jsonl").read_text() == (ref / "errors.jsonl").read_text()


@pytest.mark.slow
def test_rows_do_not_depend_on_workers(library, labelled, tmp_path):
    ref, _ = labelled
    out = tmp_path / "w2"
    run_label([str(library["lib"]), str(library["broken"] / "*.mp4")], out,
              LabelOptions(progress=False, workers=2, video_root=str(library["lib"].parent)))
    assert _table(out) == _table(ref)


@pytest.mark.slow
def test_ray_local_gives_the_in_process_rows(library, labelled, tmp_path):
    ref, _ = labelled
    out = tmp_path / "ray"
    res = cli("label", str(library["lib"]), str(library["broken"] / "*.mp4"), "--out", str(out), "--video-root",
              str(library["lib"].parent), "--ray-address", "local", "--workers", "2", "--quiet")
    assert res.returncode == 1, res.stderr
    assert _table(out) == _table(ref)


def test_cmotion_in_open_sora_vocabulary():
    none = dict.fromkeys(PRIMITIVES, False)
    assert cmotion({**none, "Static": True}) == "static"
    assert cmotion({**none, "Pan_Left": True}) == "pan left"
    assert cmotion({**none, "Move_Left": True}) == "pan left"
    assert cmotion({**none, "Move_In": True}) == "zoom in"
    assert cmotion({**none, "Pan_Right": True, "Tilt_Up": True}) == "pan/tilt"
    assert cmotion({**none, "Pan_Right": True, "Zoom_In": True}) == "dynamic"
    assert cmotion({**none, "Pan_Right": None}) == "unknown"


def test_timeline_finds_a_pan_then_a_stop():
    rng = np.random.default_rng(0)
    t0 = np.arange(0, 4.0, 0.25)
    rates = np.zeros((len(t0), 7))
    rates[t0 < 2.1, 0] = -6.0  # Pan_Left at 6 deg/s, then still
    rates += rng.normal(0, 0.4, rates.shape)
    series = MotionSeries(t0, t0 + 0.25, rates, np.ones(len(t0), bool))
    segs = timeline(series, 0.0, 4.0, TimelineOptions(), ["Pan_Left"])
    assert [s["motion"] for s in segs] == [["Pan_Left"], ["Static"]]
    assert abs(segs[0]["end"] - 2.1) <= 0.3 and segs[0]["start"] == 0.0 and segs[-1]["end"] == 4.0


def test_timeline_reads_the_pairs_as_the_shot_reading_weighs_them():
    """A burst of pan over pairs in conflict, or seen on part of the frame, is not read as a pan;
    still pairs seen on part of the frame still show stillness; a shot with fewer than 4 readable
    pairs and nothing held is one ``unknown`` segment."""
    t0 = np.arange(0, 4.0, 0.25)
    rates = np.random.default_rng(1).normal(0, 0.2, (len(t0), 7))
    burst = (t0 >= 1.0) & (t0 < 2.5)
    rates[burst, 0] = 9.0
    valid, opts = np.ones(len(t0), bool), TimelineOptions()
    assert "Pan_Right" in timeline(MotionSeries(t0, t0 + 0.25, rates, valid), 0.0, 4.0, opts, [])[1]["motion"]
    for flags in ({"conflict": burst}, {"local": burst}):
        segs = timeline(MotionSeries(t0, t0 + 0.25, rates, valid, **flags), 0.0, 4.0, opts, [])
        assert [s["label"] for s in segs] == ["Static"], flags
    local_still = MotionSeries(t0, t0 + 0.25, rates, valid, local=~burst)  # only the burst is the camera's
    assert "Pan_Right" in [m for s in timeline(local_still, 0.0, 4.0, opts, []) for m in s["motion"]]
    assert int(local_still.readable(opts).sum()) == len(t0)
    few = MotionSeries(t0, t0 + 0.25, rates, valid, conflict=t0 >= 0.75)
    assert timeline(few, 0.0, 4.0, opts, []) == [{"start": 0.0, "end": 4.0, "motion": [], "label": "unknown"}]
    assert [s["label"] for s in timeline(few, 0.0, 4.0, opts, ["Static"])] == ["Static"]


def test_timeline_names_no_motion_the_shot_reading_rejects_over_its_time():
    """A pan with a roll, then still: with the reading's scoring windows given, a segment names only
    the motions one window it overlaps allows (a window far from it does not count); one left with
    none reads ``unknown``. A window's Static is the whole window's: a still segment loses ``Static``
    only when the windows lying inside it reject it."""
    t0 = np.arange(0, 4.0, 0.25)
    rates = np.random.default_rng(4).normal(0, 0.2, (len(t0), 7))
    rates[t0 < 2.0, 0] = 9.0  # Pan_Right
    rates[t0 < 2.0, 2] = 9.0  # Roll_Clockwise
    series, opts = MotionSeries(t0, t0 + 0.25, rates, np.ones(len(t0), bool)), TimelineOptions()

    def motions(allowed):
        return [s["motion"] for s in timeline(series, 0.0, 4.0, opts, [], allowed)]

    assert motions(None) == [["Pan_Right", "Roll_Clockwise"], ["Static"]]
    assert motions([(0.0, 3.0, frozenset({"Pan_Right"})), (1.5, 4.0, frozenset())]) == [["Pan_Right"], ["Static"]]
    assert motions([(0.0, 3.0, frozenset()), (1.5, 4.0, frozenset())]) == [[], ["Static"]]
    assert motions([(0.0, 1.9, frozenset()), (2.2, 4.0, frozenset({"Roll_Clockwise", "Static"}))]) == [[], ["Static"]]
    still = MotionSeries(t0, t0 + 0.25, rates * [0, 1, 0, 1, 1, 1, 1], np.ones(len(t0), bool))  # no pan, no roll
    for allowed, want in (([(0.0, 4.0, frozenset())], []), ([(0.0, 4.0, frozenset({"Static"}))], ["Static"]),
                          ([(0.0, 2.5, frozenset()), (1.5, 4.0, frozenset({"Static"}))], ["Static"])):
        assert [s["motion"] for s in timeline(still, 0.0, 4.0, opts, [], allowed)] == [want], allowed


def test_label_timeline_keeps_to_the_reading_of_a_still_shot_with_moving_figures():
    """Megamind.avi 4.1-6.5 s (a still shot, labelled by eye; figures move): its reading rejects
    every motion but an unsure Move_In, and the timeline names nothing else."""
    from camreasoner.label.video import shot_row
    from camreasoner.observer.reading import ObserverOptions, analyze_video
    from camreasoner.testing.sample_clips import available_clips

    clip = available_clips().get("Megamind")
    if clip is None:
        pytest.skip("opencv-doc's Megamind.avi is not installed")
    shot = next(s for s in analyze_video(clip, ObserverOptions()).shots if abs(s.shot.start - 4.1) < 0.2)
    row = shot_row(str(clip), "Megamind.avi", 1, shot.shot, shot.reading, LabelOptions())
    unsure = {p for p, v in row["primitives"].items() if v is None}
    named = {m for s in row["segments"] for m in s["motion"]}
    assert not any(row["primitives"].values())
    assert named <= unsure | {"Static"}, row["timeline"]


def test_a_pair_says_when_it_is_in_conflict_or_seen_on_part_of_the_frame():
    from camreasoner.observer.geometry import PairMotion
    from camreasoner.observer.track import TrackedPair

    def rates(**kw):
        return TrackedPair(0.0, 0.25, 0, 3, PairMotion(dt=0.25, n_tracks=100, valid=True, **kw)).rates()

    assert rates()["valid"] and not rates()["conflict"] and not rates()["local"]
    assert rates(conflict=True)["conflict"] and rates(conflict=True)["valid"]
    assert rates(extent=0.3)["local"] and not rates(extent=0.6)["local"]


def test_a_change_timed_at_a_segments_far_end_leaves_no_sliver():
    """One pair of pan at the end of a still shot: the change would be timed 0.125 s before the end,
    a sliver under half the 0.5-s minimum segment, so it joins the still segment; a pan over the
    last third of a second keeps its segment."""
    t0 = np.arange(0, 4.0, 0.25)
    opts = TimelineOptions()
    for last, want in (((0.0, 6.0), ["Static"]), ((1.0, 5.0), ["Static", "Pan_Right"])):
        rates = np.random.default_rng(2).normal(0, 0.1, (len(t0), 7))
        rates[-2:, 0] = last
        segs = timeline(MotionSeries(t0, t0 + 0.25, rates, np.ones(len(t0), bool)), 0.0, 4.0, opts, [])
        assert [s["label"] for s in segs] == want, segs
        assert all(s["end"] - s["start"] >= opts.min_segment / 2 for s in segs)


def test_timeline_places_a_change_inside_a_frame_pair():
    # pairs of 0.25 s read the mean rate over their interval: the pair 1.75-2.0 s is 60 % pan
    t0 = np.arange(0, 4.0, 0.25)
    rates = np.zeros((len(t0), 7))
    rates[:, 0] = 8.0 * np.clip((t0 + 0.25 - 1.85) / 0.25, 0.0, 1.0)  # still, then Pan_Right from 1.85 s
    rates += np.random.default_rng(3).normal(0, 0.1, rates.shape)
    segs = timeline(MotionSeries(t0, t0 + 0.25, rates, np.ones(len(t0), bool)), 0.0, 4.0, TimelineOptions(), [])
    assert [s["label"] for s in segs] == ["Static", "Pan_Right"]
    assert abs(segs[1]["start"] - 1.85) <= 0.05


def test_timeline_on_a_rendered_pan_then_stop(tmp_path):
    from camreasoner.synth.dataset import generate_dataset

    # seed 13's seventh sequence clip: Pan_Left, then still from 2.085 s (4 s, 160x120, 12 fps)
    generate_dataset(tmp_path / "seq", 7, 13, size=(160, 120), fps=12.0, seconds=4.0, progress=False,
                     recipes=["sequence"], effects=False)
    rec = [json.loads(x) for x in (tmp_path / "seq" / "labels.jsonl").read_text().splitlines()][6]
    assert rec["recipe"]["phases"] == [["Pan_Left"], []]
    run_label([str(tmp_path / "seq" / rec["path"])], tmp_path / "out", LabelOptions(progress=False))
    rows = pq.read_table(tmp_path / "out" / "shots.parquet").to_pylist()
    assert len(rows) == 1
    segs = rows[0]["segments"]
    assert [s["label"] for s in segs] == ["Pan_Left", "Static"]  # no extra short segment
    assert abs(segs[1]["start"] - rec["recipe"]["change_s"]) <= 0.3


def test_timeline_search_is_ruptures_pelt_and_takes_an_hour_long_shot():
    import ruptures as rpt

    rng = np.random.default_rng(1)
    t0 = np.arange(0, 75.0, 0.25)
    rates = rng.normal(0, 0.6, (len(t0), 7))
    rates[(t0 // 10) % 2 == 1, 1] += 5.0  # tilting up for 10 s every 20 s
    opts = TimelineOptions()
    scaled = rates / np.array([opts.scale[f] for f in opts.scale])
    pelt = rpt.Pelt(model="l2", min_size=2, jump=1).fit(scaled).predict(pen=opts.penalty)
    series = MotionSeries(t0, t0 + 0.25, rates, np.ones(len(t0), bool))
    starts = [s["start"] for s in timeline(series, 0.0, 75.0, opts, [])][1:]
    found = [float(t0[b]) for b in pelt[:-1]]  # each change PELT's, fitted within the pair it falls in
    assert starts and all(min(abs(s - f) for f in found) <= 0.25 for s in starts)
    hour = np.arange(0, 3600.0, 0.25)  # 14,400 pairs: a still camera, one pan from 1800 s to 1830 s
    rates = rng.normal(0, 0.3, (len(hour), 7))
    rates[(hour >= 1800) & (hour < 1830), 0] -= 6.0
    segs = timeline(MotionSeries(hour, hour + 0.25, rates, np.ones(len(hour), bool)), 0.0, 3600.0, opts, [])
    assert [s["label"] for s in segs] == ["Static", "Pan_Left", "Static"]
    assert abs(segs[1]["start"] - 1800) <= 0.5 and abs(segs[1]["end"] - 1830) <= 0.5


def test_view_writes_a_self_contained_page(labelled, tmp_path):
    out, _ = labelled
    res = cli("view", str(out))
    assert res.returncode == 0, res.stderr
    page = (out / "index.html").read_text()
    assert page.count('class="shot"') == pq.read_table(out / "shots.parquet").num_rows
    assert "data:image/jpeg;base64," in page and "http://" not in page and "https://" not in page
    assert 'id="prim"' in page and 'id="conf"' in page and 'class="seg"' in page


def test_view_in_headless_chromium(labelled, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed: Debian's package, which `make data` installs only when run as root")
    out, _ = labelled
    assert cli("view", str(out)).returncode == 0
    shot = tmp_path / "page.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + str(tmp_path / "prof")]
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1000,1400",
                    (out / "index.html").as_uri()], capture_output=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 5000
    dom = subprocess.run([browser, *flags, "--dump-dom", (out / "index.html").as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    assert dom.count('<img class="thumb"') >= 4 and "shots shown" in dom and "cmotion" in dom


def test_analyze_plot_draws_the_curves(library, tmp_path):
    target = tmp_path / "motion.png"
    res = cli("analyze", str(library["cut"]), "--plot", str(target), "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["primitives"]
    import matplotlib.image as mpimg

    img = mpimg.imread(target)
    assert img.shape[0] > 400 and img.shape[1] > 600 and float(img[..., :3].std()) > 0.05
