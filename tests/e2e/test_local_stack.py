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


# Sealed client tokens (the default) in each of the first three; the original six, and the rest
# of the demo, with the ACS tokens themselves handed out in the last.
OPTIONS = {"token": [], "trusted": ["--trusted"], "deployed": ["--deployed"],
           "acs-tokens": ["--client-tokens", "acs"]}


def stack_processes(run_dir):
    """The processes of the stack whose log folder is `run_dir`: each inherits
    `ACS_LOCAL_STACK_RUN` from scripts/local, so another stack's (a test beside this one) are
    not counted."""
    marker = f"ACS_LOCAL_STACK_RUN={run_dir}".encode()
    found = set()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environment = (proc / "environ").read_bytes().split(b"\0")
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in environment:
            found.add(f"{proc.name} {command}")
    return found


@pytest.mark.parametrize("mode", sorted(OPTIONS))
def test_the_local_stack_holds_the_demo_conversation_builds_nothing_while_serving_and_leaves_nothing_running(mode, tmp_path):
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
    leftovers = stack_processes(tmp_path)
    assert not leftovers, leftovers
