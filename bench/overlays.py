"""Burned-in text or black bars over the clips of a generated set, as broadcast, CCTV, stock and
film footage carry them.

Each clip gets one kind, drawn from the set's seed and the clip's index: a corner logo, a running
timestamp, a two-line subtitle band on a dark box, or a logo and a timestamp (``KINDS``); black
letterbox or pillarbox bars, 8-15% of the frame a side (``BAR_KINDS``); a stock-footage preview's
watermark, a translucent word 50-85% of the frame wide across its middle (``MARK_KINDS``); or a wide
lens's barrel distortion over the whole frame (``LENS_KINDS``), fixed to the frame as a real lens
is while the virtual camera turns; or nothing drawn and the clip encoded at a high H.264 CRF of
30, 35 or 40 instead of the set's 20 (``CRF_KINDS``), as small, heavily compressed web previews
are. Position, size and text
vary from clip to clip. The overlay is drawn on every frame at the same place, so it stays fixed
on the frame while the virtual camera moves the scene under it; the labels do not change.

    overlay_set(Path(".../vtest.avi"), Path("/tmp/realfoot/vtest+text_2101"), seed=2101, clips=40)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from camreasoner.formats.labels import ClipLabel
from camreasoner.synth.dataset import clip_name
from camreasoner.synth.realcam import RealcamOptions, probe_source, synthesize_realcam_clip
from camreasoner.synth.writer import write_mp4

KINDS = ("logo", "clock", "subtitles", "logo+clock")
BAR_KINDS = ("letterbox", "pillarbox")  # black bars: a wide picture in a taller frame, a narrow one in a wider
MARK_KINDS = ("watermark",)  # a stock-footage preview's translucent word across the middle of the frame
LENS_KINDS = ("barrel",)  # a wide lens's barrel distortion over the whole frame (an action camera's)
CRF_KINDS = ("crf30", "crf35", "crf40")  # nothing drawn; encoded at this H.264 CRF (heavy compression)
# A set's source name ends "+text", "+bars", "+mark", "+lens" or "+crf": the kinds its clips draw from.
SET_KINDS = {"text": KINDS, "bars": BAR_KINDS, "mark": MARK_KINDS, "lens": LENS_KINDS, "crf": CRF_KINDS}
MARKS = ("PREVIEW", "stock footage", "SAMPLE", "watermark", "footage.example")
WORDS = ("NEWS 24", "CAM-3", "LIVE", "SPORT HD", "stock footage", "TV5", "ARCHIVE")
LINES = ("So where are we going now?", "Somewhere with better light.", "Did you see that?",
         "Keep the camera rolling.", "Not yet. Wait for it.", "It was here a minute ago.")
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _logo(img: np.ndarray, text: str, scale: float, right: bool, bottom: bool) -> None:
    h, w = img.shape[:2]
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 2)
    x = w - tw - 6 if right else 6
    y = h - 8 if bottom else th + 6
    cv2.putText(img, text, (x, y), FONT, scale, (255, 255, 255), 2, cv2.LINE_AA)


def _clock(img: np.ndarray, frame: int, fps: float, corner: int, start_s: int) -> None:
    h, w = img.shape[:2]
    s = start_s + frame / fps
    text = f"2026-12-07 {int(s // 3600) % 24:02d}:{int(s // 60) % 60:02d}:{int(s) % 60:02d}.{int(s * 100) % 100:02d}"
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_PLAIN, 1.0, 1)
    x = 6 if corner % 2 == 0 else w - tw - 6
    y = th + 6 if corner < 2 else h - 8
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_PLAIN, 1.0, (255, 255, 255), 1, cv2.LINE_AA)


def _subtitles(img: np.ndarray, lines: tuple[str, str]) -> None:
    h, w = img.shape[:2]
    scale = 0.45
    sizes = [cv2.getTextSize(t, FONT, scale, 1)[0] for t in lines]
    width = max(s[0] for s in sizes) + 16
    x0 = max(0, (w - width) // 2)
    cv2.rectangle(img, (x0, h - 48), (min(w, x0 + width), h - 6), (0, 0, 0), -1)
    for k, (text, (tw, _)) in enumerate(zip(lines, sizes, strict=True)):
        cv2.putText(img, text, ((w - tw) // 2, h - 32 + 18 * k), FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)


def _watermark(img: np.ndarray, text: str, scale: float, height: float, alpha: float) -> None:
    """``text`` in white at ``alpha`` opacity, centred across the frame at ``height`` (share of it)."""
    h, w = img.shape[:2]
    (tw, th), _ = cv2.getTextSize(text, FONT, scale, 3)
    layer = img.copy()
    cv2.putText(layer, text, ((w - tw) // 2, int(height * h + th / 2)), FONT, scale, (255, 255, 255), 3, cv2.LINE_AA)
    cv2.addWeighted(layer, alpha, img, 1.0 - alpha, 0.0, dst=img)


def _bars(img: np.ndarray, kind: str, share: float) -> None:
    h, w = img.shape[:2]
    if kind == "letterbox":
        img[: int(share * h)] = 0
        img[h - int(share * h):] = 0
    else:
        img[:, : int(share * w)] = 0
        img[:, w - int(share * w):] = 0


def draw_overlays(frames: list[np.ndarray], fps: float, seed: int, index: int,
                  kinds: tuple[str, ...] = KINDS) -> tuple[str, list[np.ndarray]]:
    """The clip's overlay kind (one of ``kinds``) and its frames (RGB uint8) with it drawn on each;
    bars cover 8-15% of the height (letterbox) or width (pillarbox) on each side.

    The kind is the first draw of the clip's generator and its family's parameters the next ones,
    so adding a family leaves every other family's clips as they were."""
    rng = np.random.default_rng([seed, index])
    kind = str(rng.choice(kinds))
    if kind in BAR_KINDS:
        draw = _bar_drawer(kind, rng)
    elif kind in MARK_KINDS:
        draw = _mark_drawer(frames[0].shape[1], rng)
    elif kind in LENS_KINDS:
        draw = _lens_drawer(frames[0].shape[:2], rng)
    elif kind in CRF_KINDS:
        draw = _unchanged
    else:
        draw = _text_drawer(kind, fps, rng)
    out = []
    for k, frame in enumerate(frames):
        img = np.ascontiguousarray(frame).copy()
        draw(img, k)
        out.append(img)
    return kind, out


