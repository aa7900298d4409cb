"""Starts the emulator binary over HTTPS for the official Azure SDKs to talk to."""

import json
import os
import re
import ssl
import subprocess
import tempfile
import urllib.request

import pytest


class RunningEmulator:
    def __init__(self, process, connection_string, cert_path):
        self.process = process
        self.connection_string = connection_string
        self.endpoint = re.search(r"endpoint=([^;]+)", connection_string).group(1).rstrip("/")
        self.cert_path = cert_path

    def control(self, method, path, body=None):
        """Calls an /_emulator test control and returns its decoded JSON answer, if any."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.endpoint + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        context = ssl.create_default_context(cafile=self.cert_path)
        with urllib.request.urlopen(request, context=context) as response:
            raw = response.read()
        return json.loads(raw) if raw else None


@pytest.fixture(scope="session")
def emulator():
    binary = os.environ.get("ACS_EMULATOR_BIN")
    if not binary:
        pytest.fail("ACS_EMULATOR_BIN must name the built acs-emulator binary (scripts/test does)")
    cert_path = os.path.join(tempfile.mkdtemp(), "emulator.pem")
    process = subprocess.Popen(
        [binary, "--listen", "127.0.0.1:0", "--tls", "--cert-out", cert_path],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline().strip()
    assert line.startswith("ACS_CONNECTION_STRING="), line
    os.environ["REQUESTS_CA_BUNDLE"] = cert_path
    yield RunningEmulator(process, line.split("=", 1)[1], cert_path)
    process.terminate()
    process.wait(timeout=10)
