"""The command line's conventions: exit codes, choices from the registry, --force that removes only ours."""

from __future__ import annotations

import subprocess
import sys
import textwrap

EXE = [sys.executable, "-m", "camreasoner.cli.app"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*EXE, *args], capture_output=True, text=True)


def test_backend_choices_come_from_the_registry():
    out = run("analyze", "--help")
    assert out.returncode == 0
    help_text = "".join(ch for ch in out.stdout if not ch.isspace() and ch != "│")  # rich may wrap anywhere
    # the names a fresh interpreter registers: other tests add backends to this process's registry
    fresh = subprocess.run([sys.executable, "-c", "from camreasoner.backends.base import backend_names; "
                            "print(' '.join(backend_names()))"], capture_output=True, text=True, check=True)
    names = fresh.stdout.split()
    assert "geometric" in names and "always-no" in names
    for name in names:
        assert name in help_text
    bad = run("analyze", "clip.mp4", "--backend", "nope")
    assert bad.returncode == 2 and "nope" in bad.stderr and "Traceback" not in bad.stderr


def test_usage_errors_exit_2_and_bare_groups_print_help():
    assert run("analyze").returncode == 2  # missing VIDEO
    assert run("ask", "clip.mp4", "Q?", "A. No").returncode == 2  # options only through --option
    for group in ("model", "suite", "train"):
        out = run(group)
        assert "Usage" in out.stdout + out.stderr and "Traceback" not in out.stderr


def test_ctrl_c_exits_130():
    """A command interrupted by SIGINT (raised in its own thread: delivered before raise_signal
    returns, so no timing and no other thread to catch it) exits 130."""
    script = textwrap.dedent(
        """
        import signal, sys
        from camreasoner.cli import app as cli

        @cli.app.command("interrupt-me")
        def interrupt_me() -> None:
            # a shell's background job starts with SIGINT ignored, and Python then installs no
            # KeyboardInterrupt handler: give it the one an interactive terminal's process has
            signal.signal(signal.SIGINT, signal.default_int_handler)
            signal.raise_signal(signal.SIGINT)  # KeyboardInterrupt at the next bytecode
            sys.exit(3)  # reached only if the interrupt was lost

        cli.main()
        """
    )
    out = subprocess.run([sys.executable, "-c", script, "interrupt-me"], capture_output=True, text=True)
    assert out.returncode == 130, out.stderr


def test_model_tiny_force_replaces_only_its_own_checkpoints(tmp_path):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    refused = run("model", "tiny", "--out", str(mine), "--force")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "not a checkpoint built by" in refused.stderr
    assert (mine / "thesis.tex").read_text() == "precious"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "not a directory" in run("model", "tiny", "--out", str(a_file)).stderr
