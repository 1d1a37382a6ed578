"""MP4 (H.264, yuv420p) encoding with PyAV, written to a temporary name and renamed when complete."""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from camreasoner.core.io import atomic_path


def write_mp4(path: str | os.PathLike[str], frames: Sequence[np.ndarray], fps: float, crf: int = 23) -> None:
    """Encode RGB uint8 frames (H, W, 3; even H and W) as an H.264 MP4 at ``fps``; atomic (tmp + rename).

    Output bytes depend only on the frames and settings: one encoder thread, OpenCV's colour
    conversion, and no macroblock-tree rate control (with it, x264's output varied between runs).
    """
    path = Path(path)
    height, width = frames[0].shape[:2]
    rate = Fraction(fps).limit_denominator(1001)
    with atomic_path(path, suffix=path.suffix) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream(
                "libx264",
                rate=rate,
                options={"crf": str(crf), "preset": "veryfast", "threads": "1", "x264-params": "mbtree=0"},
            )
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.codec_context.thread_count = 1
            stream.codec_context.time_base = 1 / rate
            for k, frame in enumerate(frames):
                # Convert with OpenCV (BT.601 limited range): PyAV's own RGB->YUV path made output
                # bytes vary from run to run; this way they depend only on the frames.
                yuv = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2YUV_I420)
                vf = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
                vf.pts, vf.time_base = k, 1 / rate
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)


def read_frames(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """Decode every frame of a video as RGB uint8 (for tests and contact sheets)."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
