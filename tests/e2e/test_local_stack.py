"""End to end: the README's main command starts the whole local stack (emulator, moto, the
functions under `cargo lambda watch`) and holds the demo conversation over HTTP, in both auth
modes, and the same with template.yaml deployed into a local AWS (`--deployed`).
scripts/demo.py checks every answer; here we check the run as a whole: what it printed, that
no function was compiled once it was serving, and that it left no process behind."""

import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_stack(logs, *options):
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "local"), "--exit-after-demo", "--port", str(free_port()),
         "--log-dir", str(logs), *options],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


OPTIONS = {"token": [], "trusted": ["--trusted"], "deployed": ["--deployed"]}


def stack_processes():
    """Processes of the kinds the stack starts (the test run may have its own beforehand)."""
    listed = subprocess.run(
        ["pgrep", "-af", "acs-emulator --listen|moto_serial.py|cargo-lambda lambda watch"
                         "|ministack|host_proxy.py|ministack-provided-code"],
        capture_output=True,
        text=True,
    ).stdout
    return set(listed.splitlines())


@pytest.mark.parametrize("mode", sorted(OPTIONS))
def test_the_local_stack_holds_the_demo_conversation_builds_nothing_while_serving_and_leaves_nothing_running(mode, tmp_path):
    before = stack_processes()
    output = run_stack(tmp_path, *OPTIONS[mode])
    for step in [
        "POST /create_users",
        "POST /create_thread",
        "User added successfully",
        "Message sent successfully",
        "GET /get_messages as Bob",
        "(nothing new)",
        "GET /get_all_messages as Bob",
        "Bob renames the thread",
        "now reads 'Noon works. See you there!'",
        "Left the thread",
        "Demo complete.",
    ]:
        assert step in output, f"{step!r} missing from:\n{output}"
    if mode != "trusted":
        assert "401 missing_token" in output and "403 token_user_mismatch" in output
    if mode != "deployed":
        served = (tmp_path / "functions.log").read_text()
        assert "Compiling" not in served, "a function was compiled on its first call"
    leftovers = stack_processes() - before
    assert not leftovers, leftovers
