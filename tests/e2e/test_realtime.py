"""Real-time push end to end, on the local stack: the emulator's Event Grid deliveries reach
`acs_events` through the local API, which publishes to ministack's AppSync Events, where a
WebSocket subscriber (authorized by our `realtime_auth` with its ACS token) receives them.
"""

import asyncio
import json
import statistics
import time
import urllib.error
import urllib.request

from realtime_client import Subscriber


def conversation(stack):
    users = stack.create_users()
    alice, bob = users["user1_id"], users["user2_id"]
    tokens = {alice: users["user1_token"], bob: users["user2_token"]}
    thread = stack.call_api("create_thread", tokens[alice], {"user1_id": alice})["thread_id"]
    stack.call_api("add_user", tokens[alice], {"thread_id": thread, "user2_id": bob})
    return alice, bob, tokens, thread


def test_a_send_an_edit_and_a_delete_arrive_once_each_in_version_order_despite_doubled_and_late_deliveries(stack):
    alice, bob, tokens, thread = conversation(stack)
    stack.emulator("POST", "/_emulator/eventgrid/switches", {"duplicate": True, "reorder": True})

    async def run():
        async with Subscriber(stack.realtime, tokens[bob]) as subscriber:
            assert (await subscriber.subscribe(bob))["type"] == "subscribe_success"
            sent = stack.call_api("send_message", tokens[alice],
                                  {"thread_id": thread, "user_id": alice, "message": "lunch?"})
            message = sent["message_id"]

            def of(kind):
                return lambda got: any(e["kind"] == kind and e.get("message_id") == message for e in got)

            # Each step once the one before has reached Bob: what is pushed is what ACS holds
            # when the hint is read, so a later change read first would stand for both.
            events = await subscriber.events(of("message"), quiet=0)
            stack.call_api("update_message", tokens[alice], {
                "thread_id": thread, "user_id": alice, "message_id": message, "message": "lunch at noon?"})
            events += await subscriber.events(of("edited"), quiet=0)
            stack.call_api("delete_message", tokens[alice],
                           {"thread_id": thread, "user_id": alice, "message_id": message})
            events += await subscriber.events(of("deleted"))
            return message, events

    try:
        message, events = asyncio.run(run())
    finally:
        stack.emulator("POST", "/_emulator/eventgrid/switches", {})
    mine = [e for e in events if e.get("message_id") == message]
    assert [(e["kind"], e.get("text")) for e in mine] == [
        ("message", "lunch?"), ("edited", "lunch at noon?"), ("deleted", None)], events
    assert [e["version"] for e in mine] == sorted({e["version"] for e in mine})
    assert all(e["sender"] == alice for e in mine)


def test_a_delivery_with_a_wrong_webhook_secret_is_refused_with_401(stack):
    validation = [{"id": "1", "topic": "t", "subject": "", "eventTime": "2026-11-26T00:00:00Z",
                   "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
                   "data": {"validationCode": "c"}, "dataVersion": "1", "metadataVersion": "1"}]
    for code in ["wrong", ""]:
        request = urllib.request.Request(f"{stack[0]}/acs_events?code={code}",
                                         data=json.dumps(validation).encode(), method="POST")
        request.add_header("content-type", "application/json")
        try:
            urllib.request.urlopen(request, timeout=60)
            raise AssertionError("accepted")
        except urllib.error.HTTPError as refused:
            assert refused.code == 401
            assert json.load(refused)["error"]["code"] == "webhook_unauthorized"


def test_subscribing_to_someone_else_s_channel_is_refused(stack):
    alice, bob, tokens, thread = conversation(stack)
    stranger = stack.create_users()

    async def run():
        async with Subscriber(stack.realtime, stranger["user1_token"]) as subscriber:
            return await subscriber.subscribe(bob)

    answer = asyncio.run(run())
    assert answer["type"] == "subscribe_error", answer
    assert answer["errors"][0]["errorType"] == "UnauthorizedException"


def test_a_removed_participant_s_open_socket_hears_of_the_removal_and_nothing_after(stack):
    alice, bob, tokens, thread = conversation(stack)

    async def run():
        async with Subscriber(stack.realtime, tokens[bob]) as subscriber:
            assert (await subscriber.subscribe(bob))["type"] == "subscribe_success"
            stack.call_api("remove_user", tokens[alice],
                           {"thread_id": thread, "user_id": alice, "remove_user_id": bob})
            left = await subscriber.events(lambda got: any(e["kind"] == "left" for e in got))
            stack.call_api("send_message", tokens[alice],
                           {"thread_id": thread, "user_id": alice, "message": "secret plans"})
            stack.call_api("update_thread", tokens[alice],
                           {"thread_id": thread, "user_id": alice, "topic": "without bob"})
            # Whatever was on its way arrives within this; nothing more must.
            later = await subscriber.events_within(3)
            return left, later

    left, later = asyncio.run(run())
    assert any(e["kind"] == "left" and e["thread_id"] == thread for e in left), left
    assert not [e for e in later if e.get("text") in ("secret plans", "without bob")], later


def test_the_time_from_send_message_s_answer_to_the_subscriber_is_reported(stack):
    alice, bob, tokens, thread = conversation(stack)
    rounds = 20

    async def run():
        delays = []
        async with Subscriber(stack.realtime, tokens[bob]) as subscriber:
            assert (await subscriber.subscribe(bob))["type"] == "subscribe_success"
            for i in range(rounds):
                sent = await asyncio.to_thread(stack.call_api, "send_message", tokens[alice],
                                               {"thread_id": thread, "user_id": alice, "message": f"m{i}"})
                answered = time.perf_counter()
                while True:
                    frame = await subscriber.next_frame()
                    if frame["type"] == "data" and json.loads(frame["event"]).get("message_id") == sent["message_id"]:
                        break
                delays.append((time.perf_counter() - answered) * 1000)
        return delays

    delays = sorted(asyncio.run(run()))
    figures = {"runs": rounds, "p50_ms": round(statistics.median(delays), 1),
               "p99_ms": round(delays[min(len(delays) - 1, int(len(delays) * 0.99))], 1)}
    print(f"\nsend_message answered -> subscriber received, local stack: {json.dumps(figures)}")
    (stack[1] / "realtime-latency.json").write_text(json.dumps(figures))
    assert len(delays) == rounds
