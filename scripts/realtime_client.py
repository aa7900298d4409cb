"""A client of the real-time channel (AppSync Events' WebSocket protocol,
`aws-appsync-event-ws`), authorized with an ACS token: the demo and the tests subscribe with it.
"""

import asyncio
import base64
import hashlib
import json
import time
import uuid

import websockets


def hour(at=None):
    """The hour `at` (now by default) is in, counted from the Unix epoch."""
    return int((time.time() if at is None else at) // 3600)


def channel(user_id, at_hour=None):
    """A person's channel of an hour, as `realtime::channel::of` makes it."""
    who = hashlib.sha256(user_id.encode()).hexdigest()[:32]
    return f"/users/{who}/{hour() if at_hour is None else at_hour}"


class Subscriber:
    """An AppSync Events WebSocket client (the `aws-appsync-event-ws` protocol), authorized
    with an ACS token."""

    def __init__(self, realtime, token):
        self.realtime, self.token = realtime, token
        # Frames that came while a subscription's answer was awaited, kept for events().
        self.early = []

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
        if self.early:
            return self.early.pop(0)
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if frame["type"] != "ka":
                return frame

    async def subscribe_to(self, name):
        """The answer to a subscription to channel `name`: `subscribe_success` or
        `subscribe_error`."""
        sub_id = str(uuid.uuid4())
        await self.socket.send(json.dumps({
            "type": "subscribe", "id": sub_id, "channel": name, "authorization": self.auth()}))
        while True:
            frame = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if frame["type"].startswith("subscribe_") and frame.get("id") == sub_id:
                return frame
            if frame["type"] != "ka":
                self.early.append(frame)

    async def subscribe(self, user_id):
        """Subscribes to `user_id`'s channels of this hour and the next, as the page does, so
        that nothing is missed when the hour turns; the answer to the first, once both agree."""
        now = hour()
        first = await self.subscribe_to(channel(user_id, now))
        second = await self.subscribe_to(channel(user_id, now + 1))
        assert first["type"] == second["type"], (first, second)
        return first

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

    async def events_within(self, seconds):
        """Whatever events arrive in the next `seconds`, perhaps none."""
        events, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = await self.next_frame(left)
            except asyncio.TimeoutError:
                break
            if frame["type"] == "data":
                events.append(json.loads(frame["event"]))
        return events
