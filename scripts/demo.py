"""A two-user conversation through the HTTP API, every step printed and checked.

Usage: python scripts/demo.py --base http://127.0.0.1:9000 [--trusted]
With --trusted it sends the original app's requests exactly, with no Authorization header.
Exits non-zero at the first answer that is not what the API promises.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request


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
    send(alice, alice_token, "Noon works.")
    new = fetch(bob, bob_token)
    show(new["messages"])
    expect(texts(new), ["Noon works."], "Bob's incremental fetch")

    step("GET /get_all_messages as Bob: the whole history, oldest first")
    history = api.call("GET", "/get_all_messages", bob_token, query={"thread_id": thread, "user_id": bob})
    show(history["messages"])
    expect(texts(history), ["Hello, World!", "Hi!", "Lunch at noon?", "Noon works."], "history")

    if not args.trusted:
        step("What the API refuses")
        answer = api.call("GET", "/get_all_messages", query={"thread_id": thread, "user_id": bob}, expect=401)
        print(f"   no token            -> 401 {answer['error']['code']}")
        answer = api.call("GET", "/get_all_messages", alice_token, query={"thread_id": thread, "user_id": bob}, expect=403)
        print(f"   Alice's token as Bob -> 403 {answer['error']['code']}")
        answer = api.call("POST", "/send_message", alice_token, {"thread_id": "thread_id_123", "user_id": alice, "message": "x"}, expect=400)
        print(f"   bad thread id       -> 400 {answer['error']['code']}")

    print("\nDemo complete.")


if __name__ == "__main__":
    main()
