"""Races, on a stack that can show them: `scripts/local --issuer-mode signed-in --concurrency 4`,
the functions under `cargo lambda watch` with four instances each, so that requests sent at
once are served at once, as on AWS (with one instance they would queue, and no race could
fail). What a person may hold is held however many of their requests arrive together."""

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import serve

CONCURRENCY = 4
AT_ONCE = 20


@pytest.fixture(scope="module")
def racing(tmp_path_factory):
    logs = tmp_path_factory.mktemp("stack-racing")
    options = ["--issuer-mode", "signed-in", "--concurrency", str(CONCURRENCY)]
    yield from serve("watch", logs, options, {})


def post(stack, function, token, body):
    """POSTs `body` with `token` (if any): the status and the decoded answer."""
    request = urllib.request.Request(f"{stack[0]}/{function}", data=json.dumps(body).encode(), method="POST")
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def at_once(calls):
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_signed_in_create_users_makes_no_identity_however_many_ask_at_once(racing):
    from demo import account_token

    url = (racing[1] / "identity.url").read_text().strip()
    client_id = (racing[1] / "identity.client").read_text().strip()
    id_token = account_token(url, client_id, "alice", "Alice-local-1")
    answers = at_once([lambda token=token: post(racing, "create_users", token, None)
                       for token in [None, id_token] * (AT_ONCE // 2)])
    assert {(status, body["error"]["code"]) for status, body in answers} == {(403, "issuer_closed")}, answers
    assert not any("user1_id" in body for _, body in answers)


def test_twenty_devices_subscribing_at_once_leave_one_person_no_more_than_ten(racing):
    alice = racing.sign_in("alice", "Alice-local-1")
    devices = [racing.push_device() for _ in range(AT_ONCE)]
    answers = at_once([
        lambda subscription=subscription: post(
            racing, "push_subscribe", alice["token"], {"user_id": alice["user_id"], "subscription": subscription})
        for _, subscription in devices
    ])
    taken = [body for status, body in answers if status == 200]
    assert all(status in (200, 429) for status, _ in answers), answers
    assert len(taken) >= 10 and all(body["subscriptions"] <= 10 for body in taken), answers
    _, subscription = racing.push_device()
    status, last = post(racing, "push_subscribe", alice["token"],
                        {"user_id": alice["user_id"], "subscription": subscription})
    assert (status, last["subscriptions"], last["replaced"]) == (200, 10, 1), last
