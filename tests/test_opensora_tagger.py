"""The Open-Sora tagger baseline (bench/opensora_tagger.py): published rules and the mapping to our primitives."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from opensora_tagger import TaggerOptions, clip_type, sample_type  # noqa: E402


def _flow(fx, fy) -> np.ndarray:
    h, w = 60, 80
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.stack([fx(xs - w / 2, ys - h / 2), fy(xs - w / 2, ys - h / 2)], axis=-1).astype(np.float32)


@pytest.mark.parametrize(
    "flow,expected",
    [
        ((lambda x, y: 0 * x + 0.5, lambda x, y: 0 * y), "static"),
        ((lambda x, y: 0 * x + 4.0, lambda x, y: 0 * y + 0.5), "pan left"),  # content right = Pan_Left
        ((lambda x, y: 0 * x - 4.0, lambda x, y: 0 * y), "pan right"),
        ((lambda x, y: 0 * x, lambda x, y: 0 * y + 4.0), "tilt up"),  # content down (image y) = Tilt_Up
        ((lambda x, y: 0 * x, lambda x, y: 0 * y - 4.0), "tilt down"),
        ((lambda x, y: 0.1 * x, lambda x, y: 0.1 * y), "zoom in"),
        ((lambda x, y: -0.1 * x, lambda x, y: -0.1 * y), "zoom out"),
    ],
)
def test_sample_rules(flow, expected: str) -> None:
    assert sample_type(_flow(*flow), TaggerOptions()) == expected


def test_clip_rule_majority_over_half() -> None:
    assert clip_type(["pan left", "pan left", "static"]) == "pan left"
    assert clip_type(["pan left", "static"]) == "unknown"
    assert clip_type(["pan left", "tilt up"]) == "pan/tilt"
    assert clip_type(["pan left", "zoom in"]) == "dynamic"
