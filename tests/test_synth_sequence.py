"""The synth ``sequence`` recipe: two phases with a known change time, only when asked for."""

from __future__ import annotations

import numpy as np

from camreasoner.synth.trajectories import RECIPE_KINDS, build_trajectory, plan_clips


def test_sequence_is_not_in_the_default_mix():
    assert "sequence" not in RECIPE_KINDS
    assert all(p.kind != "sequence" for p in plan_clips(60, 0))


def test_sequence_phases_change_at_the_recorded_time():
    plans = plan_clips(12, 3, recipes=("sequence",))
    assert {p.kind for p in plans} == {"sequence"}
    for plan in plans:
        traj = build_trajectory(plan, np.random.default_rng(plan.index), np.random.default_rng(0), 2.0, 4.0, None)
        change = traj.extra["change"]
        assert abs(traj.extra["change_s"] - 4.0 * change) < 1e-3
        first, second = plan.phases
        before = traj.family_values(change * 0.5)
        after_a, after_b = traj.family_values(change + 0.01), traj.family_values(1.0)
        moving_after = {f for f in after_b if abs(after_b[f] - after_a[f]) > 1e-9}
        moving_before = {f for f in before if abs(before[f]) > 1e-9}
        assert bool(first) == bool(moving_before)
        assert bool(second) == bool(moving_after)
        labels = traj.labels()
        assert all(labels[p] for p in plan.primitives) and labels["Static"] is False
