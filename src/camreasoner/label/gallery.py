"""``camreasoner view DIR``: DIR/index.html, one self-contained page (no network) of the labelled shots.

Per shot: a strip of thumbnails (JPEG data URIs decoded from the video), the held primitives with
their scores, Open-Sora's cmotion, the timeline drawn as a bar; filters by primitive and by
confidence (the score of the chosen primitive, or of the strongest held one).
"""

from __future__ import annotations

import base64
import html
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from camreasoner.core.errors import CamReasonerError
from camreasoner.core.io import write_text_atomic
from camreasoner.core.taxonomy import PRIMITIVES

COLOURS = {"Static": "#9e9e9e", "Pan": "#1e88e5", "Tilt": "#43a047", "Roll": "#8e24aa", "Zoom": "#fb8c00",
           "Move": "#e53935"}


@dataclass
class GalleryOptions:
    """Thumbnails per shot, their height in px, JPEG quality."""

    thumbs: int = 4
    height: int = 72
    quality: int = 70


def thumbnails(video: str, times: list[float], height: int, quality: int) -> list[str]:
    """JPEG data URIs of the frames nearest ``times`` (sorted seconds), one decoding pass."""
    import cv2

    from camreasoner.video.decode import open_video, probe, timed_frames

    info = probe(video)
    out: list[str] = []
    width = max(2, round(info.width * height / max(info.height, 1)) // 2 * 2)
    container, stream = open_video(video)
    warnings: list[str] = []
    k = 0
    try:
        for frame, t in timed_frames(container, stream, info.fps, warnings, video):
            while k < len(times) and t + 0.5 / info.fps >= times[k]:
                img = frame.to_ndarray(format="bgr24", width=width, height=height)
                ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
                out.append("data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else "")
                k += 1
            if k >= len(times):
                break
    finally:
        container.close()
    return out


def _colour(label: str) -> str:
    first = label.split(" + ")[0]
    return COLOURS.get(first.split("_")[0], "#607d8b")


def _bar(row: dict[str, Any]) -> str:
    span = max(row["end"] - row["start"], 1e-6)
    parts = []
    for seg in row["segments"]:
        w = 100.0 * (seg["end"] - seg["start"]) / span
        tip = html.escape(f"{seg['start']:.1f}-{seg['end']:.1f} s {seg['label']}")
        parts.append(f'<span class="seg" style="width:{w:.2f}%;background:{_colour(seg["label"])}" '
                     f'title="{tip}">{html.escape(seg["label"]) if w > 18 else ""}</span>')
    return '<div class="bar">' + "".join(parts) + "</div>"


def _card(row: dict[str, Any], thumbs: list[str]) -> str:
    held = [p for p in PRIMITIVES if row["primitives"].get(p)]
    unsure = [p for p in PRIMITIVES if row["primitives"].get(p) is None]
    def score(p: str) -> str:  # None: the backend could not answer
        return "" if row["scores"][p] is None else f' {row["scores"][p]:.2f}'

    chips = "".join(f'<span class="chip held">{p}{score(p)}</span>' for p in held)
    chips += "".join(f'<span class="chip unsure">{p}?{score(p)}</span>' for p in unsure)
    imgs = "".join(f'<img class="thumb" src="{u}" alt="frame">' for u in thumbs if u)
    scores = html.escape(json.dumps(row["scores"]))
    return (f'<div class="shot" data-held="{" ".join(held)}" data-scores="{scores}">'
            f'<div class="head"><b>{html.escape(row["path"])}</b> shot {row["shot"]} · '
            f'{row["start"]:.2f}-{row["end"]:.2f} s · cmotion <i>{html.escape(row["cmotion"])}</i></div>'
            f'<div class="strip">{imgs}</div><div class="chips">{chips or "<span class=chip>none held</span>"}</div>'
            f'{_bar(row)}<div class="tl">{html.escape(row["timeline"])}</div></div>')


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>camreasoner labels: {title}</title><style>
body{{font-family:sans-serif;margin:12px;background:#fafafa}} .shot{{background:#fff;border:1px solid #ddd;
border-radius:6px;padding:8px;margin:8px 0}} .strip{{display:flex;gap:4px;margin:6px 0}} .thumb{{height:{h}px}}
.chip{{display:inline-block;padding:2px 6px;margin:2px;border-radius:10px;background:#eee;font-size:13px}}
.held{{background:#c8e6c9}} .unsure{{background:#fff3cd}} .bar{{display:flex;height:18px;border-radius:3px;
overflow:hidden;margin-top:4px}} .seg{{color:#fff;font-size:11px;line-height:18px;padding-left:3px;
white-space:nowrap;overflow:hidden}} .tl{{font-size:12px;color:#555}} .hidden{{display:none}}</style></head>
<body><h2>{title}</h2><p>{summary}</p><div id="filters">primitive <select id="prim"><option value="">any</option>
{options}</select> confidence &ge; <input id="conf" type="range" min="0" max="1" step="0.05" value="0">
<span id="confv">0.00</span> <span id="count"></span></div><div id="shots">{cards}</div>{errors}<script>
function apply(){{var p=document.getElementById('prim').value,c=parseFloat(document.getElementById('conf').value);
document.getElementById('confv').textContent=c.toFixed(2);var n=0;
document.querySelectorAll('.shot').forEach(function(e){{var held=e.dataset.held?e.dataset.held.split(' '):[];
var s=JSON.parse(e.dataset.scores);var score=p?s[p]:Math.max.apply(null,held.map(function(h){{return s[h]}}).concat([0]));
var ok=(!p||held.indexOf(p)>=0)&&(score>=c||(!p&&held.length==0&&c==0));e.classList.toggle('hidden',!ok);n+=ok?1:0}});
document.getElementById('count').textContent=n+' shots shown'}}
document.getElementById('prim').onchange=apply;document.getElementById('conf').oninput=apply;apply();
</script></body></html>"""


def write_gallery(out: str | Path, options: GalleryOptions | None = None) -> Path:
    """Write ``out/index.html`` from a finished labelling run; return its path."""
    from camreasoner.label.outputs import read_rows

    options = options or GalleryOptions()
    out = Path(out)
    if not (out / "label.json").is_file() or not (out / "shots.jsonl").is_file():
        raise CamReasonerError(f"{out}: not a finished labelling run (no label.json); run camreasoner label first")
    rows = read_rows(out)
    by_video: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_video[row["video"]].append(row)
    cards = []
    for video, shots in by_video.items():
        n = options.thumbs
        times = sorted(r["start"] + (r["end"] - r["start"]) * (i + 0.5) / n for r in shots for i in range(n))
        try:
            uris = thumbnails(video, times, options.height, options.quality)
        except CamReasonerError:
            uris = []
        uris += [""] * (len(times) - len(uris))
        for k, row in enumerate(shots):
            cards.append(_card(row, uris[k * n:(k + 1) * n]))
    errors_file = out / "errors.jsonl"
    errs = [json.loads(x) for x in errors_file.read_text(encoding="utf-8").splitlines() if x.strip()] \
        if errors_file.is_file() else []
    err_html = ("<h3>Not read</h3><ul>" + "".join(f"<li>{html.escape(e['reason'])}</li>" for e in errs) + "</ul>"
                if errs else "")
    summary = f"{len(by_video)} videos, {len(rows)} shots, {len(errs)} not read"
    page = PAGE.format(title=html.escape(str(out)), summary=summary, h=options.height,
                       options="".join(f'<option value="{p}">{p}</option>' for p in PRIMITIVES),
                       cards="".join(cards), errors=err_html)
    target = out / "index.html"
    write_text_atomic(target, page)
    return target
