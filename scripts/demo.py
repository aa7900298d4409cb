"""A two-user conversation through the HTTP API, every step printed and checked.

Usage: python scripts/demo.py --base http://127.0.0.1:9000 [--trusted] [--realtime FILE]
With --trusted it sends the original app's requests exactly, with no Authorization header.
With --realtime (the local stack's realtime.json), Bob also subscribes to his own real-time
channel and sees Alice's message arrive pushed, without a poll.
With --push FILE (the local stack's push.json), Bob's browser subscribes to Web Push at the
stand-in push service, and Alice's next message reaches it sealed and signed, read here as
the browser would show it.
With --sign-in URL CLIENT_ID (the local stack's Cognito), Alice also signs in with her account,
twice, and keeps one identity and its threads.
Exits non-zero at the first answer that is not what the API promises.
"""

import argparse
import asyncio
import json
import ssl
import time
import sys
import urllib.error
import urllib.parse
import urllib.request

from realtime_client import Subscriber


class Api:
    def __init__(self, base, trusted):
        self.base = base.rstrip("/")
        self.trusted = trusted

    def call(self, method, path, token=None, body=None, query=None, expect=200):
        url = self.base + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("content-type", "application/json")
        if token and not self.trusted:
            request.add_header("authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        answer = json.loads(raw) if raw else None
        if status != expect:
            sys.exit(f"FAILED: {method} {path} answered {status} (expected {expect}): {answer}")
        return answer


def short(value, keep=24):
    return value if len(value) <= keep else value[:keep] + "…"


def step(title):
    print(f"\n== {title}")


NAMES = {}


def show(messages):
    for m in messages:
        print(f"   [{m['created_on']}] {NAMES.get(m['sender'], short(m['sender'], 20))}: {m['message']}")
    if not messages:
        print("   (nothing new)")


def expect(actual, wanted, what):
    if actual != wanted:
        sys.exit(f"FAILED: {what}: got {actual!r}, expected {wanted!r}")


def texts(answer):
    return [m["message"] for m in answer["messages"]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:9000")
    parser.add_argument("--trusted", action="store_true")
    parser.add_argument("--realtime", help="the local stack's realtime.json")
    parser.add_argument("--push", help="the local stack's push.json")
    parser.add_argument("--sign-in", nargs=2, metavar=("URL", "CLIENT_ID"),
                        help="the identity provider's InitiateAuth endpoint and app client")
    args = parser.parse_args()
    api = Api(args.base, args.trusted)
    mode = "trusted mode, no Authorization header" if args.trusted else "each user sends its own token"
    print(f"Demo conversation against {api.base} ({mode})")

    step("POST /create_users")
    users = api.call("POST", "/create_users")
    alice, alice_token = users["user1_id"], users["user1_token"]
    bob, bob_token = users["user2_id"], users["user2_token"]
    NAMES.update({alice: "Alice", bob: "Bob"})
    print(f"   user1 (Alice) {short(alice)}  token {short(alice_token, 16)}")
    print(f"   user2 (Bob)   {short(bob)}  token {short(bob_token, 16)}")
    print(f"   tokens expire {users['expires_on']}")

    step("POST /create_thread as Alice")
    thread = api.call("POST", "/create_thread", alice_token, {"user1_id": alice})["thread_id"]
    print(f"   thread {thread}")

    step("POST /add_user: Alice adds Bob")
    print("  ", api.call("POST", "/add_user", alice_token, {"thread_id": thread, "user2_id": bob})["message"])

    def send(user, token, text):
        answer = api.call("POST", "/send_message", token, {"thread_id": thread, "user_id": user, "message": text})
        who = "Alice" if user == alice else "Bob"
        print(f"   {who}: {text!r} -> {answer['message']}")
        return answer["message_id"]

    def fetch(user, token):
        return api.call("GET", "/get_messages", token, query={"thread_id": thread, "user_id": user})

    step("POST /send_message: Alice writes")
    send(alice, alice_token, "Hello, World!")

    step("GET /get_messages as Bob: what is new for him")
    new = fetch(bob, bob_token)
    show(new["messages"])
    expect(texts(new), ["Hello, World!"], "Bob's first fetch")

    step("POST /send_message: Bob answers")
    send(bob, bob_token, "Hi!")
    send(bob, bob_token, "Lunch at noon?")

    step("GET /get_messages as Alice")
    new = fetch(alice, alice_token)
    show(new["messages"])
    expect(texts(new), ["Hi!", "Lunch at noon?"], "Alice's fetch")

    step("GET /get_messages as Alice again: only what is new since her last fetch")
    new = fetch(alice, alice_token)
    show(new["messages"])
    expect(texts(new), [], "Alice's second fetch")

    step("POST /send_message: Alice replies; Bob fetches incrementally")
    noon = send(alice, alice_token, "Noon works.")
    new = fetch(bob, bob_token)
    show(new["messages"])
    expect(texts(new), ["Noon works."], "Bob's incremental fetch")

    step("GET /get_all_messages as Bob: the whole history, oldest first")
    history = api.call("GET", "/get_all_messages", bob_token, query={"thread_id": thread, "user_id": bob})
    show(history["messages"])
    expect(texts(history), ["Hello, World!", "Hi!", "Lunch at noon?", "Noon works."], "history")

    step("GET /get_messages as Bob's laptop: the sync cursor, his own messages included")
    sync = api.call("GET", "/get_messages", bob_token, query={"thread_id": thread, "user_id": bob, "since": 0, "changes_since": 0})
    show(sync["messages"])
    expect([m["mine"] for m in sync["messages"]], [False, True, True, False], "Bob's own messages marked")

    step("POST /update_thread: Bob renames the thread")
    renamed = api.call("POST", "/update_thread", bob_token, {"thread_id": thread, "user_id": bob, "topic": "Lunch plans"})
    print(f"   {renamed['message']}: {renamed['topic']!r}")

    step("POST /update_message: Alice edits a message; Bob's laptop learns of it")
    edited = api.call("POST", "/update_message", alice_token, {"thread_id": thread, "user_id": alice, "message_id": noon, "message": "Noon works. See you there!"})
    print(f"   {edited['message']}")
    changes = api.call("GET", "/get_messages", bob_token, query={
        "thread_id": thread, "user_id": bob, "since": sync["next_since"], "changes_since": sync["next_changes_since"]})
    for change in changes["changes"]:
        print(f"   changed: message {change['sequence_id']} now reads {change['message']!r}")
    expect([c["message"] for c in changes["changes"]], ["Noon works. See you there!"], "the edit reaching Bob")

    step("POST /send_message: Alice adds one more thing while Bob is away")
    send(alice, alice_token, "One more thing: bring the slides.")

    step("GET /list_threads as Bob: his inbox, with what he has not read")
    inbox = api.call("GET", "/list_threads", bob_token, query={"user_id": bob})
    for item in inbox["threads"]:
        last = item["last_message"]
        print(f"   {item['topic']!r}  {short(item['thread_id'], 30)}  unread {item['unread_count']}"
              f"  last: {NAMES.get(last['sender'], '?')}: {last['preview']!r}")
    expect([t["topic"] for t in inbox["threads"]], ["Lunch plans"], "Bob's inbox")
    unread = inbox["threads"][0]["unread_count"]
    expect(unread, 1, "Bob's unread count (what he has not fetched yet)")

    if not args.trusted:
        step("POST /mark_read: Bob reads on his phone; his laptop's badge clears")
        newest = inbox["threads"][0]["last_message"]["sequence_id"]
        marked = api.call("POST", "/mark_read", bob_token, {"thread_id": thread, "user_id": bob, "sequence_id": newest})
        print(f"   read up to {marked['read_up_to']}")
        laptop = api.call("GET", "/list_threads", bob_token, query={"user_id": bob})
        expect((laptop["threads"][0]["unread_count"], laptop["unread_total"]), (0, 0), "Bob's laptop after reading")
        print(f"   the laptop's inbox: unread {laptop['threads'][0]['unread_count']}, total {laptop['unread_total']}")

    if not args.trusted:
        step("POST /refresh_token: Alice gets a new token for the same identity, within her session")
        fresh = api.call("POST", "/refresh_token", alice_token, {"user_id": alice, "session": users["user1_session"]})
        expect(fresh["user_id"], alice, "the refreshed identity")
        alice_token = fresh["token"]
        print(f"   new token {short(alice_token, 16)}, expires {fresh['expires_on']};"
              f" the session ends {fresh['session_ends_on']}")

    if args.realtime:
        step("Real time: Bob subscribes to his own channel; Alice writes; no one polls")
        with open(args.realtime) as file:
            realtime = json.load(file)

        async def pushed():
            async with Subscriber(realtime, bob_token) as subscriber:
                answer = await subscriber.subscribe(bob)
                expect(answer["type"], "subscribe_success", "Bob's subscription")
                message = await asyncio.to_thread(send, alice, alice_token, "Pushed to you, Bob")
                sent = time.perf_counter()
                events = await subscriber.events(lambda got: any(e.get("message_id") == message for e in got), quiet=0)
                return next(e for e in events if e.get("message_id") == message), time.perf_counter() - sent

        event, took = asyncio.run(pushed())
        print(f"   Bob's WebSocket: {event['kind']} from {NAMES.get(event['sender'])}: {event['text']!r}"
              f" ({took * 1000:.0f} ms after send_message answered)")
        expect(event["text"], "Pushed to you, Bob", "the pushed message")

    if args.push and not args.trusted:
        step("Web Push: Bob's browser subscribes; Alice writes while his page is closed")
        with open(args.push) as file:
            push = json.load(file)
        service = PushService(push)
        device, subscription = service.subscribe()
        answer = api.call("POST", "/push_subscribe", bob_token, {"user_id": bob, "subscription": subscription})
        print(f"   POST /push_subscribe: {answer['subscriptions']} subscription for Bob,"
              f" at {urllib.parse.urlsplit(subscription['endpoint']).netloc}")
        send(alice, alice_token, "Are you there, Bob?")
        sent = time.perf_counter()
        received = service.wait(device, 1)["received"]
        took = time.perf_counter() - sent
        if not received:
            sys.exit("FAILED: no push reached Bob's browser")
        opened = received[0]["payload"]
        expect(opened["text"], "Are you there, Bob?", "what Bob's browser opens")
        print(f"   Bob's browser opens: {opened.get('sender_display_name') or 'Alice'}: {opened['text']!r}"
              f" (TTL {received[0]['ttl']} s, one notification per thread), {took * 1000:.0f} ms after"
              f" send_message answered")

    step("Files: Alice uploads a picture straight to S3 and sends it; Bob downloads it")
    picture = tiny_png()
    signed = api.call("POST", "/upload_url", alice_token, {
        "thread_id": thread, "user_id": alice, "name": "venue.png", "content_type": "image/png",
        "size": len(picture)})
    status = put_file(signed, picture)
    print(f"   PUT {len(picture)} bytes to S3 with the presigned URL -> {status}"
          f" (valid until {signed['expires_on']})")
    send_files = {"thread_id": thread, "user_id": alice, "message": "The venue", "attachments": [signed["attachment_id"]]}
    print("  ", api.call("POST", "/send_message", alice_token, send_files)["message"])
    listed = [m for m in fetch(bob, bob_token)["messages"] if m.get("attachments")]
    expect([a["name"] for a in listed[-1]["attachments"]], ["venue.png"], "the attachment Bob lists")
    link = api.call("GET", "/download_url", bob_token, query={
        "thread_id": thread, "user_id": bob, "attachment_id": signed["attachment_id"]})
    with urllib.request.urlopen(link["url"], timeout=30) as response:
        expect(response.read(), picture, "the bytes Bob downloads")
    print(f"   Bob: {listed[-1]['message']!r} with {link['name']} ({link['size']} bytes,"
          f" {'shown inline' if link['inline'] else 'a download'}), fetched from S3 directly")

    step("POST /remove_user: Bob leaves the thread")
    left = api.call("POST", "/remove_user", bob_token, {"thread_id": thread, "user_id": bob, "remove_user_id": bob})
    print(f"   {left['message']}")
    inbox = api.call("GET", "/list_threads", bob_token, query={"user_id": bob})
    expect(inbox["threads"], [], "Bob's inbox after leaving")
    print("   Bob's inbox is empty; Alice still has the thread:")
    history = api.call("GET", "/get_all_messages", alice_token, query={"thread_id": thread, "user_id": alice})
    show(history["messages"])

    if args.sign_in and not args.trusted:
        sign_in_twice(api, *args.sign_in)

    if not args.trusted:
        step("What the API refuses")
        answer = api.call("GET", "/get_all_messages", query={"thread_id": thread, "user_id": bob}, expect=401)
        print(f"   no token            -> 401 {answer['error']['code']}")
        answer = api.call("GET", "/get_all_messages", alice_token, query={"thread_id": thread, "user_id": bob}, expect=403)
        print(f"   Alice's token as Bob -> 403 {answer['error']['code']}")
        answer = api.call("POST", "/send_message", alice_token, {"thread_id": "thread_id_123", "user_id": alice, "message": "x"}, expect=400)
        print(f"   bad thread id       -> 400 {answer['error']['code']}")

    print("\nDemo complete.")


class PushService:
    """The local stack's stand-in push service, with the browser's side of its subscriptions."""

    def __init__(self, push):
        self.base = push["service"].rstrip("/")
        self.key = push["public_key"]
        self.context = ssl.create_default_context(cafile=push["certificate"])

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("content-type", "application/json")
        with urllib.request.urlopen(request, timeout=30, context=self.context) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def subscribe(self):
        made = self.call("POST", "/_emulator/push/subscriptions", {"applicationServerKey": self.key})
        return made.pop("id"), made

    def state(self, device):
        """What reached `device`, opened (`received`), and why pushes were refused (`refused`)."""
        return self.call("GET", f"/_emulator/push/subscriptions/{device}")

    def wait(self, device, count, timeout=20, settle=0.0):
        """`device`'s state once `count` pushes reached it (and `settle` seconds more, for
        anything doubled to show), or when `timeout` passed."""
        deadline = time.monotonic() + timeout
        while len(self.state(device)["received"]) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(settle)
        return self.state(device)


def tiny_png():
    """A 1x1 PNG, made here so the demo carries no binary file."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x2b\x6c\xb6")) + chunk(b"IEND", b""))


def put_file(signed, data):
    """Sends `data` to S3 as `upload_url` signed it: its method, URL and headers, unchanged."""
    request = urllib.request.Request(signed["url"], data=data, method=signed["method"])
    for name, value in signed["headers"].items():
        request.add_header(name, value)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def account_token(url, client_id, username, password):
    """The identity provider's ID token for a user name and password (Cognito's InitiateAuth,
    as the page calls it)."""
    body = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": password}}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    request.add_header("content-type", "application/x-amz-json-1.1")
    request.add_header("x-amz-target", "AWSCognitoIdentityProviderService.InitiateAuth")
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)["AuthenticationResult"]["IdToken"]


def sign_in_twice(api, url, client_id):
    step("POST /sign_in: Alice signs in with her account (the local Cognito's alice)")
    first = api.call("POST", "/sign_in", account_token(url, client_id, "alice", "Alice-local-1"),
                     {"display_name": "Alice"})
    print(f"   user_id {short(first['user_id'])}  created {first['created']}  token {short(first['token'], 16)}")
    thread = api.call("POST", "/create_thread", first["token"],
                      {"user1_id": first["user_id"], "topic": "Alice's notes"})["thread_id"]
    print(f"   she starts a thread of her own: {thread}")
    step("POST /sign_in: Alice signs in again, as if a day later: the same identity, her threads")
    again = api.call("POST", "/sign_in", account_token(url, client_id, "alice", "Alice-local-1"))
    expect(again["user_id"], first["user_id"], "Alice's user_id on her second sign-in")
    expect(again["created"], False, "whether the second sign-in made an identity")
    print(f"   user_id {short(again['user_id'])}  created {again['created']}  (the same person)")
    inbox = api.call("GET", "/list_threads", again["token"], query={"user_id": again["user_id"]})
    expect([t["topic"] for t in inbox["threads"]], ["Alice's notes"], "Alice's threads after signing in again")
    print("   her inbox: Alice's notes")


if __name__ == "__main__":
    main()
