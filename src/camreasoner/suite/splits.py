"""Splits by clip: a clip and all its augmentations land in one split, decided by a hash of the clip.

The split of a clip depends only on (seed, clip path), so adding clips never moves another clip.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from camreasoner.core.errors import CamReasonerError

SPLITS: tuple[str, ...] = ("train", "validation", "test")
DEFAULT_RATIOS: tuple[float, float, float] = (0.9, 0.05, 0.05)


def check_ratios(ratios: Iterable[float]) -> tuple[float, float, float]:
    """Three non-negative shares summing to 1 (train, validation, test)."""
    r = tuple(float(x) for x in ratios)
    if len(r) != 3 or any(x < 0 for x in r) or abs(sum(r) - 1.0) > 1e-6:
        raise CamReasonerError(
            f"--split {','.join(map(str, r))}: give three non-negative shares that sum to 1"
        )
    return r  # type: ignore[return-value]


def split_of(clip: str, seed: int, ratios: tuple[float, float, float] = DEFAULT_RATIOS) -> str:
    """The split of ``clip`` (its original path, shared by its augmentations)."""
    digest = hashlib.sha1(f"{seed}:{clip}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < ratios[0]:
        return "train"
    if u < ratios[0] + ratios[1]:
        return "validation"
    return "test"
