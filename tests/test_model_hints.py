"""--hint geometry: the observer's measurements as a cue block in the VLM prompt."""

from __future__ import annotations

import pytest

from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS
from camreasoner.model.hints import HEADER, cue_block


def test_cue_block_lists_likely_primitives_and_motion_cues():
    scores = {"Pan_Left": 0.91, "Move_Left": 0.62, "Static": 0.01, "Zoom_In": 0.3, "Tilt_Up": 0.2}
    measurements = {"frames": 40, "cues": {"pan_deg": -12.345, "zoom_pct": 0.5, "shake": 0.01, "note": "x"}}
    block = cue_block(scores, measurements)
    lines = block.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "- likely: Pan_Left 0.91, Move_Left 0.62"
    assert lines[2] == "- next: Zoom_In 0.30, Tilt_Up 0.20"
    assert lines[3] == "- measured: pan_deg=-12.3, zoom_pct=0.5, shake=0.01"
    quiet = cue_block({"Static": 0.2}, {"a": {"b": 1.5}, "flag": True})
    assert "- likely: none above 0.50" in quiet and "- measured: a.b=1.5" in quiet


def test_hf_backend_puts_the_observer_cues_before_the_question(tiny_model_dir):
    from camreasoner.backends import BackendItem, get_backend
    from camreasoner.testing.sample_clips import sample_clip

    item = BackendItem(str(sample_clip("bikes")), QUESTIONS["Pan_Right"], BINARY_OPTIONS)
    small = {"max_pixels": 64 * 28 * 28, "max_new_tokens": 6}
    plain = get_backend("hf", model=str(tiny_model_dir), **small)
    hinted = get_backend("hf", model=str(tiny_model_dir), hint="geometry", **small)
    p0, p1 = plain.prepare(item), hinted.prepare(item)
    assert HEADER not in p0.prompt
    assert p1.prompt.index(HEADER) < p1.prompt.index("Question: Does the camera pan to the right?")
    assert p1.meta["hint"].startswith(HEADER) and "- likely:" in p1.meta["hint"]
    resp = hinted.answer([item])[0]
    assert resp.error is None and resp.meta["hint"] == p1.meta["hint"]
    assert sum(resp.option_probs.values()) == pytest.approx(1.0)
