"""What the end-to-end and browser suites share: the local stack, served as a person runs it,
both ways: the functions under `cargo lambda watch`, and template.yaml deployed into a local
AWS (`scripts/local --deployed`)."""

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The scripts' helpers (the real-time client) are the tests' too.
sys.path.insert(0, str(ROOT / "scripts"))
import seal_tokens  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, method="GET", body=None, context=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request, timeout=60, context=context) as answer:
        raw = answer.read()
    return json.loads(raw) if raw else None


def create_users(base):
    return call(base + "/create_users", "POST")


class Stack(tuple):
    """`(base URL, log folder, kind)`, with the emulator's endpoint and connection string.
    `kind` is `watch` or `deployed`."""

    @property
    def kind(self):
        return self[2]

    @property
    def connection_string(self):
        text = (self[1] / "emulator.out").read_text()
        return text.split("ACS_CONNECTION_STRING=", 1)[1].strip()

    def create_users(self):
        return create_users(self[0])

    def seal(self, acs_token):
        """What the stack hands a client for `acs_token`: a seal, made with the stack's sealing
        key by scripts/seal_tokens.py, an implementation of the format apart from the
        functions'."""
        endpoint = self.connection_string.split(";")[0].split("=", 1)[1]
        return seal_tokens.seal(acs_token, (self[1] / "seal-keys.json").read_text(), endpoint)

    def sign_in(self, username, password):
        """Signs a person of the local identity provider in, as their device would: its ID
        token for their password, then our `sign_in`."""
        from demo import account_token

        url = (self[1] / "identity.url").read_text().strip()
        client_id = (self[1] / "identity.client").read_text().strip()
        token = account_token(url, client_id, username, password)
        return self.call_api("sign_in", token, {"display_name": username.capitalize()})

    def new_account(self, name):
        """A person of the local identity provider no test has signed in before: a user name
        of `name` and a fresh suffix, and their password."""
        import boto3

        username, password = f"{name}-{os.urandom(3).hex()}", f"{name.capitalize()}-local-1"
        cognito = boto3.client("cognito-idp", endpoint_url=(self[1] / "identity.url").read_text().strip(),
                               region_name="us-east-1", aws_access_key_id="test",
                               aws_secret_access_key="test")
        pool = (self[1] / "identity.pool").read_text().strip()
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": "name", "Value": name.capitalize()}])
        cognito.admin_set_user_password(UserPoolId=pool, Username=username, Password=password,
                                        Permanent=True)
        return username, password

    @property
    def realtime(self):
        """Where clients subscribe: `ws_url`, `http_host` and `connect_addr` (the local
        service's address, as its host names are not in DNS). Written once the emulator's
        Event Grid subscription is made, a little after the API answers."""
        path = self[1] / "realtime.json"
        deadline = time.monotonic() + 300
        while not path.exists():
            assert time.monotonic() < deadline, "the real-time service was not set up"
            time.sleep(0.2)
        return json.loads(path.read_text())

    def call_api(self, function, token, body):
        """POSTs `body` to one of the API's functions with `token`."""
        request = urllib.request.Request(
            f"{self[0]}/{function}", data=json.dumps(body).encode(), method="POST"
        )
        request.add_header("content-type", "application/json")
        request.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.load(answer)

    def answer(self, method, function, token, body=None, query=None):
        """Status and JSON of one API call, refusals included; no `Authorization` without a
        token."""
        url = f"{self[0]}/{function}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("content-type", "application/json")
        if token:
            request.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.load(response)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def call_get(self, function, token, query):
        """GETs one of the API's functions with `query` and `token`."""
        request = urllib.request.Request(f"{self[0]}/{function}?{urllib.parse.urlencode(query)}")
        request.add_header("authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.load(answer)

    def emulator(self, method, path, body=None):
        """Calls one of the emulator's /_emulator test controls (over HTTPS in the deployed
        stack, trusting the emulator's certificate)."""
        endpoint = self.connection_string.split(";")[0].split("=", 1)[1].rstrip("/")
        certificate = self[1] / "emulator.pem"
        context = ssl.create_default_context(cafile=certificate) if certificate.exists() else None
        return call(endpoint + path, method, body, context)

    @property
    def push_service(self):
        """The stand-in push service (`scripts/demo.py`'s client of it, over HTTPS)."""
        from demo import PushService

        return PushService(json.loads((self[1] / "push.json").read_text()))

    @property
    def push_public_key(self):
        """The VAPID public key the stack's pages subscribe with."""
        return self.push_service.key

    def push_device(self):
        """A browser's subscription at the stand-in push service, made with the stack's key:
        its id there, and what `PushSubscription.toJSON()` would give."""
        return self.push_service.subscribe()

    def pushes(self, device, count, timeout=20):
        """What reached `device`, opened, once it is `count` pushes or `timeout` passed; then
        a moment more, for anything doubled to show."""
        return self.push_service.wait(device, count, timeout, settle=1)

    @property
    def files(self):
        """The files' bucket, as boto3 reaches it in the local S3 (with the stack's root
        credentials, which no policy limits), and its name."""
        import boto3

        where = json.loads((self[1] / "files.json").read_text())
        s3 = boto3.client("s3", endpoint_url=where["endpoint"], region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
        return s3, where["bucket"]

    def function_logs(self):
        """Every line the functions logged: `cargo lambda watch`'s output, or, deployed, each
        function's CloudWatch Logs group in the local AWS."""
        if self.kind == "watch":
            return (self[1] / "functions.log").read_text(errors="replace").splitlines()
        import boto3

        logs = boto3.client("logs", endpoint_url=(self[1] / "ministack.url").read_text().strip(),
                            region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        lines = []
        for group in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]:
            for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group["logGroupName"]):
                lines.extend(event["message"].rstrip("\n") for event in page["events"])
        return lines


@pytest.fixture(scope="session")
def watch_stack(tmp_path_factory):
    """`scripts/local --no-demo`: the functions under `cargo lambda watch`, started as a person
    starts it, once for the whole run, and stopped with SIGTERM at its end."""
    yield from serve("watch", tmp_path_factory.mktemp("stack-watch"), [], {})


@pytest.fixture(scope="session")
def deployed_stack(tmp_path_factory):
    """`scripts/local --no-demo --deployed`: template.yaml deployed into a local AWS, once for
    the whole run. Each test makes its own people and threads, so the tests share it."""
    yield from serve("deployed", tmp_path_factory.mktemp("stack-deployed"), ["--deployed"], {})


@pytest.fixture(scope="module")
def own_deployed_stack(request, tmp_path_factory):
    """A deployed stack for one module alone, with the module's `STACK_ENV` added to its
    environment (settings the shared stacks keep at their defaults)."""
    logs = tmp_path_factory.mktemp("stack-own")
    yield from serve("deployed", logs, ["--deployed"], request.module.STACK_ENV)


@pytest.fixture(scope="module", params=["watch", "deployed"])
def stack(request):
    """Each test of a module that takes it, on both stacks."""
    return request.getfixturevalue(f"{request.param}_stack")


@pytest.fixture(scope="module")
def racing_stack(tmp_path_factory):
    """`scripts/local --no-demo --issuer-mode signed-in --concurrency 4`: a deployment's issuer,
    and four instances of each function under `cargo lambda watch`, so that requests sent at
    once are served at once, as on AWS."""
    logs = tmp_path_factory.mktemp("stack-racing")
    options = ["--issuer-mode", "signed-in", "--concurrency", str(RACING_CONCURRENCY)]
    yield from serve("watch", logs, options, {})


RACING_CONCURRENCY = 4


def serve(kind, logs, options, env):
    """Runs `scripts/local --no-demo` with `options` until the caller is done with it."""
    port = free_port()
    process = subprocess.Popen(
        ["bash", str(ROOT / "scripts/local"), "--no-demo", "--port", str(port), "--log-dir", str(logs),
         *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 600
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            break
        except OSError:
            assert process.poll() is None, "the local stack stopped while starting"
            assert time.monotonic() < deadline, "the local stack did not start"
            time.sleep(0.5)
    stack = Stack((f"http://127.0.0.1:{port}", logs, kind))
    # Served only once the emulator's Event Grid deliveries are subscribed too: a page whose
    # socket is up polls only now and then, and would miss what was never pushed.
    stack.realtime
    yield stack
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)
