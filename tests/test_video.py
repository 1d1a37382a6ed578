"""Video input: fps sampling, frame cap, start/end, rotation metadata, downscaling, corrupt streams."""

import numpy as np
import pytest
from observer_scenes import render_clip, write_clip, write_timed_clip

from camreasoner.core.errors import CamReasonerError
from camreasoner.video.decode import DECODE_THREAD_MODES, decode_all, probe, scaled_size
from camreasoner.video.reader import VideoReader


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    frames = [np.full((120, 160), 10 * i, np.uint8) for i in range(24)]  # 2 s at 12 fps, brightness = index
    return write_clip(tmp_path_factory.mktemp("v") / "ramp.mp4", frames, fps=12)


def _index(img: np.ndarray) -> int:
    return round((float(img.mean()) - 16) * 255 / 219 / 10)


def test_probe_reads_the_header(clip):
    info = probe(clip)
    assert (info.width, info.height, info.codec) == (160, 120, "h264")
    assert info.fps == pytest.approx(12) and info.duration == pytest.approx(2.0, abs=0.1)


def test_the_decode_only_baseline_decodes_every_frame_in_each_thread_mode(clip):
    assert [decode_all(clip, mode) for mode in DECODE_THREAD_MODES] == [24] * len(DECODE_THREAD_MODES)


def test_sampling_by_fps_start_end_and_cap(clip):
    frames = list(VideoReader(clip, fps=4))
    assert [round(f.time, 2) for f in frames] == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75], abs=0.05)
    # brightness tells which source frame was taken (frame i has grey 10 i, stored as video-range luma)
    assert [_index(f.image) for f in frames] == [0, 3, 6, 9, 12, 15, 18, 21]
    span = list(VideoReader(clip, fps=None, start=0.5, end=1.0))
    assert _index(span[0].image) == 6 and span[-1].time <= 1.0 + 1e-6
    assert len(list(VideoReader(clip, fps=None, max_frames=5))) == 5


def test_a_reading_from_the_start_goes_on_from_the_probe_and_a_second_reading_reopens(clip):
    reader = VideoReader(clip, fps=None)
    first = [(f.number, _index(f.image)) for f in reader]
    assert first == [(i, i) for i in range(24)]  # the probed first frame once, then every other frame
    assert [(f.number, _index(f.image)) for f in reader] == first  # the probe's decode is used up: reopened
    unread = VideoReader(clip, fps=None)
    unread.close()  # a reader never iterated releases the probe's decode
    assert [f.number for f in unread] == list(range(24))


def test_downscaling_keeps_aspect(clip):
    img = next(iter(VideoReader(clip, max_side=80))).image
    assert img.shape == (60, 80) and img.dtype == np.uint8
    assert scaled_size(1920, 1080, 320) == (320, 180)


def test_rotation_metadata_is_applied(tmp_path):
    frame = np.zeros((60, 80), np.uint8)
    frame[:10, :] = 255  # bright top rows
    path = write_clip(tmp_path / "rot.mp4", [frame] * 4, fps=4, rotation=-90)
    info = probe(path)
    img = next(iter(VideoReader(path, max_side=None))).image
    assert (info.width, info.height) == (60, 80) and img.shape == (80, 60)
    assert img[:, -10:].mean() > 200  # displayed turned clockwise: the bright top is now at the right


def test_truncated_stream_warns_and_keeps_what_decodes(tmp_path):
    full = write_clip(tmp_path / "full.mkv", render_clip("Pan_Left", 40), fps=12)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    reader = VideoReader(cut, fps=None)
    frames = list(reader)
    assert 2 <= len(frames) < 40
    assert reader.warnings and "cut.mkv" in reader.warnings[0]
    assert reader.warnings[0] == f"{reader.damage}; analysed the {len(frames)} frames that decoded"


