"""openapi.yaml is the API's published contract; these tests keep it true.

Every answer the Rust suites got from the handlers (recorded under `API_TEST_RECORD` by
`tests/api/helpers.rs`, every event file's included) must be one the spec allows for that
operation: a listed status, and a body and headers of the listed shape.
"""

import json
from pathlib import Path

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate

from recorded import recorded

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "openapi.yaml").read_text())




def test_the_spec_is_valid_openapi_3_1():
    validate(SPEC)
    assert SPEC["openapi"].startswith("3.1")


def test_every_answer_the_handlers_gave_is_one_the_spec_allows():
    api = OpenAPI.from_dict(SPEC)
    answers = [json.loads(line) for line in recorded("responses.jsonl").splitlines()]
    assert len(answers) > 500, len(answers)
    seen = set()
    failures = []
    for answer in answers:
        path = "/" if answer["function"] == "page" else "/" + answer["function"]
        request = MockRequest("http://127.0.0.1:9000", answer["method"].lower(), path)
        headers = answer["headers"]
        response = MockResponse(
            answer["body"].encode(),
            status_code=answer["status"],
            headers=headers,
            content_type=headers.get("content-type", "application/json"),
        )
        try:
            api.validate_response(request, response)
        except Exception as error:  # noqa: BLE001 - every kind of mismatch is reported
            failures.append(f"{answer['function']} {answer['status']} {answer['body'][:200]}: {error}")
        seen.add((answer["function"], answer["status"]))
    assert not failures, "\n".join(failures[:20])
    print(f"{len(answers)} answers checked against openapi.yaml: {sorted(seen)}")
