"""Real-time push end to end, on the local stack: the emulator's Event Grid deliveries reach
`acs_events` through the local API, which publishes to ministack's AppSync Events, where a
WebSocket subscriber (authorized by our `realtime_auth` with its ACS token) receives them.
"""

import asyncio
import base64
import json
import statistics
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import websockets


def channel(thread_id):
    """A thread's channel, as `realtime::channel::of` makes it."""
    hex_id = thread_id.encode().hex()
    return "/threads/" + "/".join(hex_id[i:i + 50] for i in range(0, len(hex_id), 50))


class Subscriber:
    """An AppSync Events WebSocket client (the `aws-appsync-event-ws` protocol), authorized
    with an ACS token."""

    def __init__(self, realtime, token):
        self.realtime, self.token = realtime, token

    def auth(self):
        return {"host": self.realtime["http_host"], "Authorization": self.token}

    async def __aenter__(self):
        header = base64.urlsafe_b64encode(json.dumps(self.auth()).encode()).decode().rstrip("=")
        host, port = self.realtime["connect_addr"].split(":")
        self.socket = await websockets.connect(
            self.realtime["ws_url"], host=host, port=int(port),
            subprotocols=["aws-appsync-event-ws", f"header-{header}"])
        await self.socket.send(json.dumps({"type": "connection_init"}))
        ack = await self.next_frame()
        assert ack["type"] == "connection_ack", ack
        return self

    async def __aexit__(self, *exc):
        await self.socket.close()

    async def next_frame(self, timeout=30):
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if frame["type"] != "ka":
                return frame

    async def subscribe(self, thread_id):
        """The subscription's answer: `subscribe_success` or `subscribe_error`."""
        sub_id = str(uuid.uuid4())
        await self.socket.send(json.dumps({
            "type": "subscribe", "id": sub_id, "channel": channel(thread_id),
            "authorization": self.auth()}))
        return await self.next_frame()

    async def events(self, until, quiet=1.5):
        """Events received until `until(events)` holds, and then for `quiet` seconds more,
        so that anything doubled would show."""
        events, deadline = [], None
        while True:
            timeout = 30 if deadline is None else max(deadline - time.monotonic(), 0.01)
            try:
                frame = await self.next_frame(timeout)
            except asyncio.TimeoutError:
                if deadline is None:
                    raise AssertionError(f"only these arrived: {events}")
                return events
            if frame["type"] == "data":
                events.append(json.loads(frame["event"]))
            if deadline is None and until(events):
                deadline = time.monotonic() + quiet


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
            assert (await subscriber.subscribe(thread))["type"] == "subscribe_success"
            sent = stack.call_api("send_message", tokens[alice],
                                  {"thread_id": thread, "user_id": alice, "message": "lunch?"})
            message = sent["message_id"]
            stack.call_api("update_message", tokens[alice], {
                "thread_id": thread, "user_id": alice, "message_id": message, "message": "lunch at noon?"})
            stack.call_api("delete_message", tokens[alice],
                           {"thread_id": thread, "user_id": alice, "message_id": message})
            events = await subscriber.events(lambda got: any(e["kind"] == "deleted" for e in got))
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


def test_subscribing_to_someone_else_s_thread_is_refused(stack):
    alice, bob, tokens, thread = conversation(stack)
    stranger = stack.create_users()

    async def run():
        async with Subscriber(stack.realtime, stranger["user1_token"]) as subscriber:
            return await subscriber.subscribe(thread)

    answer = asyncio.run(run())
    assert answer["type"] == "subscribe_error", answer
    assert answer["errors"][0]["errorType"] == "UnauthorizedException"


def test_the_time_from_send_message_s_answer_to_the_subscriber_is_reported(stack):
    alice, bob, tokens, thread = conversation(stack)
    rounds = 20

    async def run():
        delays = []
        async with Subscriber(stack.realtime, tokens[bob]) as subscriber:
            assert (await subscriber.subscribe(thread))["type"] == "subscribe_success"
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