def test_an_avi_cut_before_its_index_is_reported_by_its_frame_count(tmp_path):
    """An AVI's index sits at its end: cut off, FFmpeg estimates a duration from what is left (near
    where decoding stops), but the header still counts every frame, and that count gives it away."""
    full = write_clip(tmp_path / "full.avi", render_clip("Pan_Left", 40), fps=12, codec="mpeg4")
    cut = tmp_path / "cut.avi"
    cut.write_bytes(full.read_bytes()[: int(full.stat().st_size * 0.8)])
    info = probe(cut)
    reader = VideoReader(cut, fps=None)
    frames = list(reader)
    assert info.frames == 40 and info.duration < 3.0 and frames[-1].time > info.duration - 1.0
    assert info.declared_length == pytest.approx(40 / 12)
    assert reader.warnings and "cut.avi" in reader.warnings[0] and "truncated" in reader.warnings[0]
    assert reader.damage == reader.warnings[0].split("; analysed")[0] and "analysed" not in reader.damage
    whole = VideoReader(full, fps=None)
    assert len(list(whole)) == 40 and whole.warnings == [] and whole.damage is None


def test_a_matroska_file_whose_frames_start_late_is_read_whole(tmp_path):
    """Frames stamped from 10 s on (a cut that kept its timestamps): Matroska's duration counts from
    0 s, so the stream is 1.5 s long from its first frame, not 11.5 s, and no frame is missing."""
    times_ms = [10_000 + 100 * i for i in range(16)]
    path = write_timed_clip(tmp_path / "late.mkv", times_ms, step=8)
    assert probe(path).duration == pytest.approx(1.6, abs=0.11)
    reader = VideoReader(path, fps=4)
    assert [round(f.time, 2) for f in reader] == pytest.approx([0.0, 0.3, 0.5, 0.8, 1.0, 1.3, 1.5], abs=0.06)
    assert reader.warnings == []


def test_the_main_video_stream_is_read_not_a_cover_picture_before_it(tmp_path):
    """An MKV whose first video stream is a one-frame JPEG picture, the clip second: FFmpeg's best
    stream (the clip) is read."""
    import av

    path = tmp_path / "cover.mkv"
    with av.open(str(path), "w") as out:
        cover = out.add_stream("mjpeg", rate=1)
        clip = out.add_stream("libx264", rate=12)
        for stream, pix in ((cover, "yuvj420p"), (clip, "yuv420p")):
            stream.width, stream.height, stream.pix_fmt = 64, 48, pix
        for stream, count in ((cover, 1), (clip, 24)):
            for i in range(count):
                frame = av.VideoFrame.from_ndarray(np.full((48, 64), 8 * i, np.uint8), format="gray").reformat(
                    format=stream.pix_fmt)
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
    info = probe(path)
    assert (info.codec, info.fps) == ("h264", pytest.approx(12))
    assert len(list(VideoReader(path, fps=0))) == 24


