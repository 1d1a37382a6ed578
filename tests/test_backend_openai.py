"""The openai backend against a real OpenAI-compatible server on loopback serving the tiny model."""

from __future__ import annotations

import math
import socket

import httpx  # noqa: F401
import pytest
import torch  # noqa: F401
import transformers  # noqa: F401

from camreasoner.backends import BackendItem, get_backend
from camreasoner.backends.openai_backend import letter_probs_from_top, probs_at_answer
from camreasoner.core.errors import CamReasonerError
from camreasoner.core.taxonomy import BINARY_OPTIONS, QUESTIONS
from camreasoner.testing.sample_clips import sample_clip
from camreasoner.testing.serve_local import LocalServer

SMALL = {"max_pixels": 64 * 28 * 28, "max_new_tokens": 10}


@pytest.fixture(scope="module")
def server(tiny_model_dir):
    with LocalServer(tiny_model_dir, served_name="tiny") as srv:
        yield srv


@pytest.fixture(scope="module")
def items():
    return [
        BackendItem(str(sample_clip("carphone_pristine")), QUESTIONS["Zoom_In"], BINARY_OPTIONS),
        BackendItem(str(sample_clip("bikes")), QUESTIONS["Pan_Left"], BINARY_OPTIONS),
        BackendItem(str(sample_clip("tree")), QUESTIONS["Tilt_Up"], BINARY_OPTIONS),
    ]


def test_answers_over_http_with_concurrency_and_logprob_scores(server, items):
    be = get_backend(
        "openai", base_url=server.base_url, model="tiny", concurrency=3, top_logprobs=1000, **SMALL
    )
    before = server.requests
    out = be.answer(items)
    for resp in out:
        assert resp.error is None
        assert sorted(resp.option_probs) == ["A", "B"]
        assert abs(sum(resp.option_probs.values()) - 1) < 1e-9
        # the random model never writes <answer>: the server is asked to continue after a forced one
        assert resp.meta["forced_answer"] and resp.meta["probs_from"] == "forced_logprobs"
        assert resp.meta["prompt_tokens"] > resp.meta["frames"]
    assert server.requests - before == 2 * len(items)
    again = be.answer(items)
    assert [r.text for r in again] == [r.text for r in out]  # greedy: deterministic over HTTP too
    assert [r.option_probs for r in again] == [r.option_probs for r in out]


def test_prompt_tokens_match_the_hf_prompt(server, tiny_model_dir, items):
    """The server sees the same prompt as the hf backend: same length, so same pads and text."""
    be = get_backend("openai", base_url=server.base_url, model="tiny", **SMALL)
    hf = get_backend("hf", model=str(tiny_model_dir), **SMALL)
    resp = be.answer(items[:1])[0]
    p = hf.prepare(items[0])
    enc = hf.runner.encode([p.video], [p.prompt])
    assert resp.meta["prompt_tokens"] == enc["input_ids"].shape[1]


def test_probabilities_at_the_answer_token_handle_fused_tokens():
    text = "<observation>o</observation><think>t</think><answer>B</answer>"
    tokens = ["<observation>o</observation><think>t</think>", "<answer", ">B", "</answer>"]
    content = [{"token": t, "logprob": -0.1, "top_logprobs": []} for t in tokens]
    content[2]["top_logprobs"] = [
        {"token": ">B", "logprob": math.log(0.6)},
        {"token": ">A", "logprob": math.log(0.2)},
        {"token": ">", "logprob": math.log(0.1)},
    ]
    probs = probs_at_answer(text, content, "AB")
    assert probs == pytest.approx({"A": 0.25, "B": 0.75})
    # a letter missing from the top list gets the list's lowest probability as an upper bound
    assert letter_probs_from_top(
        [{"token": "B", "logprob": math.log(0.5)}, {"token": "x", "logprob": math.log(0.1)}], "", "AB"
    ) == pytest.approx({"A": 0.1 / 0.6, "B": 0.5 / 0.6})
    assert letter_probs_from_top([{"token": "Because", "logprob": -0.1}], "", "AB") is None
    assert probs_at_answer("no tag", content, "AB") is None


def test_server_errors_come_back_as_one_line_per_item(server, items, tmp_path):
    wrong = get_backend("openai", base_url=server.base_url, model="other", **SMALL)
    resp = wrong.answer(items[:1])[0]
    assert "HTTP 404" in resp.error and "'other' does not exist" in resp.error and "\n" not in resp.error
    missing = wrong.answer([BackendItem(str(tmp_path / "x.mp4"), "q?", BINARY_OPTIONS)])[0]
    assert missing.error.endswith("x.mp4: no such file")


def test_unreachable_server_and_time_out_are_retried_then_reported(items):
    with socket.socket() as bound:  # bound but not listening: connections are refused, the port stays ours
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        be = get_backend("openai", base_url=f"http://127.0.0.1:{port}/v1", model="m", retries=1, **SMALL)
        resp = be.answer(items[:1])[0]
    assert "cannot reach" in resp.error and "gave up after 2 tries" in resp.error

    with socket.socket() as silent:  # the kernel accepts connections into the backlog; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        slow = get_backend("openai", base_url=url, model="m", timeout=1.0, retries=1, **SMALL)
        resp = slow.answer(items[:1])[0]
        assert "timed out" in resp.error and "gave up after 2 tries" in resp.error
        silent.setblocking(False)
        tries = []
        while True:  # count the connections the client made: they wait in the backlog
            try:
                tries.append(silent.accept()[0])
            except BlockingIOError:
                break
        for conn in tries:
            conn.close()
        assert len(tries) == 2


def test_missing_options_are_clear_errors():
    with pytest.raises(CamReasonerError, match="needs --base-url"):
        get_backend("openai", model="m")
    with pytest.raises(CamReasonerError, match="needs --model"):
        get_backend("openai", base_url="http://127.0.0.1:1/v1")
