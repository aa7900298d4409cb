"""A client of the real-time channel (AppSync Events' WebSocket protocol,
`aws-appsync-event-ws`), authorized with an ACS token: the demo and the tests subscribe with it.
"""

import asyncio
import base64
import json
import time
import uuid

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
