"""Augmentations: exact label transforms, crops recomputed from the synth recipe, real video files."""

import random

import numpy as np
import pytest
from suite_fixtures import make_synth

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import FAMILIES, OPPOSITES, PRIMITIVES
from camreasoner.formats.labels import ClipLabel, read_labels
from camreasoner.observer.reading import analyze_video
from camreasoner.suite.augment import augment_clip, crop_labels, mirrored_labels, read_video, reversed_labels


def random_labels(rng):
    return {p: rng.choice([True, False, None]) for p in PRIMITIVES}


def test_reversal_flips_every_family_and_is_an_involution():
    rng = random.Random(0)
    for _ in range(200):
        lab = random_labels(rng)
        rev = reversed_labels(lab)
        assert reversed_labels(rev) == lab
        assert rev["Static"] == lab["Static"]
        for a, b in FAMILIES.values():
            assert rev[a] == lab[b] and rev[b] == lab[a]


def test_mirror_swaps_left_right_and_roll_only():
    rng = random.Random(1)
    swapped = {"Pan_Left", "Pan_Right", "Move_Left", "Move_Right", "Roll_Clockwise", "Roll_Counterclockwise"}
    for _ in range(200):
        lab = random_labels(rng)
        mir = mirrored_labels(lab)
        assert mirrored_labels(mir) == lab
        for p in PRIMITIVES:
            assert mir[p] == (lab[OPPOSITES[p]] if p in swapped else lab[p])


def test_crop_labels_from_recipe():
    recipe = {"motions": [{"primitive": "Pan_Left", "magnitude": 20.0, "easing": "linear", "window": [0, 1]}]}
    assert crop_labels(recipe, 0.0, 1.0)["Pan_Left"] is True
    half = crop_labels(recipe, 0.0, 0.5)  # 10 degrees: clear
    assert half["Pan_Left"] is True and half["Pan_Right"] is False and half["Static"] is False
    assert crop_labels(recipe, 0.0, 0.1)["Pan_Left"] is None  # 2 degrees: too small to call
    tiny = crop_labels(recipe, 0.0, 0.04)  # 0.8 degrees: negligible, but the camera still turns
    assert tiny["Pan_Left"] is False and tiny["Static"] is False
    late = {"motions": [{"primitive": "Zoom_In", "magnitude": 0.5, "easing": "linear", "window": [0.5, 1]}]}
    assert crop_labels(late, 0.0, 0.45)["Static"] is True  # nothing moves before the motion starts
    with pytest.raises(CamReasonerError):
        crop_labels({"motions": [{"primitive": "Pan_Left"}]}, 0, 1)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return make_synth(tmp_path_factory.mktemp("aug"), clips=6, seed=11)


def test_full_window_crop_reproduces_synth_labels(synth):
    for lab in read_labels(synth / "labels.jsonl"):
        assert crop_labels(lab.extra["recipe"], 0.0, 1.0) == lab.primitives, lab.path


def test_augmented_videos_are_real_and_exact(synth, tmp_path):
    labels = read_labels(synth / "labels.jsonl")
    lab = labels[0]
    out = augment_clip(
        lab, synth, tmp_path, "aug", ("reverse", "mirror", "reverse_mirror", "crop"), seed=0, crops=2
    )
    kinds = [a.kind for a in out]
    assert kinds == ["reverse", "mirror", "reverse_mirror", "crop", "crop2"]
    frames, _ = read_video(synth / lab.path)
    f = np.stack(frames).astype(float)
    for aug in out:
        got = np.stack(read_video(tmp_path / aug.label.path)[0]).astype(float)
        if aug.kind == "reverse":
            want = f[::-1]
        elif aug.kind == "mirror":
            want = f[:, :, ::-1]
        elif aug.kind == "reverse_mirror":
            want = f[::-1, :, ::-1]
        else:
            first, last = aug.label.extra["crop_frames"]
            want = f[first : last + 1]
            s0, s1 = first / (len(f) - 1), last / (len(f) - 1)
            assert aug.label.primitives == crop_labels(lab.extra["recipe"], s0, s1)
        assert got.shape == want.shape
        assert np.abs(got - want).mean() < 6.0  # lossy re-encoding only
        assert aug.label.extra["augment_of"] == lab.path and "poses" not in aug.label.extra
    # resumable: existing files are kept, not re-encoded
    mtimes = [(tmp_path / a.label.path).stat().st_mtime_ns for a in out]
    again = augment_clip(
        lab, synth, tmp_path, "aug", ("reverse", "mirror", "reverse_mirror", "crop"), seed=0, crops=2
    )
    assert [(tmp_path / a.label.path).stat().st_mtime_ns for a in again] == mtimes
    assert [a.label.primitives for a in again] == [a.label.primitives for a in out]


def test_observer_sees_the_flipped_motion(tmp_path):
    # A clip the observer reads as a clear pan; its reversal and mirror must read as the other pan.
    from camreasoner.synth.dataset import generate_dataset

    synth = tmp_path / "pan"
    generate_dataset(synth, 12, 5, progress=False, effects=False, primitives=["Pan_Left", "Pan_Right"])
    labels = read_labels(synth / "labels.jsonl")
    lab = next(x for x in labels if x.primitives["Pan_Left"] or x.primitives["Pan_Right"])
    orig = analyze_video(synth / lab.path)
    side = "Pan_Left" if lab.primitives["Pan_Left"] else "Pan_Right"
    assert orig.primitives[side]
    for aug in augment_clip(lab, synth, tmp_path, "aug", ("reverse", "mirror")):
        reading = analyze_video(tmp_path / aug.label.path)
        assert aug.label.primitives[OPPOSITES[side]] is True
        assert reading.primitives[OPPOSITES[side]] and not reading.primitives[side], aug.kind


def test_missing_video_is_a_clear_error(synth, tmp_path):
    lab = ClipLabel("clips/missing.mp4", dict.fromkeys(PRIMITIVES, False))
    with pytest.raises(CamReasonerError, match="cannot decode|no such|missing"):
        augment_clip(lab, synth, tmp_path, "aug", ("reverse",))
