"""Teacher rejection sampling and RL difficulty through real backends."""

import json
from collections import Counter

import pytest
from suite_fixtures import make_synth, options

from camreasoner.backends import BackendItem, get_backend
from camreasoner.core.ota import extract_letter, format_ota, parse_strict
from camreasoner.core.taxonomy import PRIMITIVES
from camreasoner.core.types import BackendResponse
from camreasoner.suite.build import build_suite, iter_rows
from camreasoner.suite.rl import pass_rates_from_backend
from camreasoner.suite.teacher import TeacherItem, judge, sample_teacher

MEASURED = dict.fromkeys(PRIMITIVES, False) | {"Pan_Left": True}


def test_judge_reasons():
    ok = format_ota("Content slides right with no parallax: the camera pans left.", "so yes", "B")
    assert judge(ok, "B", "AB", MEASURED) == "accepted"
    assert judge("B", "B", "AB", MEASURED) == "format"
    assert judge(ok.replace("<answer>B", "<answer>A"), "B", "AB", MEASURED) == "wrong_answer"
    wrong = format_ota("The camera pans right.", "so yes", "B")
    assert judge(wrong, "B", "AB", MEASURED) == "contradicts_measurements"
    vague = format_ota("A video of a street.", "so yes", "B")
    assert judge(vague, "B", "AB", MEASURED) == "vague_observation"


OBSERVATION = "Content slides right with no parallax: the camera pans left."
PROSE = [
    format_ota(OBSERVATION, "so yes", "The answer is B"),
    format_ota(OBSERVATION, "so yes", "I would say B"),
    format_ota(OBSERVATION, "so yes", "A camera that pans"),  # a capital A in prose, no letter
    "The content slides right with no parallax, so the camera pans left: B.",
    f"<observation>{OBSERVATION}</observation><think>so B</think>",
]


@pytest.mark.parametrize("text", PROSE)
def test_a_teacher_letter_only_in_prose_is_not_accepted(text):
    """The teacher filter reads the letter with the one strict reader: prose gives no answer."""
    assert extract_letter(text, "AB") is None
    assert judge(text, "B", "AB", MEASURED) == "format"
    assert judge(text, "A", "AB", MEASURED) == "format"


def test_the_teacher_filter_accepts_each_form_the_strict_reader_accepts():
    for answer in ("B", "B.", "(B)", "B. Yes"):
        text = format_ota(OBSERVATION, "so yes", answer)
        assert extract_letter(text, "AB") == "B"
        assert judge(text, "B", "AB", MEASURED) == "accepted"
        assert judge(text, "A", "AB", MEASURED) == "wrong_answer"


class ProseTeacher:
    """A teacher VLM that names its letter in prose inside the answer block (a backend under test)."""

    name = "prose"

    def answer(self, items):
        return [BackendResponse(format_ota(OBSERVATION, "so yes", "The answer is B"), None, {}) for _ in items]


def test_sample_teacher_rejects_prose_answers_as_format():
    item = BackendItem("clip.mp4", "Does the camera pan left?", ("A. No", "B. Yes"), "q0")
    (out,) = sample_teacher(ProseTeacher(), [TeacherItem("q0", item, "B", MEASURED)], k=3)
    assert out.response is None and out.reasons == Counter({"format": 3})


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return make_synth(tmp_path_factory.mktemp("teach"), clips=4, seed=21)


def test_teacher_chains_and_reasons_with_the_geometric_and_a_blind_backend(synth, tmp_path):
    opts = options(synth, tmp_path / "geo", augment=(), sft=12, rl=8, teacher="geometric", k=2)
    manifest = build_suite(opts).manifest
    reasons = manifest["statistics"]["rejections"]["teacher"]
    tried = min(12, manifest["counts"]["pool"])
    assert sum(reasons.values()) == 2 * tried  # k samples for each of the first --sft items
    sft = list(iter_rows(opts.out, "sft"))
    teacher_rows = [r for r in sft if r["source"] == "teacher:geometric"]
    assert len(teacher_rows) == reasons.get("accepted", 0) // 2  # deterministic backend: both samples alike
    for r in teacher_rows:
        assert (
            judge(r["response"], r["answer"], "ABCDEF"[: len(r["options"])], json_measured(opts, r))
            == "accepted"
        )
    # a baseline that never looks at the video: every sample is rejected, the suite falls back to grounded
    blind = options(synth, tmp_path / "blind", augment=(), sft=6, rl=0, teacher="always-no", k=2)
    m = build_suite(blind).manifest
    assert set(m["statistics"]["rejections"]["teacher"]) <= {"wrong_answer", "vague_observation"}
    assert m["statistics"]["sft_sources"] == {"grounded": 6}
    only = options(
        synth, tmp_path / "only", augment=(), sft=6, rl=0, teacher="always-no", k=1, teacher_only=True
    )
    assert build_suite(only).manifest["counts"]["sft"] == 0


