"""`camreasoner analyze` and `camreasoner ask` through the installed entry point: output and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from observer_scenes import render_clip, write_clip

from camreasoner.testing.sample_clips import sample_clip

EXE = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "camreasoner")


def run(*args):
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def pan_clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("cli") / "pan.mp4", render_clip("Pan_Left", 12), fps=6)


def test_analyze_json_prints_one_object(pan_clip):
    out = run("analyze", pan_clip, "--json", "--fps", "6", "--max-frames", "10")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert set(obj) == {"video", "primitives", "scores", "measurements", "observation", "think", "answer", "shots"}
    assert obj["answer"] == "Pan_Left" and obj["primitives"]["Pan_Left"] is True
    assert obj["measurements"]["frames"] == 10 and obj["measurements"]["truncated"] is True


def test_analyze_on_a_clip_never_imports_torch(pan_clip):
    """The geometric path end to end (CLI, decoder, observer, O-T-A) in a fresh interpreter: no ML stack."""
    heavy = ("torch", "torchvision", "transformers", "trl", "peft", "vllm", "ray")
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print('heavy:', sorted(m for m in {heavy!r} if m in sys.modules)))\n"
        "from camreasoner.cli.app import main\n"
        "sys.argv = ['camreasoner', 'analyze', sys.argv[1], '--json', '--fps', '6', '--max-frames', '10']\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(pan_clip)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    *body, last = out.stdout.strip().splitlines()
    assert json.loads("\n".join(body))["answer"] == "Pan_Left"
    assert last == "heavy: []"


def test_analyze_rich_output_is_readable(pan_clip):
    out = run("analyze", pan_clip, "--start", "0.5", "--end", "1.8")
    assert out.returncode == 0 and "Pan_Left" in out.stdout and "Observation" in out.stdout


def test_shots_with_no_sure_motion_read_no_clear_motion_on_the_console():
    # bikes.mp4's first four shots hold no sure motion (JSON answer "None"); the console says so in words
    out = run("analyze", sample_clip("bikes"))
    assert out.returncode == 0, out.stderr
    shots = " ".join(out.stdout.split("Shots", 1)[1].split())
    assert shots.startswith("0.0-1.2 s no clear motion; 1.2-3.0 s no clear motion;"), shots
    assert " None" not in out.stdout
    obj = json.loads(run("analyze", sample_clip("bikes"), "--json").stdout)
    assert obj["shots"][0]["reading"]["answer"] == "None"


def test_vtest_reads_static():
    out = run("analyze", sample_clip("vtest"), "--json", "--max-frames", "20")
    assert json.loads(out.stdout)["answer"] == "Static"


def test_ask_prints_the_full_ota_response(pan_clip):
    out = run("ask", pan_clip, "Does the camera pan to the left?", "--option", "A. No", "--option", "B. Yes")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("<observation>") and out.stdout.strip().endswith("<answer>B</answer>")
    mc = run("ask", pan_clip, "How does the camera move?", "--option", "A. Trucks left", "--option",
             "B. Pans left", "--json")
    assert json.loads(mc.stdout)["letter"] == "B"


def test_analyze_through_another_backend_asks_the_15_questions(pan_clip):
    out = run("analyze", pan_clip, "--backend", "always-yes", "--json")
    assert out.returncode == 0, out.stderr
    obj = json.loads(out.stdout)
    assert all(obj["primitives"].values()) and all(v == 1.0 for v in obj["scores"].values())
    assert obj["measurements"]["backend"] == "always-yes"
    bad = run("analyze", pan_clip, "--backend", "nope")  # a usage error: Typer's message, exit 2
    assert bad.returncode == 2 and "'nope' is not one of" in bad.stderr and "Traceback" not in bad.stderr


def _one_line_error(out, *words):
    assert out.returncode != 0
    assert out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    for w in words:
        assert w in lines[0]


def test_bad_inputs_give_one_line(tmp_path, pan_clip):
    _one_line_error(run("analyze", tmp_path / "missing.mp4"), "missing.mp4", "no such file")
    rand = tmp_path / "random.mp4"
    rand.write_bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8).tobytes())
    _one_line_error(run("analyze", rand), "random.mp4", "not a readable video")
    one = write_clip(tmp_path / "one.mp4", render_clip("Static", 1))
    _one_line_error(run("analyze", one), "one.mp4", "1 frame")
    _one_line_error(run("ask", pan_clip, "What colour is the sky?"), "cannot map question")
    _one_line_error(run("analyze", pan_clip, "--start", "5"), "0 frames", "is at or after the stream's end")


def test_unsupported_codec(tmp_path):
    raw = write_clip(tmp_path / "raw.mkv", render_clip("Static", 3), codec="rawvideo")
    odd = tmp_path / "odd.mkv"
    odd.write_bytes(raw.read_bytes().replace(b"V_UNCOMPRESSED", b"V_QQQQQQQQQQQQ"))
    _one_line_error(run("analyze", odd), "odd.mkv", "unsupported video codec")


def test_corrupt_part_way_analyses_what_decodes(tmp_path):
    full = write_clip(tmp_path / "full.mkv", render_clip("Pan_Right", 40), fps=12)
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    out = run("analyze", cut, "--json")
    assert out.returncode == 0
    obj = json.loads(out.stdout)
    assert obj["measurements"]["warnings"] and "truncated or corrupt" in obj["measurements"]["warnings"][0]
    assert obj["answer"] == "Pan_Right"


def test_garbage_in_the_middle_of_a_real_clip_is_reported(tmp_path):
    data = bytearray(sample_clip("bikes").read_bytes())
    mid = len(data) // 2
    data[mid : mid + 30000] = np.random.default_rng(0).integers(0, 256, 30000, dtype=np.uint8).tobytes()
    bad = tmp_path / "bikes_corrupt.mp4"
    bad.write_bytes(bytes(data))
    out = run("analyze", bad, "--json")
    assert out.returncode == 0, out.stderr
    warnings = json.loads(out.stdout)["measurements"]["warnings"]
    assert warnings and "bikes_corrupt.mp4" in warnings[0] and "corrupt" in warnings[0]
