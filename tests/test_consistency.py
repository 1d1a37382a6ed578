"""Observation consistency: claims read from free wording, compared with measured primitives."""

import pytest

from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.qa.consistency import check_observation, parse_claims


def measured(*true: str) -> dict[str, bool]:
    return {p: p in true for p in PRIMITIVES}


def claims(text: str) -> set[tuple[tuple[str, ...], bool]]:
    return {(tuple(sorted(c.primitives)), c.negated) for c in parse_claims(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The camera pans left.", {(("Pan_Left",), False)}),
        ("Panning to the right while zooming in.", {(("Pan_Right",), False), (("Zoom_In",), False)}),
        ("A slow dolly in; no zoom.", {(("Move_In",), False), (("Zoom_In", "Zoom_Out"), True)}),
        ("Content slides right at all depths alike.", {(("Pan_Left",), False)}),
        ("Content slides right with strong parallax.", {(("Move_Left",), False)}),
        ("Everything shifts down.", {(("Move_Up", "Tilt_Up"), False)}),
        ("The scene expands uniformly about the centre.", {(("Zoom_In",), False)}),
        ("The image rotates clockwise on screen.", {(("Roll_Counterclockwise",), False)}),
        ("It rolls counter-clockwise.", {(("Roll_Counterclockwise",), False)}),
        ("It rolls clockwise.", {(("Roll_Clockwise",), False)}),
        ("The camera is completely still.", {(("Static",), False)}),
        ("The camera doesn't move at all.", {(("Static",), False)}),
        ("The camera is not static.", {(("Static",), True)}),
        ("The camera moves backward (not zooming out).", {(("Move_Out",), False), (("Zoom_Out",), True)}),
        ("a leftward pan combined with a push-in", {(("Pan_Left",), False), (("Move_In",), False)}),
        ("The focal length increases.", {(("Zoom_In",), False)}),
        ("The camera rises as it tilts down.", {(("Move_Up",), False), (("Tilt_Down",), False)}),
        ("The camera is rising, then lowering.", {(("Move_Up",), False), (("Move_Down",), False)}),
        ("It is advancing, not retreating.", {(("Move_In",), False), (("Move_Out",), True)}),
        (
            "It trucks to its left and does not pan, tilt or zoom.",
            {
                (("Move_Left",), False),
                (("Pan_Left", "Pan_Right"), True),
                (("Tilt_Down", "Tilt_Up"), True),
                (("Zoom_In", "Zoom_Out"), True),
            },
        ),
    ],
)
def test_claims_in_free_wording(text, expected):
    assert claims(text) == expected


def test_agreeing_observation_scores_one():
    r = check_observation(
        "The camera pans left while zooming in; it does not roll.", measured("Pan_Left", "Zoom_In")
    )
    assert r.score == 1.0 and r.contradictions == []


def test_wrong_direction_is_a_contradiction():
    r = check_observation("The camera pans right.", measured("Pan_Left"))
    assert r.score == 0.0
    assert r.contradictions == ["claims Pan_Right but it was not measured"]


def test_denial_of_a_measured_motion_is_a_contradiction():
    r = check_observation("The camera pans left and there is no zoom.", measured("Pan_Left", "Zoom_Out"))
    assert r.contradictions == ["denies Zoom_Out but it was measured"]
    assert 0.0 < r.score < 1.0


def test_partial_observation_loses_recall_not_precision():
    r = check_observation("The camera pans left.", measured("Pan_Left", "Tilt_Up"))
    assert r.precision == 1.0 and r.recall == 0.5 and r.score == 0.75


def test_ambiguous_image_motion_agrees_with_either_cause():
    for cause in ("Pan_Left", "Move_Left"):
        assert check_observation("Content slides right.", measured(cause)).score == 1.0
    assert check_observation("Content slides right.", measured("Pan_Right")).contradictions


def test_vague_or_empty_observation_scores_zero():
    for text in ("", "A nice video of a street.", "Something happens."):
        r = check_observation(text, measured("Pan_Left"))
        assert r.score == 0.0 and r.contradictions == []


def test_unmeasured_primitives_are_not_checked():
    r = check_observation("The camera pans left and zooms in.", {"Pan_Left": True})
    assert r.score == 1.0 and len(r.claims) == 2


def test_static_claims():
    assert check_observation("The camera remains static.", measured("Static")).score == 1.0
    r = check_observation("The camera remains static.", measured("Move_In"))
    assert r.contradictions == ["claims Static but it was not measured"]
