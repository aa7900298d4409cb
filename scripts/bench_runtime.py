"""Start-up time and memory of the release function binaries, under a minimal Lambda Runtime
API served here (what the Lambda service gives a `provided.al2023` bootstrap).

For each function: exec to its first `GET /runtime/invocation/next` (network excluded: the
secret is fetched lazily, on first use), the median of several starts; then one process serves
a run of its `events/<function>/ok.json` against the emulator, and its peak resident memory
(VmHWM) is read. The world the events name is made by the functions themselves, in order.

Usage: python scripts/bench_runtime.py BIN_DIR  (with ACS_ENDPOINT, ACS_SECRET_ID and the AWS
variables for the local Secrets Manager set by scripts/bench)
"""

import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTS = 15
INVOCATIONS = 100


class Runtime:
    """One function's Runtime API: hands out queued events, collects responses."""

    def __init__(self):
        self.events = queue.Queue()
        self.responses = queue.Queue()
        self.first_next = threading.Event()
        self.asked = 0
        self.asked_changed = threading.Condition()
        runtime = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                with runtime.asked_changed:
                    runtime.asked += 1
                    runtime.asked_changed.notify_all()
                runtime.first_next.set()
                event = runtime.events.get()
                request_id = str(uuid.uuid4())
                deadline = str(int(time.time() * 1000) + 30_000)
                self._reply(200, json.dumps(event).encode(), [
                    ("lambda-runtime-aws-request-id", request_id),
                    ("lambda-runtime-deadline-ms", deadline),
                    ("lambda-runtime-invoked-function-arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                    ("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000"),
                    ("content-type", "application/json"),
                ])

            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                runtime.responses.put((self.path, body))
                self._reply(202, b"{}", [("content-type", "application/json")])

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a start-up sample kills its process mid-request on purpose

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def next_asked(self, count, timeout):
        """Waits until the function has asked for its `count`-th event."""
        with self.asked_changed:
            return self.asked_changed.wait_for(lambda: self.asked >= count, timeout)

    def close(self):
        self.server.shutdown()


def spawn_env(runtime, name, extra=()):
    """The environment Lambda gives a function, plus `extra`."""
    env = dict(os.environ)
    env.update({
        "AWS_LAMBDA_RUNTIME_API": runtime.address,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_LEVEL": "error",
    })
    env.update(extra)
    return env


# The system store as Lambda's Amazon Linux has it: one bundle, no directory of hashed links
# (Debian's, which the verifier would also read, is measured in scripts/bench_cold.py).
LAMBDA_CERTS = {"SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt", "SSL_CERT_DIR": tempfile.mkdtemp()}


def spawn(binary, runtime, name):
    return subprocess.Popen([binary], env=spawn_env(runtime, name, LAMBDA_CERTS),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_time(binary, name):
    samples = []
    for _ in range(STARTS):
        runtime = Runtime()
        began = time.perf_counter()
        process = spawn(binary, runtime, name)
        if not runtime.first_next.wait(10):
            process.kill()
            sys.exit(f"{name} never asked for an event")
        samples.append((time.perf_counter() - began) * 1000)
        process.kill()
        process.wait()
        runtime.events.put({})
        runtime.close()
    return statistics.median(samples)


def fill(text, values):
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    return text


def serve(binary, name, event, count):
    """Runs `count` invocations of `event` in one process; returns bodies and peak RSS in KiB."""
    runtime = Runtime()
    process = spawn(binary, runtime, name)
    bodies = []
    for _ in range(count):
        runtime.events.put(event)
        path, body = runtime.responses.get(timeout=60)
        if not path.endswith("/response"):
            sys.exit(f"{name} failed: {path} {body[:300]!r}")
        bodies.append(json.loads(body))
    status = Path(f"/proc/{process.pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    process.kill()
    process.wait()
    runtime.close()
    return bodies, peak


def main():
    bin_dir = Path(sys.argv[1])
    values = {}
    rows = []
    order = ["create_users", "create_thread", "add_user", "send_message", "get_messages", "get_all_messages"]
    for name in order:
        binary = str(bin_dir / name)
        ready = start_time(binary, name)
        event = json.loads(fill((ROOT / "events" / name / "ok.json").read_text(), values))
        bodies, peak = serve(binary, name, event, INVOCATIONS)
        first = bodies[0]
        if first.get("statusCode") != 200:
            sys.exit(f"{name}: {first}")
        answer = json.loads(first["body"])
        if name == "create_users":
            values.update({k: answer[k] for k in ["user1_id", "user2_id", "user1_token", "user2_token"]})
            values["outsider_id"] = answer["user2_id"]
        if name == "create_thread":
            values["thread_id"] = answer["thread_id"]
        rows.append((name, ready, peak / 1024))

    print(f"\nrelease binaries on this machine (x86_64), {STARTS} starts, {INVOCATIONS} invocations each:")
    print(f"{'function':<18} {'start->ready ms':>16} {'peak RSS MiB':>13}   (budgets: 10 ms, 16 MB)")
    for name, ready, rss in rows:
        print(f"{name:<18} {ready:>16.1f} {rss:>13.1f}")


if __name__ == "__main__":
    main()
