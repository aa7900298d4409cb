"""The cold path as Lambda runs it: each release function against the emulator over HTTPS, its
CPU time (user + system, all threads, from wait4) from exec to its first answer, split into
start-up, the certificate store, the first request's extra cost (TLS handshakes and first-use
set-up) and the handler, and scaled to a 128 MB function's CPU share as the modelled cold first
request. Figures are printed and written as JSON; nothing is asserted.

How each share is told apart (medians over fresh processes):
- start-up: exec until the function asks for its first event, then killed;
- first answer: exec until it has answered one request;
- certificate store: the first answer trusting the system's whole CA bundle (plus the
  emulator's certificate, as a real resource's would be in it) minus the same trusting the
  emulator's certificate alone;
- warm: further requests in the same process, per request; the first request's extra cost is
  how much more it took than a warm one (TLS handshakes to ACS, and to Secrets Manager where
  the function reads the secret, and everything done on first use).

refresh_token renews a session the create_users function issued (its real path: the session's
signature checked, ACS asked to accept the caller's token, a token issued).

sign_in checks a token of moto's Cognito (its keys over plain HTTP here; on AWS one more TLS
handshake, to Cognito) and reads and writes the people table in moto's DynamoDB.

Usage: python scripts/bench_cold.py BIN_DIR OUT_JSON, with ACS_ENDPOINT (HTTPS),
ACS_CONNECTION_STRING, EMULATOR_CERT and the moto endpoint AWS_ENDPOINT_URL_SECRETS_MANAGER set
by scripts/bench.
"""

import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from azure.communication.chat import ChatClient, ChatParticipant, CommunicationTokenCredential
from azure.communication.identity import CommunicationIdentityClient

from bench_runtime import Runtime, fill, spawn_env
from demo import account_token
from local_identity import PEOPLE, client, people_table, user_pool
import seal_tokens
from vapid_keys import key_pair

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = 5
WARM = 20
# A 128 MB function gets 128/1769 of a vCPU; its CPU time stretches by the inverse.
SHARE_128 = 128 / 1769
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# arm64 Lambda, us-east-1: per GB-second and per request (USD).
PRICE_GB_SECOND, PRICE_REQUEST = 0.0000133334, 0.0000002
# What the model assumes a request waits on ACS (one cross-cloud round trip), billed but not CPU.
UPSTREAM_WAIT_MS = 40


def memory_model(rows):
    """Duration and cost per invocation at 128, 256 and 512 MB: CPU time stretched by the
    memory size's CPU share, plus the upstream wait, billed per started ms."""
    cold = statistics.median(r["exec_to_first_answer_ms"] for r in rows)
    warm = statistics.median(r["warm_request_ms"] for r in rows)
    table = []
    for memory in (128, 256, 512):
        stretch = 1769 / memory
        for kind, cpu in (("cold", cold), ("warm", warm)):
            duration = -(-(cpu * stretch + UPSTREAM_WAIT_MS) // 1)
            cost = duration / 1000 * memory / 1024 * PRICE_GB_SECOND + PRICE_REQUEST
            table.append({"memory_mb": memory, "request": kind, "duration_ms": duration,
                          "usd_per_million": round(cost * 1e6, 2)})
    return table


def identity_provider():
    """moto's Cognito with the local stack's people, and the people table: the environment
    every function gets (as the template's Globals give the identity provider to all), and a
    way to an ID token."""
    moto = os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"].rstrip("/")
    table = "acs-chat-api-bench-people"
    people_table(client("dynamodb", moto), table)
    pool, app = user_pool(client("cognito-idp", moto))
    env = {"IDP_ISSUER": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}", "IDP_AUDIENCE": app,
           "IDP_JWKS_URL": f"{moto}/{pool}/.well-known/jwks.json", "PEOPLE_TABLE": table,
           "AWS_ENDPOINT_URL_DYNAMODB": moto}
    # push_subscribe checks a subscription against the deployment's push services; it never
    # calls one.
    env["PUSH_PUBLIC_KEY"] = key_pair()["publicKey"]
    password = PEOPLE["alice"][0]
    return env, lambda: account_token(f"{moto}/", app, "alice", password)


ID_TOKEN = None


