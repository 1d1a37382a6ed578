"""Evaluation that CameraBench's official tools reproduce and that failing or guessing cannot game."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from camreasoner.backends.base import register
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.types import BackendResponse
from camreasoner.evaluate.metrics import BinaryItem, binary_metrics, bootstrap_cis
from camreasoner.evaluate.runner import EvalConfig, run_eval

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "camerabench" / "official" / "binary_classification"
needs_official = pytest.mark.skipif(not OFFICIAL.is_dir(), reason=f"{OFFICIAL} is not beside this checkout")


def _official_mean_ap(scores_dir: Path) -> tuple[dict[str, float], float]:
    """AP per score file over the entries whose error is null, then the mean over files (the official rule)."""
    per = {}
    for path in sorted(scores_dir.glob("*.json")):
        data = json.loads(path.read_text())
        rows = [s for s in data["scores"] if s["error"] is None]
        truth = [1 if s["ground_truth_label"] in (1, "Yes", True) else 0 for s in rows]
        per[data["metadata"]["split_name"]] = average_precision_score(truth, [s["score"] for s in rows])
    return per, float(np.mean(list(per.values())))


@needs_official
@pytest.mark.parametrize("backend", ["always-no", "prior"])
def test_per_primitive_ap_equals_the_official_rule_on_our_score_files(tmp_path, backend):
    options = {"model": str(OFFICIAL)} if backend == "prior" else {}
    res = run_eval(EvalConfig(bench=str(OFFICIAL), out=str(tmp_path / backend), backend=backend,
                              backend_options=options, n_boot=20, report=False))
    per, mean = _official_mean_ap(tmp_path / backend / "scores")
    assert len(per) == 15
    ours = res.metrics["per_primitive"]
    for primitive, ap in per.items():
        assert ours[primitive]["ap"] == pytest.approx(ap, abs=1e-9)
    assert res.metrics["mean_ap"] == pytest.approx(mean, abs=1e-9)
    if backend == "always-no":
        yes_rates = [ours[p]["n_yes"] / ours[p]["n"] for p in per]
        assert mean == pytest.approx(float(np.mean(yes_rates)), abs=1e-9)


def test_failing_on_half_the_positives_cannot_raise_strict_ap():
    rng = random.Random(0)
    items = []
    for k in range(400):
        truth = k % 4 == 0
        score = min(1.0, max(0.0, (0.62 if truth else 0.4) + rng.gauss(0, 0.15)))
        items.append(BinaryItem("Pan_Left", truth, score > 0.5, score, clip=f"c{k // 8}"))
    honest = binary_metrics(items, n_boot=20)
    # fail on the half of the positives with the lowest scores: the official rule leaves them out
    positives = sorted((it for it in items if it.truth), key=lambda it: it.score)
    dropped = {id(it) for it in positives[: len(positives) // 2]}
    failing = [BinaryItem(it.primitive, it.truth, None, None, it.clip) if id(it) in dropped else it for it in items]
    gamed = binary_metrics(failing, n_boot=20)
    assert gamed["mean_ap"] > honest["mean_ap"]
    assert gamed["mean_ap_strict"] < honest["mean_ap_strict"]


def test_clip_bootstrap_is_wider_than_item_bootstrap_on_correlated_questions():
    """CameraBench asks about 8 questions per clip; answers about one clip share its difficulty."""
    rng = np.random.default_rng(1)
    by_primitive: dict[str, list[BinaryItem]] = {}
    for clip in range(60):
        hard = rng.random() < 0.5  # a hard clip fools the reader on every question asked about it
        for q in range(8):
            primitive = ["Pan_Left", "Tilt_Up"][q % 2]
            truth = bool(rng.random() < 0.3)
            score = float(np.clip((0.3 if truth else 0.7) if hard else (0.8 if truth else 0.2), 0, 1))
            score = float(np.clip(score + rng.normal(0, 0.05), 0, 1))
            by_primitive.setdefault(primitive, []).append(BinaryItem(primitive, truth, score > 0.5, score, f"c{clip}"))
    clip = bootstrap_cis(by_primitive, n_boot=300, unit="clip")["mean_ap_ci"]
    item = bootstrap_cis(by_primitive, n_boot=300, unit="item")["mean_ap_ci"]
    assert clip[1] - clip[0] > 1.3 * (item[1] - item[0])


class FlakyBackend:
    """Fails every item of the videos named in FAIL, answers No otherwise (a server that was down)."""

    name = "flaky"
    FAIL: set[str] = set()

    def __init__(self, **_options):
        pass

    def answer(self, items):
        out = []
        for it in items:
            if Path(it.video).name in self.FAIL:
                out.append(BackendResponse("", None, {}, error=f"{it.video}: server down"))
            else:
                out.append(BackendResponse("<answer>A</answer>", "A", {"A": 0.8, "B": 0.2}))
        return out


def _bench(tmp_path: Path) -> Path:
    questions = []
    for v in range(6):
        for primitive in ("Pan_Left", "Static"):
            questions.append({"problem_id": f"{primitive}_{v}", "problem": "q", "data_type": "video",
                              "problem_type": "multiple choice", "options": ["A. No", "B. Yes"],
                              "process": "", "solution": f"<answer>{'B' if v % 3 == 0 else 'A'}</answer>",
                              "path": f"v{v}.mp4", "id": f"{primitive}_{v}"})
    for v in range(6):
        (tmp_path / f"v{v}.mp4").write_bytes(b"never decoded by this backend")
    path = tmp_path / "bench.json"
    path.write_text(json.dumps(questions))
    return path


def test_resume_retries_failed_items_and_refuses_another_model(tmp_path):
    register("flaky", f"{__name__}:FlakyBackend")
    bench = _bench(tmp_path)
    out = tmp_path / "run"
    FlakyBackend.FAIL = {"v1.mp4", "v2.mp4"}
    first = run_eval(EvalConfig(bench=str(bench), out=str(out), backend="flaky", n_boot=10, report=False, video_root=str(tmp_path),
                                backend_options={"model": "m1"}))
    assert first.metrics["n_errors"] == 4
    FlakyBackend.FAIL = set()
    again = run_eval(EvalConfig(bench=str(bench), out=str(out), backend="flaky", n_boot=10, report=False, video_root=str(tmp_path),
                                backend_options={"model": "m1"}, resume=True))
    assert again.n_answered == 4 and again.metrics["n_errors"] == 0
    with pytest.raises(CamReasonerError) as err:
        run_eval(EvalConfig(bench=str(bench), out=str(out), backend="flaky", n_boot=10, report=False, video_root=str(tmp_path),
                            backend_options={"model": "m2"}, resume=True))
    assert "\n" not in str(err.value) and "model" in str(err.value)
