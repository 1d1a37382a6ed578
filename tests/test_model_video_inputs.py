"""Frame sampling for the VLM: 1 fps, at most 64 frames, capped pixels, hard caps as one-line errors."""

from __future__ import annotations

import pytest

from camreasoner.core.errors import CamReasonerError
from camreasoner.testing.sample_clips import sample_clip
from camreasoner.video.sampling import (
    VideoSampling,
    VideoTooLarge,
    frame_count,
    sample_video,
    smart_resize,
)


def test_one_frame_per_second_centred_in_each_second():
    video = sample_video(sample_clip("bikes"))  # 10.0 s, 640x272
    assert len(video.frames) == 10 and not video.capped
    assert video.times == pytest.approx([i + 0.5 for i in range(10)], abs=0.05)
    t, h, w, c = video.frames.shape
    assert c == 3 and h % 28 == 0 and w % 28 == 0 and h * w <= VideoSampling().max_pixels
    assert video.frames.dtype.name == "uint8" and video.fps == pytest.approx(1.0)


def test_long_clip_is_spread_over_at_most_max_frames():
    video = sample_video(sample_clip("vtest"))  # 79.5 s
    assert len(video.frames) == 64 and video.capped
    assert video.times[0] < 1.5 and video.times[-1] > 77
    assert all(b > a for a, b in zip(video.times, video.times[1:], strict=False))
    assert video.grid_thw[0] == 32
    fewer = sample_video(sample_clip("vtest"), VideoSampling(max_frames=8, max_pixels=56 * 56 * 4))
    assert len(fewer.frames) == 8 and fewer.frames.shape[1] * fewer.frames.shape[2] <= 56 * 56 * 4


def test_frame_counts_are_even_and_respect_the_caps():
    s = VideoSampling()
    assert frame_count(10.0, s) == (10, False)
    assert frame_count(5.28, s) == (4, False)  # 5 frames -> 4: two frames per temporal patch
    assert frame_count(0.3, s) == (2, False)
    assert frame_count(600.0, s) == (64, True)
    assert frame_count(10.0, VideoSampling(fps=2.0)) == (20, False)


def test_smart_resize_matches_the_processor_rule():
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import smart_resize as hf_resize

    for h, w in ((272, 640), (1080, 1920), (144, 176), (2160, 3840), (1920, 1080), (30, 900)):
        assert smart_resize(h, w, 3136, 200704) == hf_resize(h, w, 28, 3136, 200704)


def test_caps_are_one_line_errors_naming_the_file():
    clip = sample_clip("bikes")
    with pytest.raises(VideoTooLarge, match=r"bikes.mp4: frame size 640x272 \(174080 pixels\) is above the cap"):
        sample_video(clip, VideoSampling(max_source_pixels=320 * 240))
    with pytest.raises(VideoTooLarge, match="visual tokens, above the cap of 500"):
        sample_video(clip, VideoSampling(max_visual_tokens=500))
    with pytest.raises(CamReasonerError, match="fps must be positive"):
        VideoSampling(fps=0)
    with pytest.raises(CamReasonerError, match="no such file"):
        sample_video(clip.parent / "missing.mp4")
