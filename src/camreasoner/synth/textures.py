"""Textures for scene surfaces: real photographs shipped by opencv-doc, plus procedural patterns.

If the opencv-doc photographs are absent, :func:`texture_source` says so and every texture is
procedural. Images are RGB ``uint8`` arrays of shape ``(h, w, 3)``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

PHOTO_DIR = Path("/usr/share/doc/opencv-doc/examples/data")
PHOTO_NAMES = (
    "baboon.jpg", "fruits.jpg", "building.jpg", "board.jpg", "starry_night.jpg", "home.jpg",
    "messi5.jpg", "aero1.jpg", "aero3.jpg", "leuvenA.jpg", "graf1.png", "chicky_512.png",
    "squirrel_cls.jpg", "aloeL.jpg", "rubberwhale1.png", "butterfly.jpg",
)  # fmt: skip
MAX_PHOTO_SIDE = 640
PROCEDURAL_KINDS = ("checker", "noise", "bricks", "plaid", "blobs")


@lru_cache(maxsize=1)
def load_photos() -> tuple[np.ndarray, ...]:
    """The opencv-doc photographs present on this machine, RGB, longest side at most 640 px."""
    photos = []
    for name in PHOTO_NAMES:
        path = PHOTO_DIR / name
        if not path.is_file():
            continue
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is None or min(img.shape[:2]) < 64:
            continue
        h, w = img.shape[:2]  # drop a 4% border: some photos are framed
        img = img[h // 25 : h - h // 25, w // 25 : w - w // 25]
        scale = MAX_PHOTO_SIDE / max(img.shape[:2])
        if scale < 1:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        photos.append(np.ascontiguousarray(img[:, :, ::-1]))
    return tuple(photos)


def texture_source() -> str:
    """A one-line description of where textures come from on this machine."""
    n = len(load_photos())
    if n == 0:
        return f"procedural only ({PHOTO_DIR} photographs absent)"
    return f"{n} opencv-doc photographs + procedural"


def _smooth_noise(rng: np.random.Generator, w: int, h: int, octaves: int = 6) -> np.ndarray:
    """Fractal value noise in [0, 1], shape (h, w)."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for o in range(octaves):
        cells = 2 ** (o + 2)
        grid = rng.random((cells + 1, cells + 1)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.7
    out /= total
    return (out - out.min()) / max(float(np.ptp(out)), 1e-6)


def _palette(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(20, 236, size=(n, 3)).astype(np.float32)


def procedural_texture(kind: str, rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A procedural RGB texture of ``kind`` (one of PROCEDURAL_KINDS), richly detailed for optical flow."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    noise = _smooth_noise(rng, w, h)
    c = _palette(rng, 3)
    if kind == "checker":
        cell = float(rng.integers(8, 24))
        t = ((xx // cell + yy // cell) % 2).astype(np.float32)
    elif kind == "plaid":  # two crossing sets of stripes (a 1-D pattern would defeat optical flow)
        t = np.zeros((h, w), np.float32)
        angle = float(rng.uniform(0, np.pi))
        for da in (0.0, float(rng.uniform(0.4, 1.2)) * np.pi / 2):
            period = float(rng.uniform(6, 20))
            a = angle + da
            t += 0.25 + 0.25 * np.sin(2 * np.pi * (xx * np.cos(a) + yy * np.sin(a)) / period)
        t = 0.6 * t + 0.4 * noise
    elif kind == "bricks":
        bh, bw = float(rng.integers(8, 16)), float(rng.integers(18, 36))
        row = yy // bh
        shifted = xx + (row % 2) * bw / 2
        mortar = ((yy % bh) < 2) | ((shifted % bw) < 2)
        t = np.where(mortar, 0.0, 0.6 + 0.4 * noise)
    elif kind == "blobs":
        t = (noise > 0.5).astype(np.float32) * 0.7 + 0.3 * noise
    else:  # noise
        t = noise
    t = t[..., None]
    img = c[0] * (1 - t) + c[1] * t
    img = img * (0.75 + 0.5 * noise[..., None]) + (c[2] - 128) * 0.15
    return np.clip(img, 0, 255).astype(np.uint8)


def fit_texture(img: np.ndarray, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """A random crop of ``img`` with aspect w:h, resized to (h, w, 3)."""
    ih, iw = img.shape[:2]
    aspect = w / h
    frac = float(rng.uniform(0.55, 1.0))
    cw = min(iw, int(round(min(iw, ih * aspect) * frac)))
    ch = min(ih, max(8, int(round(cw / aspect))))
    cw = max(8, min(iw, cw))
    x0 = int(rng.integers(0, iw - cw + 1))
    y0 = int(rng.integers(0, ih - ch + 1))
    crop = img[y0 : y0 + ch, x0 : x0 + cw]
    interp = cv2.INTER_AREA if cw > w else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(crop, (w, h), interpolation=interp))


def _mirror_index(n: int, period: int, offset: int) -> np.ndarray:
    idx = (np.arange(n) + offset) % (2 * period)
    return np.where(idx < period, idx, 2 * period - 1 - idx)


def tile_texture(img: np.ndarray, w: int, h: int, ox: int = 0, oy: int = 0) -> np.ndarray:
    """``img`` tiled with mirroring (no seams) to exactly (h, w, 3), starting ``(ox, oy)`` pixels in."""
    ih, iw = img.shape[:2]
    return np.ascontiguousarray(img[_mirror_index(h, ih, oy)][:, _mirror_index(w, iw, ox)])


def random_texture(rng: np.random.Generator, w: int, h: int, photo_prob: float = 0.7) -> np.ndarray:
    """A texture of (h, w, 3): a photograph crop with probability ``photo_prob``, else procedural."""
    w, h = max(8, int(w)), max(8, int(h))
    photos = load_photos()
    if photos and rng.random() < photo_prob:
        return fit_texture(photos[int(rng.integers(len(photos)))], w, h, rng)
    kind = PROCEDURAL_KINDS[int(rng.integers(len(PROCEDURAL_KINDS)))]
    return procedural_texture(kind, rng, w, h)


def source_image(rng: np.random.Generator, photo_prob: float = 0.7, side: int = 256) -> np.ndarray:
    """A photograph (with probability ``photo_prob``, if any are present) or a procedural image."""
    photos = load_photos()
    if photos and rng.random() < photo_prob:
        return photos[int(rng.integers(len(photos)))]
    kind = PROCEDURAL_KINDS[int(rng.integers(len(PROCEDURAL_KINDS)))]
    return procedural_texture(kind, rng, side, side)


@lru_cache(maxsize=4)
def _photo_pool(side: int) -> tuple[np.ndarray, ...]:
    """The photographs with their longest side at most ``side`` pixels."""
    out = []
    for img in load_photos():
        scale = side / max(img.shape[:2])
        out.append(
            cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else img
        )
    return tuple(out)


def mosaic_texture(w_px: int, h_px: int, origin_m: tuple[float, float], size_m: tuple[float, float],
                   cell_m: float, key: list[int]) -> np.ndarray:  # fmt: skip
    """A non-repeating texture of square cells (``cell_m`` metres), each a random photo crop.

    Cells sit on a lattice anchored in the world (the plane's own 2-D coordinates): the cell at
    lattice position (i, j) depends only on ``key``, i and j, so any part of the plane looks the same
    whatever extent and resolution a clip gives it. Unlike tiling, nothing repeats, so optical flow
    is not fooled by periodicity.
    """
    (x0, y0), (w_m, h_m) = origin_m, size_m
    sx, sy = w_px / w_m, h_px / h_m
    cell_px = max(cell_m * sx, cell_m * sy)
    side = next((s for s in (96, 192, 384) if s >= 1.5 * cell_px), MAX_PHOTO_SIDE)
    pool = _photo_pool(side)  # downscaled photos: resizing small cells from full photos is slow
    if not pool:
        base = np.random.default_rng(np.random.SeedSequence([*key, 99]))
        pool = tuple(procedural_texture(k, base, side, side) for k in PROCEDURAL_KINDS)
    out = np.zeros((h_px, w_px, 3), np.uint8)
    for i in range(int(np.floor(x0 / cell_m)), int(np.ceil((x0 + w_m) / cell_m))):
        cx0 = int(round((i * cell_m - x0) * sx))
        cx1 = int(round(((i + 1) * cell_m - x0) * sx))
        px0, px1 = max(cx0, 0), min(cx1, w_px)
        if px1 <= px0:
            continue
        for j in range(int(np.floor(y0 / cell_m)), int(np.ceil((y0 + h_m) / cell_m))):
            cy0 = int(round((j * cell_m - y0) * sy))
            cy1 = int(round(((j + 1) * cell_m - y0) * sy))
            py0, py1 = max(cy0, 0), min(cy1, h_px)
            if py1 <= py0:
                continue
            rng = np.random.default_rng(np.random.SeedSequence([*key, i + 2**20, j + 2**20]))
            cell = fit_texture(pool[int(rng.integers(len(pool)))], cx1 - cx0, cy1 - cy0, rng)
            out[py0:py1, px0:px1] = cell[py0 - cy0 : py1 - cy0, px0 - cx0 : px1 - cx0]
    return out
