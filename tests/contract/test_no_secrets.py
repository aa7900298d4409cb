"""Nothing secret, anywhere: no user token (an ACS token or a seal), access key, sealing key or
connection string in any log line of the Rust suites' traffic (logged at debug), nor in any
answer except where handing out tokens is the point (`create_users`', `sign_in`'s and
`refresh_token`'s 200)."""

import json
import re

from recorded import recorded

JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
SEAL = re.compile(r"seal1\.[0-9]+\.[A-Za-z0-9_-]{40,}")
TOKEN = re.compile(f"{JWT.pattern}|{SEAL.pattern}")
TOKEN_ISSUERS = {"create_users", "sign_in", "refresh_token"}




def secrets():
    """Every emulator's connection string and access key, and every sealing key, the suites
    used."""
    found = set()
    for line in recorded("secrets.txt").splitlines():
        found.add(line)
        if "accesskey=" in line:
            found.add(line.split("accesskey=", 1)[1])
    return found


def leaks(text, where):
    found = [f"{where}: a token" for _ in TOKEN.finditer(text)]
    found += [f"{where}: a key or connection string" for secret in secrets() if secret in text]
    return found


def test_no_log_line_holds_a_token_or_key():
    logs = recorded("logs.jsonl")
    assert logs.count("\n") > 1000, "the suites' logs were recorded"
    found = []
    for number, line in enumerate(logs.splitlines(), 1):
        found += leaks(line, f"logs.jsonl:{number}")
    assert not found, "\n".join(found[:20])


def test_no_answer_holds_a_token_or_key_except_a_token_issuer_s_success():
    found = []
    issued = 0
    for line in recorded("responses.jsonl").splitlines():
        answer = json.loads(line)
        if answer["function"] in TOKEN_ISSUERS and answer["status"] == 200:
            issued += 1
            body = TOKEN.sub("", answer["body"])
        else:
            body = answer["body"]
        found += leaks(body + json.dumps(answer["headers"]), f"{answer['function']} {answer['status']}")
    assert issued > 0
    assert not found, "\n".join(found[:20])
