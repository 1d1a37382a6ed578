"""EMA-GRPO advantages on hand-made reward batches: group-mean centring, a moving reward std per
task type (decay, floor, first-batch initialisation), unscored completions, and state round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest

from camreasoner.train.advantages import EmaRewardStd, ema_advantages, task_type

G = 4  # completions per prompt


def test_first_batch_scales_each_task_type_by_its_own_batch_std():
    # binary: two groups of 0/1 rewards; vqa: one group whose rewards are all equal
    rewards = [1, 0, 1, 0, 1, 1, 1, 0, 0.5, 0.5, 0.5, 0.5]
    types = ["binary"] * 8 + ["vqa"] * 4
    state = EmaRewardStd()
    adv = ema_advantages(rewards, G, types, state)
    # binary: mean 5/8, mean of squares 5/8, std = sqrt(5/8 - 25/64) = sqrt(15/64)
    s = math.sqrt(15 / 64)
    want = [0.5 / s, -0.5 / s, 0.5 / s, -0.5 / s, 0.25 / s, 0.25 / s, 0.25 / s, -0.75 / s, 0, 0, 0, 0]
    np.testing.assert_allclose(adv, want, rtol=1e-12)
    assert state.moments == {"binary": (0.625, 0.625), "vqa": (0.5, 0.25)}
    assert state.std("binary") == pytest.approx(s) and state.std("vqa") == 1e-3  # std 0: the floor


def test_the_moments_decay_across_two_batches():
    state = EmaRewardStd(decay=0.5)
    ema_advantages([1, 0, 1, 0, 1, 1, 1, 0], G, ["binary"] * 8, state)  # moments (5/8, 5/8)
    adv = ema_advantages([1, 1, 0, 0, 0, 0, 0, 1], G, ["binary"] * 8, state)  # batch moments (3/8, 3/8)
    # m1 = m2 = 0.5 * 5/8 + 0.5 * 3/8 = 0.5, so std = sqrt(0.5 - 0.25) = 0.5
    assert state.moments["binary"] == (0.5, 0.5)
    np.testing.assert_allclose(adv, [1, 1, -1, -1, -0.5, -0.5, -0.5, 1.5], rtol=1e-12)
    # the default decay 0.99 moves slowly: m1 = 0.99 * 5/8 + 0.01 * 3/8 = 0.6225
    slow = EmaRewardStd()
    ema_advantages([1, 0, 1, 0, 1, 1, 1, 0], G, ["binary"] * 8, slow)
    ema_advantages([1, 1, 0, 0, 0, 0, 0, 1], G, ["binary"] * 8, slow)
    assert slow.moments["binary"] == pytest.approx((0.6225, 0.6225))
    assert slow.std("binary") == pytest.approx(math.sqrt(0.6225 - 0.6225**2))


def test_the_floor_bounds_the_scale():
    # rewards 0, 0, 0, 0.1: mean 0.025, mean of squares 0.0025, std sqrt(0.001875) ~ 0.043 < 0.1
    adv = ema_advantages([0, 0, 0, 0.1], G, ["t"] * 4, EmaRewardStd(floor=0.1))
    np.testing.assert_allclose(adv, [-0.25, -0.25, -0.25, 0.75], rtol=1e-12)


def test_types_keep_separate_statistics_whatever_their_order():
    state = EmaRewardStd(decay=0.5)
    rewards = [0, 2, 0, 2, 1, 0, 1, 0]  # "a": std 1; "b": std 0.5
    adv = ema_advantages(rewards, G, ["a"] * 4 + ["b"] * 4, state)
    np.testing.assert_allclose(adv, [-1, 1, -1, 1, 1, -1, 1, -1], rtol=1e-12)
    # a batch of "b" only leaves "a" untouched
    ema_advantages([1, 1, 1, 1], G, ["b"] * 4, state)
    assert state.moments["a"] == (1.0, 2.0) and state.moments["b"] == (0.75, 0.75)


def test_unscored_completions_get_zero_and_stay_out_of_the_statistics():
    nan = float("nan")
    # group 1 dropped by online filtering (all NaN), group 2 has one unscored completion
    rewards = [nan, nan, nan, nan, 1, 0, nan, 1]
    state = EmaRewardStd()
    adv = ema_advantages(rewards, G, ["binary"] * 8, state)
    # scored rewards 1, 0, 1: mean 2/3, std sqrt(2/3 - 4/9) = sqrt(2/9); group mean 2/3
    s = math.sqrt(2 / 9)
    np.testing.assert_allclose(adv, [0, 0, 0, 0, (1 / 3) / s, (-2 / 3) / s, 0, (1 / 3) / s], rtol=1e-12)
    assert state.moments["binary"] == pytest.approx((2 / 3, 2 / 3))


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match="groups of 4"):
        ema_advantages([1, 0, 1], G, ["t"] * 3, EmaRewardStd())
    with pytest.raises(ValueError, match="2 task types for 4 rewards"):
        ema_advantages([1, 0, 1, 0], G, ["t"] * 2, EmaRewardStd())


def test_state_round_trip_and_task_type():
    state = EmaRewardStd(decay=0.9, floor=0.01)
    ema_advantages([1, 0, 1, 1], G, ["binary"] * 4, state)
    again = EmaRewardStd.from_dict(state.to_dict())
    assert again == state
    assert task_type({"problem_type": "multiple choice", "kind": "binary"}) == "multiple choice"
    assert task_type({"kind": "binary"}) == "binary" and task_type({"kind": None}) == "all"