def _bar_drawer(kind: str, rng: np.random.Generator) -> Callable[[np.ndarray, int], None]:
    """Draws ``kind`` bars on a frame, 8-15% of it a side (drawn from ``rng``)."""
    share = float(rng.uniform(0.08, 0.15))

    def draw(img: np.ndarray, k: int) -> None:
        _bars(img, kind, share)
    return draw


def _mark_drawer(width: int, rng: np.random.Generator) -> Callable[[np.ndarray, int], None]:
    """Draws a watermark on a frame ``width`` px wide: one of ``MARKS``, 50-85% of the width, at
    35-65% of the height, 30-60% opaque (drawn from ``rng``)."""
    text = str(rng.choice(MARKS))
    (text_width, _), _ = cv2.getTextSize(text, FONT, 1.0, 3)
    mark = (text, float(rng.uniform(0.5, 0.85)) * width / text_width, float(rng.uniform(0.35, 0.65)),
            float(rng.uniform(0.3, 0.6)))

    def draw(img: np.ndarray, k: int) -> None:
        _watermark(img, *mark)
    return draw


def _lens_drawer(shape: tuple[int, int], rng: np.random.Generator) -> Callable[[np.ndarray, int], None]:
    """Bends a frame of ``shape`` (h, w) as a wide lens does (barrel distortion, drawn from ``rng``):
    the pixel at radius r from the centre (in units of half the width, a 90-degree view) shows the
    scene at r (1 + k r^2) / (1 + k R^2), k in 0.05-0.25 (straight lines bow outward, most near the
    corners) and R the corners' radius: the corners show the frame's corners, so the bent picture
    holds the whole frame and nothing from outside it (no edge is mirrored in)."""
    h, w = shape
    k = float(rng.uniform(0.05, 0.25))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    half = w / 2.0
    dx, dy = (xs - w / 2.0) / half, (ys - h / 2.0) / half
    corner = 1.0 + (h / w) ** 2
    scale = (1.0 + k * (dx * dx + dy * dy)) / (1.0 + k * corner)
    map_x, map_y = w / 2.0 + dx * scale * half, h / 2.0 + dy * scale * half

    def draw(img: np.ndarray, frame: int) -> None:
        img[:] = cv2.remap(img, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return draw


def _unchanged(img: np.ndarray, frame: int) -> None:
    """Draws nothing (the kind changes the clip's encoding, see :func:`encoding_crf`)."""


def encoding_crf(kind: str, default: int) -> int:
    """The H.264 CRF a clip of ``kind`` is encoded at: a ``CRF_KINDS`` kind's own, else ``default``."""
    return int(kind.removeprefix("crf")) if kind in CRF_KINDS else default


def _text_drawer(kind: str, fps: float, rng: np.random.Generator) -> Callable[[np.ndarray, int], None]:
    """Draws the text of ``kind`` (a logo, a timestamp, subtitles, or a logo and a timestamp) on
    frame ``k``, its position, size and words drawn from ``rng``."""
    logo = (str(rng.choice(WORDS)), float(rng.uniform(0.45, 0.8)), bool(rng.random() < 0.5), bool(rng.random() < 0.5))
    corner, start_s = int(rng.integers(4)), int(rng.integers(0, 86_400))
    if "logo" in kind and corner == 2 * logo[3] + logo[2]:
        corner = 3 - corner  # the timestamp in another corner than the logo
    lines = tuple(str(t) for t in rng.choice(LINES, 2, replace=False))

    def draw(img: np.ndarray, k: int) -> None:
        if "logo" in kind:
            _logo(img, *logo)
        if "clock" in kind:
            _clock(img, k, fps, corner, start_s)
        if kind == "subtitles":
            _subtitles(img, lines)
    return draw


def overlay_set(source: Path, out: Path, seed: int, clips: int, kinds: tuple[str, ...] = KINDS) -> Path:
    """The semi-real set that ``camreasoner synth --from-video SOURCE --clips CLIPS --seed SEED``
    writes, each clip with burned-in text drawn on its rendered frames before its one encoding (the
    clips differ from that set's only by the text), in ``out``: ``labels.jsonl`` (written last;
    the set is reused when it is there) and ``overlays.json`` (each clip's kind)."""
    if (out / "labels.jsonl").is_file():
        return out
    opts = RealcamOptions()
    sources = [probe_source(source, opts.seconds)]
    kind_of, records = {}, []
    for index in range(clips):
        clip = synthesize_realcam_clip(index, seed, opts, sources)
        kind, frames = draw_overlays(clip.frames, opts.fps, seed, index, kinds)
        rel = clip_name(seed, index)
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        write_mp4(out / rel, frames, opts.fps, crf=encoding_crf(kind, opts.crf))
        kind_of[rel] = kind
        records.append(ClipLabel(rel, clip.labels, clip.record_extra(seed, opts)).to_record())
    (out / "overlays.json").write_text(json.dumps(kind_of, indent=1))
    (out / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return out