def world(threads=1):
    """Fresh users, `threads` threads between two of them and a message: what an ok event
    names."""
    identity = CommunicationIdentityClient.from_connection_string(os.environ["ACS_CONNECTION_STRING"])
    (u1, t1), (u2, t2), (u3, t3) = (identity.create_user_and_token(["chat"]) for _ in range(3))
    endpoint = os.environ["ACS_ENDPOINT"]
    alice = ChatClient(endpoint, CommunicationTokenCredential(t1.token))
    thread_id = alice.create_chat_thread("bench").chat_thread.id
    alice.get_chat_thread_client(thread_id).add_participants([ChatParticipant(identifier=u2)])
    bob = ChatClient(endpoint, CommunicationTokenCredential(t2.token)).get_chat_thread_client(thread_id)
    message = bob.send_message("Hi!")
    for _ in range(threads - 1):
        more = alice.create_chat_thread("bench").chat_thread.id
        alice.get_chat_thread_client(more).add_participants([ChatParticipant(identifier=u2)])
    attachment_id = uuid.uuid4().hex
    files().put_object(Bucket=os.environ["FILES_BUCKET"], Key=f"threads/{thread_id}/{attachment_id}",
                       Body=b"\x89PNG", ContentType="image/png",
                       Metadata={"uploader": u1.properties["id"], "name": "venue.png"})
    browser = key_pair()
    return {
        "push_endpoint": f"https://fcm.googleapis.com/fcm/send/bench-{uuid.uuid4().hex}",
        "push_p256dh": browser["publicKey"], "push_auth": base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode(),
        "user1_id": u1.properties["id"], "user1_token": handed(t1.token),
        "user2_id": u2.properties["id"], "user2_token": handed(t2.token),
        "outsider_id": u3.properties["id"], "outsider_token": handed(t3.token),
        "thread_id": thread_id, "user2_message_id": message.id, "id_token": ID_TOKEN(),
        "attachment_id": attachment_id,
    }


def handed(acs_token):
    """What the functions' clients hold for `acs_token`: its seal (the functions run sealed, the
    default), made with the run's sealing key."""
    return seal_tokens.seal(acs_token, os.environ["SEAL_KEYS"], os.environ["ACS_ENDPOINT"])


