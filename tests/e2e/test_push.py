"""Web Push end to end, on the local stack: a browser's subscriptions (made at the stand-in push
service, which keeps their private keys as a browser does) registered through `push_subscribe`;
a message sent through the API reaches `acs_events` as the emulator's Event Grid delivery, and
is pushed, sealed and VAPID-signed, to the stand-in, which checks and opens it. In the deployed
stack the pushing function holds only what template.yaml grants it (ministack with AUTH=true).
"""

import json
import time
import urllib.error


def conversation(stack):
    users = stack.create_users()
    alice, bob = users["user1_id"], users["user2_id"]
    tokens = {alice: users["user1_token"], bob: users["user2_token"]}
    thread = stack.call_api("create_thread", tokens[alice], {"user1_id": alice, "display_name": "Alice"})["thread_id"]
    stack.call_api("add_user", tokens[alice], {"thread_id": thread, "user2_id": bob, "display_name": "Bob"})
    return alice, bob, tokens, thread


def subscribe(stack, user, token):
    device, subscription = stack.push_device()
    answer = stack.call_api("push_subscribe", token, {"user_id": user, "subscription": subscription})
    assert answer["subscribed"] is True, answer
    return device, subscription


def texts(state):
    return [push["payload"].get("text") for push in state["received"]]


def test_a_message_reaches_both_of_bob_s_devices_once_despite_doubled_deliveries_and_none_of_alice_s(stack):
    alice, bob, tokens, thread = conversation(stack)
    alices, _ = subscribe(stack, alice, tokens[alice])
    phone, _ = subscribe(stack, bob, tokens[bob])
    laptop, _ = subscribe(stack, bob, tokens[bob])
    stack.emulator("POST", "/_emulator/eventgrid/switches", {"duplicate": True})
    try:
        sent = stack.call_api("send_message", tokens[alice], {
            "thread_id": thread, "user_id": alice, "message": "Are you coming tonight?", "display_name": "Alice"})
        for device in (phone, laptop):
            state = stack.pushes(device, 1)
            assert texts(state) == ["Are you coming tonight?"], state
            push = state["received"][0]
            assert push["payload"]["thread_id"] == thread
            assert push["payload"]["message_id"] == sent["message_id"]
            assert push["payload"]["sender_display_name"] == "Alice"
            assert (push["urgency"], push["ttl"]) == ("normal", 86400)
            assert len(push["topic"]) == 32 and state["refused"] == []
        assert stack.pushes(alices, 0, timeout=0)["received"] == []
    finally:
        stack.emulator("POST", "/_emulator/eventgrid/switches", {})


def test_a_muted_thread_pushes_nothing_and_a_gone_subscription_is_forgotten(stack):
    alice, bob, tokens, thread = conversation(stack)
    quiet = stack.call_api("create_thread", tokens[alice], {"user1_id": alice})["thread_id"]
    stack.call_api("add_user", tokens[alice], {"thread_id": quiet, "user2_id": bob})
    stack.call_api("mute_thread", tokens[bob], {"thread_id": quiet, "user_id": bob, "muted": True})
    kept, _ = subscribe(stack, bob, tokens[bob])
    gone, gone_subscription = subscribe(stack, bob, tokens[bob])
    stack.push_service.call("POST", f"/_emulator/push/subscriptions/{gone}/answers", {"gone": True})
    stack.call_api("send_message", tokens[alice], {"thread_id": quiet, "user_id": alice, "message": "shh"})
    stack.call_api("send_message", tokens[alice], {"thread_id": thread, "user_id": alice, "message": "hello"})
    assert texts(stack.pushes(kept, 1)) == ["hello"], "the muted thread's message pushed nothing"
    # The 410 removed the subscription: unsubscribing it now finds nothing.
    deadline = time.monotonic() + 20
    while True:
        answer = stack.call_api("push_unsubscribe", tokens[bob], {"user_id": bob, "endpoint": gone_subscription["endpoint"]})
        if answer == {"unsubscribed": False} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert answer == {"unsubscribed": False}


def test_an_http_endpoint_or_an_unknown_push_service_is_refused_with_400(stack):
    alice, _, tokens, _ = conversation(stack)
    _, subscription = stack.push_device()
    for endpoint in (subscription["endpoint"].replace("https:", "http:", 1), "https://push.attacker.example/x"):
        try:
            stack.call_api("push_subscribe", tokens[alice], {"user_id": alice, "subscription": {**subscription, "endpoint": endpoint}})
        except urllib.error.HTTPError as error:
            assert error.code == 400
            assert json.load(error)["error"]["code"] == "invalid_subscription"
        else:
            raise AssertionError(f"{endpoint} was taken")
