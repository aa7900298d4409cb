"""What the Rust suites recorded for the checks here: `API_TEST_RECORD` names the folder
(`scripts/test` sets it)."""

import os
from pathlib import Path

import pytest


def recorded(name):
    folder = os.environ.get("API_TEST_RECORD")
    if not folder or not (Path(folder) / name).exists():
        pytest.fail("API_TEST_RECORD must name the folder the Rust suites recorded into (scripts/test sets it)")
    return (Path(folder) / name).read_text()