def files():
    """The files' bucket in moto's S3 (where FILES_BUCKET and AWS_ENDPOINT_URL_S3 say), made
    on first use."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"], region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    if not FILES_MADE:
        s3.create_bucket(Bucket=os.environ["FILES_BUCKET"])
        FILES_MADE.append(True)
    return s3


FILES_MADE = []


def issued_pair(bin_dir, env):
    """A user as the create_users function issues them, session included: refresh_token's real
    path needs a session signed with the admin key, which only our functions make."""
    runtime = Runtime()
    process = subprocess.Popen([str(bin_dir / "create_users")], env=spawn_env(runtime, "create_users", env),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    runtime.events.put(json.loads((ROOT / "events" / "create_users" / "ok.json").read_text()))
    path, body = runtime.responses.get(timeout=60)
    process.kill()
    process.wait()
    runtime.events.put({})
    runtime.close()
    answer = json.loads(body)
    if not path.endswith("/response") or answer.get("statusCode") != 200:
        sys.exit(f"create_users did not issue a pair: {body[:300]!r}")
    pair = json.loads(answer["body"])
    return {name: pair[name] for name in ("user1_id", "user1_token", "user1_session")}


def run(binary, name, env, requests, threads=1, event="ok"):
    """CPU ms of one process from exec until it has answered `requests` of its `event`
    (0: ready), for users in `threads` threads."""
    events = []
    if requests:
        values = world(threads)
        if name == "refresh_token":
            values.update(issued_pair(Path(binary).parent, env))
        event_text = (ROOT / "events" / name / f"{event}.json").read_text()
        events = [json.loads(fill(event_text, values))] * requests
    runtime = Runtime()
    process = subprocess.Popen([binary], env=spawn_env(runtime, name, env),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    statuses = []
    for event in events:
        runtime.events.put(event)
        path, body = runtime.responses.get(timeout=60)
        statuses.append(json.loads(body).get("statusCode") if path.endswith("/response") else "error")
    if not runtime.next_asked(len(events) + 1, timeout=10):
        sys.exit(f"{name} did not ask for another event")
    process.kill()
    _, _, usage = os.wait4(process.pid, 0)
    runtime.events.put({})
    runtime.close()
    return (usage.ru_utime + usage.ru_stime) * 1000, statuses


def median(binary, name, env, requests, threads=1, event="ok"):
    samples = [run(binary, name, env, requests, threads, event) for _ in range(SAMPLES)]
    return statistics.median(s for s, _ in samples), samples[0][1]


def main():
    bin_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    emulator_cert = os.environ["EMULATOR_CERT"]
    whole = Path(tempfile.mkdtemp()) / "system-and-emulator.pem"
    whole.write_text(Path(SYSTEM_BUNDLE).read_text() + Path(emulator_cert).read_text())
    # Lambda's Amazon Linux keeps its store as bundle files, without the directory of hashed
    # links Debian has in /etc/ssl/certs, which the system verifier would also read (about 3 ms
    # of start-up here): so the functions are given an empty directory, and the start-up with
    # this machine's directory is reported beside it.
    no_dir = {"SSL_CERT_DIR": tempfile.mkdtemp()}
    trust_all = {"SSL_CERT_FILE": str(whole), **no_dir}
    trust_one = {"SSL_CERT_FILE": emulator_cert, **no_dir}
    hashed_dir = {"SSL_CERT_FILE": str(whole)}
    global ID_TOKEN
    signing_in, ID_TOKEN = identity_provider()
    for trust in (trust_all, trust_one, hashed_dir):
        # create_users and refresh_token as the original app has them (the demo's mode): the
        # deployed default, signed-in, turns both away before any work worth timing.
        trust.update(signing_in, ISSUER_MODE="open")

    rows = []
    # Every function an `ok.json` event drives (acs_events is driven by Event Grid instead),
    # and a page of 50 threads of the inbox, the design's case for list_threads.
    cases = [(name, 1, "ok") for name in sorted(p.parent.name for p in (ROOT / "events").glob("*/ok.json"))]
    cases.append(("list_threads", 50, "page_of_50"))
    for name, threads, event in cases:
        binary = str(bin_dir / name)
        start, _ = median(binary, name, trust_all, 0)
        start_hashed_dir, _ = median(binary, name, hashed_dir, 0)
        first, statuses = median(binary, name, trust_all, 1, threads, event)
        first_one, _ = median(binary, name, trust_one, 1, threads, event)
        many, _ = run(binary, name, trust_all, WARM + 1, threads, event)
        warm = max((many - first) / WARM, 0)
        rows.append({
            "function": name if threads == 1 else f"{name} ({threads} threads)",
            "status": statuses[0],
            "startup_ms": round(start, 2),
            "startup_with_hashed_cert_dir_ms": round(start_hashed_dir, 2),
            "cert_store_ms": round(max(first - first_one, 0), 2),
            "first_request_ms": round(first - start, 2),
            "first_request_extra_ms": round(max(first - start - warm, 0), 2),
            "warm_request_ms": round(warm, 3),
            "exec_to_first_answer_ms": round(first, 2),
            "modelled_128mb_first_answer_ms": round(first / SHARE_128),
        })
    memory = memory_model(rows)
    out.write_text(json.dumps({"cpu_share_128mb": round(SHARE_128, 4), "rows": rows,
                               "memory_model": memory}, indent=2))
    print(f"\ncold path over HTTPS, CPU ms (user + system, all threads), median of {SAMPLES} processes;"
          " budget: exec to first answer <= 5 ms (about 70 ms at 128 MB):")
    header = ("function", "start-up", "(w/ dir)", "certs", "1st req", "its extra", "warm", "exec->1st", "@128 MB", "status")
    line = "{:<27} {:>8} {:>8} {:>7} {:>8} {:>9} {:>7} {:>9} {:>8} {:>7}"
    print(line.format(*header))
    for r in rows:
        print(line.format(r["function"], f"{r['startup_ms']:.1f}",
                          f"{r['startup_with_hashed_cert_dir_ms']:.1f}", f"{r['cert_store_ms']:.1f}",
                          f"{r['first_request_ms']:.1f}", f"{r['first_request_extra_ms']:.1f}",
                          f"{r['warm_request_ms']:.2f}", f"{r['exec_to_first_answer_ms']:.1f}",
                          r["modelled_128mb_first_answer_ms"], r["status"]))
    print(f"\nmemory size, modelled on the median function (CPU stretched by the share, plus "
          f"{UPSTREAM_WAIT_MS} ms waiting on ACS; arm64 prices):")
    print("{:>9} {:>6} {:>12} {:>16}".format("memory MB", "kind", "duration ms", "USD per million"))
    for m in memory:
        print("{:>9} {:>6} {:>12.0f} {:>16.2f}".format(m["memory_mb"], m["request"], m["duration_ms"], m["usd_per_million"]))
    print(f"(written to {out})")


if __name__ == "__main__":
    main()
