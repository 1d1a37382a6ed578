"""Camera trajectories: one motion per primitive with random magnitude, speed and easing; combinations;
hard negatives (confusable pairs with matched image motion, static camera with moving subjects,
shake without a direction, subtle motions whose labels are unknown).

Every family is one signed value over the clip (conventions.md: camera axes x right, y down,
z forward; the world frame is the first frame's camera frame):

==========  =============================  ==========================  =========================
family      value                          positive means              negative means
==========  =============================  ==========================  =========================
pan         yaw, degrees: R_y(yaw)         Pan_Right (axis turns +x)   Pan_Left
tilt        pitch, degrees: R_x(pitch)     Tilt_Up (axis turns -y)     Tilt_Down
roll        roll, degrees: R_z(roll)       Roll_Clockwise              Roll_Counterclockwise
zoom        log(f / f0)                    Zoom_In                     Zoom_Out
dolly       centre z / near depth          Move_In                     Move_Out
truck       centre x / near depth          Move_Right                  Move_Left
pedestal    -centre y / near depth         Move_Up                     Move_Down
==========  =============================  ==========================  =========================

Camera-to-world rotation: ``R_y(yaw) @ R_x(pitch) @ R_z(roll)`` (pan about the vertical, tilt
about the camera's horizontal, roll about its optical axis). Translations are metres in the
first frame's axes, scaled by the scene's near depth so parallax is comparable across scenes.

Labels from the value v at the end of the clip (motions are monotonic): |v| >= CLEAR: the
primitive of v's sign is true, its opposite false; |v| < NEGLIGIBLE: both false; between: the
primitive of v's sign is null (too small to call), its opposite false. Static is true only with
no motion and no shake. Shake stays below NEGLIGIBLE on every family.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import CONFUSABLE_PAIRS, FAMILIES, PRIMITIVES, compatible
from camreasoner.synth.effects import Shake
from camreasoner.synth.scene import Camera, camera_from_params, rot_x, rot_y, rot_z

FAMILY_OF: dict[str, str] = {p: fam for fam, pair in FAMILIES.items() for p in pair}
POSITIVE: dict[str, str] = {
    "pan": "Pan_Right", "tilt": "Tilt_Up", "roll": "Roll_Clockwise", "zoom": "Zoom_In",
    "dolly": "Move_In", "truck": "Move_Right", "pedestal": "Move_Up",
}  # fmt: skip
SIGN: dict[str, int] = {p: (1 if POSITIVE[FAMILY_OF[p]] == p else -1) for p in FAMILY_OF}
UNITS: dict[str, str] = {
    "pan": "deg", "tilt": "deg", "roll": "deg", "zoom": "log_ratio",
    "dolly": "near_depth", "truck": "near_depth", "pedestal": "near_depth",
}  # fmt: skip
# Magnitudes that are clearly called (randomised within), and the thresholds of the labels.
CLEAR_RANGE: dict[str, tuple[float, float]] = {
    "pan": (8.0, 30.0), "tilt": (6.0, 20.0), "roll": (6.0, 25.0), "zoom": (math.log(1.25), math.log(1.8)),
    "dolly": (0.15, 0.45), "truck": (0.10, 0.30), "pedestal": (0.08, 0.25),
}  # fmt: skip
SUBTLE_RANGE: dict[str, tuple[float, float]] = {
    "pan": (1.5, 3.5), "tilt": (1.5, 3.0), "roll": (1.5, 3.0), "zoom": (0.02, 0.06),
    "dolly": (0.02, 0.06), "truck": (0.015, 0.04), "pedestal": (0.015, 0.035),
}  # fmt: skip
NEGLIGIBLE: dict[str, float] = {
    "pan": 1.0, "tilt": 1.0, "roll": 1.0, "zoom": 0.01, "dolly": 0.01, "truck": 0.01, "pedestal": 0.01,
}  # fmt: skip
CLEAR: dict[str, float] = {
    "pan": 6.0, "tilt": 5.0, "roll": 5.0, "zoom": math.log(1.15), "dolly": 0.10, "truck": 0.07, "pedestal": 0.06,
}  # fmt: skip
EASINGS = ("linear", "smooth", "ease_in", "ease_out")
MOVING = tuple(p for p in PRIMITIVES if p != "Static")
# The rotation/zoom member of each confusable pair, and its translation look-alike.
CONFUSABLE_KINDS = {"pan": "truck", "tilt": "pedestal", "zoom": "dolly"}


def ease(kind: str, a: float) -> float:
    """Easing of progress ``a`` in [0, 1] (monotonic, 0 -> 0, 1 -> 1)."""
    a = min(max(a, 0.0), 1.0)
    if kind == "smooth":
        return a * a * (3 - 2 * a)
    if kind == "ease_in":
        return a * a
    if kind == "ease_out":
        return 1 - (1 - a) * (1 - a)
    return a


@dataclass
class Motion:
    """One primitive's motion: ``magnitude`` in its family's units, eased over [start, end] of the clip."""

    primitive: str
    magnitude: float
    easing: str = "linear"
    start: float = 0.0
    end: float = 1.0

    @property
    def family(self) -> str:
        """The family (pan, tilt, ...)."""
        return FAMILY_OF[self.primitive]

    def value(self, s: float) -> float:
        """The signed family value at clip time ``s`` in [0, 1]."""
        a = (s - self.start) / max(self.end - self.start, 1e-9)
        return SIGN[self.primitive] * self.magnitude * ease(self.easing, a)

    def to_json(self) -> dict:
        """JSON-able description."""
        return {
            "primitive": self.primitive,
            "magnitude": round(self.magnitude, 5),
            "units": UNITS[self.family],
            "easing": self.easing,
            "window": [round(self.start, 4), round(self.end, 4)],
        }


def random_timing(rng: np.random.Generator) -> tuple[str, float, float]:
    """A random easing and time window (at least 60% of the clip, ending by the last frame)."""
    easing = EASINGS[int(rng.integers(len(EASINGS)))]
    if rng.random() < 0.5:
        return easing, 0.0, 1.0
    start = float(rng.uniform(0.0, 0.25))
    end = float(rng.uniform(max(start + 0.6, 0.75), 1.0))
    return easing, start, end


def random_motion(primitive: str, rng: np.random.Generator, subtle: bool = False) -> Motion:
    """A motion of ``primitive`` with a clear (or, if ``subtle``, an unknown-label) random magnitude."""
    lo, hi = (SUBTLE_RANGE if subtle else CLEAR_RANGE)[FAMILY_OF[primitive]]
    easing, start, end = random_timing(rng)
    return Motion(primitive, float(rng.uniform(lo, hi)), easing, start, end)


def matched_pair(family: str, sign: int, rng: np.random.Generator) -> tuple[Motion, Motion]:
    """A rotation/zoom motion and its translation look-alike with the same image motion at the near depth.

    pan θ vs truck d: a point at the near depth Z moves by f·tanθ vs f·d/Z, so d/Z = tanθ.
    tilt θ vs pedestal: the same vertically. zoom ratio r vs dolly d: magnification r vs Z/(Z-d), so
    d/Z = 1 - 1/r (for zoom out, 1/r vs Z/(Z+d): d/Z = r - 1). Far things then move less under the
    translation than under the rotation/zoom: parallax is the only cue.
    """
    easing, start, end = random_timing(rng)
    partner = CONFUSABLE_KINDS[family]
    if family in ("pan", "tilt"):
        theta = float(rng.uniform(8.0, 15.0))
        rel = math.tan(math.radians(theta))
        a_mag = theta
    else:
        r = float(rng.uniform(1.25, 1.5))
        a_mag = math.log(r)
        rel = (1 - 1 / r) if sign > 0 else (r - 1)
    prim_a = POSITIVE[family] if sign > 0 else _opposite(POSITIVE[family])
    prim_b = POSITIVE[partner] if sign > 0 else _opposite(POSITIVE[partner])
    # Pan_Right (+x axis turn) slides content left, like Move_Right; Tilt_Up slides content down, like Move_Up.
    return Motion(prim_a, a_mag, easing, start, end), Motion(prim_b, rel, easing, start, end)


def _opposite(p: str) -> str:
    a, b = FAMILIES[FAMILY_OF[p]]
    return b if p == a else a


@dataclass
class Trajectory:
    """The camera over a clip: motions, optional shake, and the scale they act in."""

    motions: list[Motion]
    shake: Shake | None
    near_depth: float
    duration: float  # seconds from the first to the last frame
    kind: str = "single"
    extra: dict = field(default_factory=dict)

    def family_values(self, s: float) -> dict[str, float]:
        """Signed value of every family at clip time ``s`` (motions only, no shake)."""
        values = dict.fromkeys(FAMILIES, 0.0)
        for m in self.motions:
            values[m.family] += m.value(s)
        return values

    def camera(self, s: float, f0: float, cx: float, cy: float) -> Camera:
        """The camera at clip time ``s`` in [0, 1]."""
        v = self.family_values(s)
        yaw, pitch, roll = v["pan"], v["tilt"], v["roll"]
        tx, ty, tz = v["truck"], -v["pedestal"], v["dolly"]
        if self.shake is not None:
            rot, trans = self.shake.offsets(s * self.duration)
            yaw, pitch, roll = yaw + rot[0], pitch + rot[1], roll + rot[2]
            tx, ty, tz = tx + trans[0], ty + trans[1], tz + trans[2]
        r_cw = rot_y(math.radians(yaw)) @ rot_x(math.radians(pitch)) @ rot_z(math.radians(roll))
        center = np.array([tx, ty, tz]) * self.near_depth
        return camera_from_params(f0 * math.exp(v["zoom"]), cx, cy, r_cw, center)

    def labels(self) -> dict[str, bool | None]:
        """The 15 labels (true / false / null) from the end values; see the module docstring."""
        end = self.family_values(1.0)
        labels: dict[str, bool | None] = {}
        for fam, value in end.items():
            pos, neg = POSITIVE[fam], _opposite(POSITIVE[fam])
            mag = abs(value)
            held, other = (pos, neg) if value >= 0 else (neg, pos)
            labels[other] = False
            labels[held] = True if mag >= CLEAR[fam] else (False if mag < NEGLIGIBLE[fam] else None)
        moving = any(abs(v) >= NEGLIGIBLE[f] for f, v in end.items()) or any(
            m.magnitude > 0 for m in self.motions
        )
        labels["Static"] = not moving and self.shake is None
        return {p: labels[p] for p in PRIMITIVES}

    def to_json(self) -> dict:
        """JSON-able recipe."""
        return {
            "kind": self.kind,
            "motions": [m.to_json() for m in self.motions],
            "shake": self.shake is not None,
            "near_depth_m": round(self.near_depth, 4),
            **self.extra,
        }


# ----------------------------------------------------------------------------------------------
# Recipes: which kind of clip each index of a data set is.

RECIPE_KINDS = ("single", "combo", "confusable", "static", "static_subjects", "shake", "subtle")
# Recipes made only when asked for by name (--recipes sequence): the default mix stays as it is.
EXTRA_RECIPE_KINDS = ("sequence",)
RECIPE_WEIGHTS = {
    "single": 0.42, "combo": 0.2, "confusable": 0.16, "static": 0.05, "static_subjects": 0.06,
    "shake": 0.06, "subtle": 0.05, "sequence": 0.1,
}  # fmt: skip
# A sequence clip changes motion at a random share of the clip in this range.
SEQUENCE_CHANGE = (0.35, 0.65)


@dataclass
class ClipPlan:
    """What clip ``index`` will be: its recipe kind, primitives, and pair (confusable recipes)."""

    index: int
    kind: str
    primitives: tuple[str, ...] = ()
    pair: int | None = None  # index of the pair's first clip (shared scene and magnitude)
    role: str = ""  # "a" (rotation / zoom) or "b" (its translation look-alike)
    sign: int = 1
    # sequence: the primitives of the first and of the second phase (an empty phase: the camera stops)
    phases: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())


def validate_primitives(names: list[str] | None) -> tuple[str, ...]:
    """Check primitive names (comma-separated items allowed); unknown -> CamReasonerError."""
    if not names:
        return PRIMITIVES
    out: list[str] = []
    for item in names:
        for name in item.split(","):
            name = name.strip()
            if not name:
                continue
            if name not in PRIMITIVES:
                raise CamReasonerError(f"unknown primitive {name!r} (known: {', '.join(PRIMITIVES)})")
            if name not in out:
                out.append(name)
    if not out:
        raise CamReasonerError("--primitives names no primitive")
    return tuple(out)


def _confusable_choices(allowed: tuple[str, ...]) -> list[tuple[str, int]]:
    """(rotation family, sign) of the confusable pairs that involve an allowed primitive."""
    out = []
    for a, b in CONFUSABLE_PAIRS:  # (rotation/zoom, translation)
        if a in allowed or b in allowed:
            out.append((FAMILY_OF[a], SIGN[a]))
    return out


def _combo_members(allowed: tuple[str, ...], k: int, rng: np.random.Generator) -> tuple[str, ...] | None:
    """``k`` compatible primitives from distinct families, all from ``allowed`` (None if impossible)."""
    moving = [p for p in allowed if p != "Static"]
    for _ in range(50):
        if len(moving) < k:
            return None
        picks = tuple(sorted(rng.choice(moving, size=k, replace=False).tolist(), key=PRIMITIVES.index))
        if compatible(picks) and len({FAMILY_OF[p] for p in picks}) == k:
            return picks
    return None


def validate_recipes(names: list[str] | None) -> tuple[str, ...]:
    """Check recipe kind names (comma-separated items allowed); unknown -> CamReasonerError."""
    if not names:
        return RECIPE_KINDS
    known = RECIPE_KINDS + EXTRA_RECIPE_KINDS
    out: list[str] = []
    for item in names:
        for name in (n.strip() for n in item.split(",")):
            if name and name not in known:
                raise CamReasonerError(f"unknown recipe {name!r} (known: {', '.join(known)})")
            if name and name not in out:
                out.append(name)
    if not out:
        raise CamReasonerError("--recipes names no recipe")
    return tuple(out)


def plan_clips(
    n: int,
    seed: int,
    primitives: tuple[str, ...] = PRIMITIVES,
    max_combo: int = 3,
    recipes: tuple[str, ...] = RECIPE_KINDS,
) -> list[ClipPlan]:
    """The recipe of every clip index, deterministic in (n, seed, primitives, max_combo, recipes).

    With a restricted ``primitives`` list: singles, subtle clips and combos use only listed
    primitives; a confusable pair is included when either member is listed (its partner is the
    hard negative); static, static-with-moving-subjects and shake-only clips only when Static is listed.
    ``recipes`` restricts the kinds of clip (RECIPE_KINDS); an impossible mix raises CamReasonerError.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5EED]))
    moving = tuple(p for p in primitives if p != "Static")
    kinds = []
    if moving:
        kinds += ["single", "subtle"]
        if max_combo >= 2 and _combo_members(primitives, 2, np.random.default_rng(0)) is not None:
            kinds.append("combo")
        if _confusable_choices(primitives):
            kinds.append("confusable")
        kinds.append("sequence")
    if "Static" in primitives:
        kinds += ["static", "static_subjects", "shake"]
    kinds = [k for k in kinds if k in recipes]
    if not kinds:
        raise CamReasonerError(
            f"no clip of recipes {', '.join(recipes)} can be made with primitives {', '.join(primitives)}"
            + (f" and --max-combo {max_combo}" if "combo" in recipes else "")
        )
    if kinds == ["confusable"] and n % 2:
        raise CamReasonerError(f"--clips {n}: confusable pairs alone need an even number of clips")
    weights = np.array([RECIPE_WEIGHTS[k] for k in kinds])
    weights /= weights.sum()
    plans: list[ClipPlan] = []
    while len(plans) < n:
        i = len(plans)
        kind = kinds[int(rng.choice(len(kinds), p=weights))]
        if kind == "confusable" and n - i < 2:
            continue
        if kind in ("single", "subtle"):
            plans.append(ClipPlan(i, kind, (moving[int(rng.integers(len(moving)))],)))
        elif kind == "combo":
            k = int(rng.integers(2, max_combo + 1))
            members = _combo_members(primitives, k, rng) or _combo_members(primitives, 2, rng)
            assert members is not None
            plans.append(ClipPlan(i, kind, members))
        elif kind == "confusable":
            choices = _confusable_choices(primitives)
            fam, sign = choices[int(rng.integers(len(choices)))]
            plans.append(ClipPlan(i, kind, (), pair=i, role="a", sign=sign))
            plans.append(ClipPlan(i + 1, kind, (), pair=i, role="b", sign=sign))
            plans[-2].primitives = (fam,)
            plans[-1].primitives = (fam,)
        elif kind == "sequence":
            plans.append(_sequence_plan(i, primitives, rng))
        else:
            plans.append(ClipPlan(i, kind, ()))
    return plans