def json_measured(opts, row):
    from camreasoner.suite.measure import measure

    return measure(opts.video_root / row["video"], opts.out / "work" / "measure", opts.observer)["primitives"]


def test_reference_pass_rate_counts_right_samples(synth):
    be = get_backend("always-no")
    from camreasoner.formats.questions import read_questions

    qs = [q for q in read_questions(synth / "binary.json")][:10]
    items = [BackendItem(str(synth / q.path), q.question, tuple(q.options)) for q in qs]
    rates = pass_rates_from_backend(be, items, [q.answer for q in qs], k=3)
    assert rates == [1.0 if q.answer == "A" else 0.0 for q in qs]


def test_teacher_run_with_the_tiny_model_over_an_openai_server(synth, tmp_path, tiny_model_dir):
    """The rejection path end to end: suite build -> openai backend -> HTTP -> tiny Qwen2.5-VL."""
    from camreasoner.testing.serve_local import LocalServer

    with LocalServer(tiny_model_dir, served_name="tiny") as server:
        opts = options(
            synth,
            tmp_path / "tiny",
            augment=(),
            sft=2,
            rl=2,
            teacher="openai",
            teacher_options={
                "base_url": server.base_url,
                "model": "tiny",
                "temperature": 1.0,
                "max_new_tokens": 16,
                "max_pixels": 64 * 28 * 28,
            },
            k=2,
            reference="openai",
            reference_options={
                "base_url": server.base_url,
                "model": "tiny",
                "max_new_tokens": 8,
                "max_pixels": 64 * 28 * 28,
            },
            reference_k=1,
        )
        manifest = build_suite(opts).manifest
        assert server.requests >= 2 * 2 + 2
    reasons = Counter(manifest["statistics"]["rejections"]["teacher"])
    assert sum(reasons.values()) == 4
    # a random model does not write strict O-T-A: every sample is rejected and counted
    assert reasons["accepted"] == 0 and reasons["format"] + reasons["backend_error"] == 4
    assert manifest["statistics"]["sft_sources"] == {"grounded": 2}
    (log_file,) = (opts.out / "work").glob("teacher-openai-*.jsonl")
    log = [json.loads(x) for x in log_file.read_text().splitlines()]
    assert len(log) == 2 and all(rec["response"] is None for rec in log)
    rl = list(iter_rows(opts.out, "rl"))
    assert len(rl) == 2 and all(r["pass_rate"] in (0.0, 1.0) for r in rl)
    assert "teacher: reason" in (opts.out / "README.md").read_text()
    # resume: a second build asks the server nothing more
    with LocalServer(tiny_model_dir, served_name="tiny") as server2:
        opts.teacher_options["base_url"] = opts.reference_options["base_url"] = server2.base_url
        build_suite(opts)
        assert server2.requests == 0
    assert parse_strict("x") is None


def test_sample_logs_are_keyed_by_backend_model_and_sampling(tmp_path):
    """A changed teacher model or sampler never reuses another's samples; a moved server does."""
    from camreasoner.suite.build import _log_path

    base = _log_path(tmp_path, "teacher", "openai", {"model": "a", "temperature": 1.0}, 4)
    moved = {"temperature": 1.0, "model": "a", "api_key": "s", "base_url": "http://127.0.0.1:9/v1"}
    assert base == _log_path(tmp_path, "teacher", "openai", moved, 4)
    others = [
        _log_path(tmp_path, "teacher", "openai", {"model": "b", "temperature": 1.0}, 4),
        _log_path(tmp_path, "teacher", "openai", {"model": "a", "temperature": 0.7}, 4),
        _log_path(tmp_path, "teacher", "openai", {"model": "a", "temperature": 1.0}, 8),
        _log_path(tmp_path, "teacher", "vllm", {"model": "a", "temperature": 1.0}, 4),
    ]
    assert len({base, *others}) == 5
