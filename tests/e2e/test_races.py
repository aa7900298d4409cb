"""Races, on a stack that can show them: `scripts/local --issuer-mode signed-in --concurrency 4`,
the functions under `cargo lambda watch` with four instances each, so that requests sent at
once are served at once, as on AWS (with one instance they would queue, and no race could
fail). What a person may hold is held however many of their requests arrive together."""

from concurrent.futures import ThreadPoolExecutor

AT_ONCE = 20


def at_once(calls):
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_signed_in_create_users_makes_no_identity_however_many_ask_at_once(racing_stack):
    from demo import account_token

    url = (racing_stack[1] / "identity.url").read_text().strip()
    client_id = (racing_stack[1] / "identity.client").read_text().strip()
    id_token = account_token(url, client_id, "alice", "Alice-local-1")
    answers = at_once([lambda token=token: racing_stack.answer("POST", "create_users", token)
                       for token in [None, id_token] * (AT_ONCE // 2)])
    assert {(status, body["error"]["code"]) for status, body in answers} == {(403, "issuer_closed")}, answers
    assert not any("user1_id" in body for _, body in answers)


def test_twenty_devices_subscribing_at_once_leave_one_person_no_more_than_ten(racing_stack):
    alice = racing_stack.sign_in("alice", "Alice-local-1")
    devices = [racing_stack.push_device() for _ in range(AT_ONCE)]
    answers = at_once([
        lambda subscription=subscription: racing_stack.answer(
            "POST", "push_subscribe", alice["token"], {"user_id": alice["user_id"], "subscription": subscription})
        for _, subscription in devices
    ])
    taken = [body for status, body in answers if status == 200]
    assert all(status in (200, 429) for status, _ in answers), answers
    assert len(taken) >= 10 and all(body["subscriptions"] <= 10 for body in taken), answers
    _, subscription = racing_stack.push_device()
    status, last = racing_stack.answer("POST", "push_subscribe", alice["token"],
                                {"user_id": alice["user_id"], "subscription": subscription})
    assert (status, last["subscriptions"], last["replaced"]) == (200, 10, 1), last