def _sequence_plan(index: int, allowed: tuple[str, ...], rng: np.random.Generator) -> ClipPlan:
    """Two phases: a motion then a stop, a stop then a motion, or one motion then another."""
    moving = [p for p in allowed if p != "Static"]
    first = moving[int(rng.integers(len(moving)))]
    others = [p for p in moving if FAMILY_OF[p] != FAMILY_OF[first]]
    choice = int(rng.integers(3))
    if choice == 2 and others:
        phases: tuple[tuple[str, ...], tuple[str, ...]] = ((first,), (others[int(rng.integers(len(others)))],))
    elif choice == 1:
        phases = ((), (first,))
    else:
        phases = ((first,), ())
    prims = tuple(sorted({*phases[0], *phases[1]}, key=PRIMITIVES.index))
    return ClipPlan(index, "sequence", prims, phases=phases)


def build_trajectory(plan: ClipPlan, rng: np.random.Generator, pair_rng: np.random.Generator,
                     near_depth: float, duration: float, shake: Shake | None) -> Trajectory:  # fmt: skip
    """The trajectory of one planned clip. ``pair_rng`` is shared by both clips of a confusable pair."""
    if plan.kind == "confusable":
        a, b = matched_pair(plan.primitives[0], plan.sign, pair_rng)
        motion = a if plan.role == "a" else b
        extra = {"pair": plan.pair, "role": plan.role, "pair_primitives": [a.primitive, b.primitive],
                 "matched_at": "near_depth"}  # fmt: skip
        return Trajectory([motion], shake, near_depth, duration, kind="confusable", extra=extra)
    if plan.kind in ("single", "combo"):
        motions = [random_motion(p, rng) for p in plan.primitives]
        return Trajectory(motions, shake, near_depth, duration, kind=plan.kind)
    if plan.kind == "sequence":
        change = float(rng.uniform(*SEQUENCE_CHANGE))
        windows = ((0.0, change), (change, 1.0))
        motions = []
        for phase, (a, b) in zip(plan.phases, windows, strict=True):
            for p in phase:
                lo, hi = CLEAR_RANGE[FAMILY_OF[p]]
                motions.append(Motion(p, float(rng.uniform(lo, hi)), "linear", a, b))
        extra = {"change": round(change, 4), "change_s": round(change * duration, 4),
                 "phases": [list(plan.phases[0]), list(plan.phases[1])]}  # fmt: skip
        return Trajectory(motions, shake, near_depth, duration, kind="sequence", extra=extra)
    if plan.kind == "subtle":
        return Trajectory(
            [random_motion(plan.primitives[0], rng, subtle=True)], shake, near_depth, duration, "subtle"
        )
    if plan.kind == "shake":
        return Trajectory([], shake or Shake.sample(rng), near_depth, duration, kind="shake")
    return Trajectory([], None, near_depth, duration, kind=plan.kind)  # static, static_subjects
