"""The local stack, served as a person runs it, against its published contract and its logs.

- A property-based run (schemathesis, bounded in examples: 30 per operation deployed, 10
  under `cargo lambda watch`) finds no 5xx and no answer outside
  openapi.yaml: every operation with valid inputs, and the GET operations with invalid ones too.
  Invalid bodies are left out of the run: schemathesis sends some as raw non-UTF-8 bytes under
  `application/json`, which `cargo lambda watch`'s stand-in for API Gateway answers 500 itself
  before any function runs (API Gateway hands such a body over base64-encoded; the handlers'
  answer to it, 400, is in tests/api/hostile.rs).
- The stack's logs (the functions', the emulator's, moto's or ministack's) hold no token and no
  key, and each request's log line and metric record name its request ids: read from
  `cargo lambda watch`'s output, or from the local AWS's CloudWatch Logs when deployed.
- Deployed, the functions reach ACS over HTTPS as on AWS: an inbox's threads, read all at once,
  share one HTTP/2 connection rather than opening one each.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[2]
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
])


# The same handlers answer in both stacks: the deployed one, behind the template's routes as on
# AWS, gets the thorough run; under `cargo lambda watch` a shorter one holds its router to the
# same contract.
EXAMPLES = {"deployed": "30", "watch": "10"}


def schemathesis(stack, tmp_path, *options):
    base = stack[0]
    users = stack.create_users()
    # The query's user_id is the token's, so reads get past the identity check to ACS.
    config = tmp_path / "schemathesis.toml"
    config.write_text(f'[parameters]\n"query.user_id" = "{users["user1_id"]}"\n')
    run = subprocess.run(
        [
            "st", "--config-file", str(config), "run", str(ROOT / "openapi.yaml"),
            "--url", base,
            "-H", f"Authorization: Bearer {users['user1_token']}",
            "--checks", CHECKS,
            "--max-examples", EXAMPLES[stack.kind],
            "--seed", "1",
            "--request-timeout", "30",
            "--no-color",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = [line.strip() for line in run.stdout.splitlines() if "generated" in line]
    print(f"schemathesis {' '.join(options)}: {summary}")
    assert run.returncode == 0, run.stdout[-6000:]
    return summary


def test_valid_requests_to_every_operation_get_no_5xx_and_nothing_outside_the_spec(stack, tmp_path):
    schemathesis(stack, tmp_path, "--mode", "positive")


def test_invalid_queries_get_no_5xx_and_nothing_outside_the_spec(stack, tmp_path):
    schemathesis(stack, tmp_path, "--mode", "negative", "--include-method", "GET")


def test_the_stack_s_logs_hold_no_token_or_key_and_each_request_names_its_ids(stack):
    stack.create_users()
    connection_string = stack.connection_string
    key = connection_string.split("accesskey=", 1)[1]
    texts = {path.name: path.read_text(errors="replace") for path in stack[1].glob("*.log")}
    texts["the functions' logs"] = "\n".join(stack.function_logs())
    for name, text in texts.items():
        assert not JWT.search(text), f"a token in {name}"
        assert key not in text and connection_string not in text, f"the key in {name}"
    records = [json.loads(line) for line in stack.function_logs() if line.startswith("{")]
    handled = [r for r in records if r.get("fields", {}).get("message") == "handled"]
    assert any(r["span"]["function"] == "create_users" for r in handled), records[-5:]
    for record in handled:
        assert record["span"]["request_id"] and record["span"]["lambda_request_id"], record
    metrics = [r for r in records if "_aws" in r]
    assert {m["function"] for m in metrics} >= {"create_users"}
    for metric in metrics:
        assert metric["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "acs-chat-api", metric
        assert metric["request_id"] and metric["lambda_request_id"], metric

def test_an_inbox_of_twenty_threads_is_read_from_acs_over_one_http2_connection(deployed_stack):
    stack = deployed_stack
    users = stack.create_users()
    alice, token = users["user1_id"], users["user1_token"]
    for number in range(20):
        stack.call_api("create_thread", token, {"user1_id": alice, "topic": f"inbox {number}"})
    stack.emulator("DELETE", "/_emulator/requests")
    inbox = stack.call_get("list_threads", token, {"user_id": alice, "max_page_size": "20"})
    assert len(inbox["threads"]) == 20
    connections = stack.emulator("GET", "/_emulator/connections")
    # This question's own connection is the only HTTP/1.1 one; the functions' are HTTP/2, and a
    # delivery to acs_events may have opened another while we read.
    assert connections.pop("http/1.1") == 1, connections
    assert set(connections) <= {"h2"} and connections.get("h2", 0) <= 2, connections