@pytest.mark.parametrize("content, message", [(b"", "empty file"), (b"\x00garbage" * 500, "not a readable video")])
def test_not_a_video(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(CamReasonerError, match=message):
        probe(path)


def test_missing_file_and_bad_options(tmp_path, clip):
    with pytest.raises(CamReasonerError, match="no such file"):
        probe(tmp_path / "nope.mp4")
    with pytest.raises(CamReasonerError, match="--end"):
        VideoReader(clip, start=1.0, end=0.5)


def test_variable_frame_rate_is_sampled_by_timestamps(tmp_path):
    times_ms = [0, 40, 80, 500, 540, 1000, 1040, 1500]  # bursts and gaps
    path = write_timed_clip(tmp_path / "vfr.mkv", times_ms)
    got = [round(f.time, 2) for f in VideoReader(path, fps=2)]
    assert got == pytest.approx([0.0, 0.5, 1.0, 1.5], abs=0.05)


def test_vlm_sampling_reuses_a_recent_sample_and_redecodes_a_rewritten_file(tmp_path):
    """Fifteen questions about one shot decode it once; a file written again is decoded again."""
    from camreasoner.video import sampling as vlm

    path = write_clip(tmp_path / "c.mp4", render_clip("Pan_Left", 12, seed=3), fps=6)
    opts = vlm.VideoSampling(fps=4.0, max_pixels=64 * 28 * 28)
    vlm._recent.cache_clear()
    first = vlm.sample_video(path, opts, start=0.5, end=1.5)
    again = [vlm.sample_video(path, opts, start=0.5, end=1.5) for _ in range(14)]
    info = vlm._recent.cache_info()
    assert (info.misses, info.hits) == (1, 14)
    assert all(np.array_equal(v.frames, first.frames) and v.times == first.times for v in again)
    again[0].warnings.append("a caller's note")
    assert first.warnings == [] and vlm.sample_video(path, opts, start=0.5, end=1.5).warnings == []
    other = vlm.sample_video(path, opts, start=0.0, end=1.0)  # another span is its own sample
    assert vlm._recent.cache_info().misses == 2 and not np.array_equal(other.frames, first.frames)
    write_clip(path, render_clip("Tilt_Up", 12, seed=3), fps=6)
    import os

    os.utime(path, ns=(1, 1))  # a new modification time, whatever the clock's resolution
    rewritten = vlm.sample_video(path, opts, start=0.5, end=1.5)
    assert vlm._recent.cache_info().misses == 3 and not np.array_equal(rewritten.frames, first.frames)


def test_bench_clips_are_kept_apart_and_a_missing_one_names_its_package(tmp_path, monkeypatch):
    from camreasoner.testing.sample_clips import DEBIAN_CLIPS, available_clips, bench_clips, sample_clip

    assert not set(available_clips()) & set(DEBIAN_CLIPS)  # tests and demos never depend on them
    monkeypatch.setenv("CAMREASONER_DEBIAN_DIR", str(tmp_path / "none"))
    missing = [name for name in DEBIAN_CLIPS if name not in bench_clips()]
    if not missing:  # every package installed system-wide
        pytest.skip("all bench clips are installed on this machine")
    with pytest.raises(CamReasonerError, match=f"make bench-data, or apt-get install {DEBIAN_CLIPS[missing[0]][0]}"):
        sample_clip(missing[0])
    # unpacked the way make bench-data does, it is found
    package_path = tmp_path / "deb" / DEBIAN_CLIPS[missing[0]][1]
    package_path.parent.mkdir(parents=True)
    package_path.write_bytes(b"x")
    monkeypatch.setenv("CAMREASONER_DEBIAN_DIR", str(tmp_path / "deb"))
    assert sample_clip(missing[0]) == package_path.resolve()


def _decode_order_stamped_clip(path, n=24, fps=12):
    """Frame i has grey 10 i; MPEG-4 with B-frames whose packets carry their decode-order time as
    the presentation time (as an AVI of packed B-frames or a muxer writing DTS as PTS does)."""
    import av

    with av.open(str(path), "w") as dst:
        stream = dst.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 160, 120, "yuv420p"
        stream.codec_context.max_b_frames = 2

        def mux(packets):
            for packet in packets:
                if packet.dts is not None:
                    packet.pts = packet.dts
                dst.mux(packet)

        for i in range(n):
            frame = av.VideoFrame.from_ndarray(np.full((120, 160, 3), 10 * i, np.uint8), format="rgb24")
            frame.pts = i
            mux(stream.encode(frame))
        mux(stream.encode())
    return path


def test_frames_stamped_in_decode_order_are_timed_in_display_order(tmp_path):
    import av

    clip = _decode_order_stamped_clip(tmp_path / "dts_as_pts.mp4")
    with av.open(str(clip)) as c:  # the premise: the raw presentation times go back
        raw = [f.pts for f in c.decode(video=0)]
    assert any(b < a for a, b in zip(raw, raw[1:], strict=False))
    frames = list(VideoReader(clip, fps=None))
    times = [f.time for f in frames]
    # from the second frame on (the first is dated before any stamp has gone back) one frame
    # interval apart, in the order of their content (frame i has grey 10 i)
    assert np.allclose(np.diff(times[1:]), 1 / 12, atol=1e-3) and times[1] > times[0]
    content = [_index(f.image) for f in frames]
    assert content == sorted(content) and content[-1] - content[0] >= 15
    sampled = [f.time for f in VideoReader(clip, fps=4)]
    assert np.all(np.diff(sampled) > 0)
