"""Clip effects: handheld shake (camera jitter without a direction), moving distractors, motion blur,
sensor noise, brightness drift and compression strength. Photometric effects never change labels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

# Shake stays below the trajectories' "negligible" thresholds, so its labels are exact: no direction.
SHAKE_ROT_DEG = (0.15, 0.45)
SHAKE_TRANS_REL = (0.002, 0.006)


@dataclass
class Shake:
    """Handheld jitter: per axis a sum of three sinusoids (1.5-7 Hz) whose amplitude never exceeds ``amp``.

    Rotation amplitudes (yaw, pitch, roll) are in degrees; translation amplitudes (x, y, z) are
    fractions of the scene's near depth.
    """

    rot_amp: list[float]
    trans_amp: list[float]
    freqs: list[list[float]]  # 6 axes x 3 components, Hz
    phases: list[list[float]]
    weights: list[list[float]]  # per axis, summing to 1

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Shake:
        """A random shake."""
        w = rng.random((6, 3)) + 0.2
        return cls(
            rot_amp=rng.uniform(*SHAKE_ROT_DEG, size=3).tolist(),
            trans_amp=rng.uniform(*SHAKE_TRANS_REL, size=3).tolist(),
            freqs=rng.uniform(1.5, 7.0, size=(6, 3)).tolist(),
            phases=rng.uniform(0, 2 * np.pi, size=(6, 3)).tolist(),
            weights=(w / w.sum(axis=1, keepdims=True)).tolist(),
        )

    def offsets(self, seconds: float) -> tuple[np.ndarray, np.ndarray]:
        """(yaw, pitch, roll) in degrees and (x, y, z) in near-depth fractions at time ``seconds``.

        Each axis is zero at time 0 (sines shifted by their phase), so the first frame is the world frame.
        """
        f, p, w = np.array(self.freqs), np.array(self.phases), np.array(self.weights)
        wave = (w * (np.sin(2 * np.pi * f * seconds + p) - np.sin(p))).sum(axis=1) / 2
        amps = np.array(self.rot_amp + self.trans_amp)
        out = amps * wave
        return out[:3], out[3:]


@dataclass
class Effects:
    """What a clip gets besides its camera motion."""

    n_distractors: int = 0
    shake: Shake | None = None
    blur: bool = False  # motion blur from 3 sub-frame renders over half a frame interval
    noise_sigma: float = 0.0  # Gaussian sensor noise, grey levels
    gain: tuple[float, float] = (1.0, 1.0)  # brightness gain at the first and last frame
    crf: int = 23  # H.264 constant rate factor (compression strength)
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        """A JSON-able description (for the recipe in labels.jsonl)."""
        d = asdict(self)
        d["shake"] = self.shake is not None
        d.pop("extra")
        d["gain"] = [round(g, 4) for g in self.gain]
        d["noise_sigma"] = round(self.noise_sigma, 3)
        return d


def sample_effects(rng: np.random.Generator, distractor_prob: float, shake_prob: float = 0.15) -> Effects:
    """Random effects: distractors with probability ``distractor_prob``; mild photometric effects."""
    n_distr = int(rng.integers(1, 3)) if rng.random() < distractor_prob else 0
    shake = Shake.sample(rng) if rng.random() < shake_prob else None
    blur = bool(rng.random() < 0.2)
    noise = float(rng.uniform(1.0, 5.0)) if rng.random() < 0.5 else 0.0
    gain = (1.0, float(rng.uniform(0.85, 1.15))) if rng.random() < 0.3 else (1.0, 1.0)
    crf = int(rng.integers(18, 31))
    return Effects(n_distractors=n_distr, shake=shake, blur=blur, noise_sigma=noise, gain=gain, crf=crf)


def apply_photometric(frames: list[np.ndarray], effects: Effects, seed: int) -> list[np.ndarray]:
    """Brightness drift then Gaussian noise, frame by frame (uint8 RGB in, uint8 RGB out).

    Noise comes from OpenCV's generator seeded with ``seed`` and the frame number (deterministic).
    """
    import cv2

    if effects.noise_sigma <= 0 and effects.gain == (1.0, 1.0):
        return frames
    n = len(frames)
    out = []
    for k, frame in enumerate(frames):
        a = k / max(n - 1, 1)
        g = effects.gain[0] * (1 - a) + effects.gain[1] * a
        img = cv2.convertScaleAbs(frame, alpha=g) if g != 1.0 else frame
        if effects.noise_sigma > 0:
            h, w = img.shape[:2]
            noise = np.empty((h, w * 3), np.int16)
            cv2.setRNGSeed((seed * 1009 + k) % (2**31))
            cv2.randn(noise, 0.0, effects.noise_sigma)
            img = cv2.add(img, noise.reshape(img.shape), dtype=cv2.CV_8U)
        out.append(img)
    return out
