"""Prints HMAC signing vectors made by the official Python SDK's own signing policy.

The SDK's CommunicationIdentityClient builds each request exactly as it would for real; its
HMACCredentialsPolicy signs it with the clock frozen, and a transport that never sends records
what went out. Output: crates/acs-core/src/testdata/hmac_vectors.json (the Rust unit test reads it, and
tests/sdk compares a fresh run with the committed file).
"""

import json
import sys
from datetime import timedelta

from azure.communication.identity import CommunicationIdentityClient, CommunicationUserIdentifier
from azure.communication.identity._shared import policy as hmac_policy
from azure.core.pipeline.transport import HttpTransport

ACCESS_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="  # the 32 bytes 0x00..0x1f
DATE = "Fri, 05 Jan 2024 10:20:30 GMT"
USER = "8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000001"


class Captured(Exception):
    pass


class RecordingTransport(HttpTransport):
    def __init__(self):
        self.request = None

    def send(self, request, **kwargs):
        self.request = request
        raise Captured()

    def open(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass


def capture(endpoint, call):
    transport = RecordingTransport()
    signed = []
    original = hmac_policy.HMACCredentialsPolicy._compute_hmac

    def recording_hmac(self, value):
        signed.append(value)
        return original(self, value)

    hmac_policy.get_current_utc_time = lambda: DATE
    hmac_policy.HMACCredentialsPolicy._compute_hmac = recording_hmac
    try:
        client = CommunicationIdentityClient.from_connection_string(
            f"endpoint={endpoint};accesskey={ACCESS_KEY}", transport=transport
        )
        try:
            call(client)
        except Captured:
            pass
    finally:
        hmac_policy.HMACCredentialsPolicy._compute_hmac = original
    request = transport.request
    body = request.body or ""
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    return {
        "method": request.method,
        "url": request.url,
        "body": body,
        "date": request.headers["x-ms-date"],
        "string_to_sign": signed[-1],
        "content_sha256": request.headers["x-ms-content-sha256"],
        "authorization": request.headers["Authorization"],
    }


def main():
    user = CommunicationUserIdentifier(USER)
    contoso = "https://contoso.communication.azure.com/"
    cases = [
        ("create_user_and_token", contoso,
         lambda c: c.create_user_and_token(["chat"], token_expires_in=timedelta(hours=1))),
        ("create_user", contoso, lambda c: c.create_user()),
        ("get_token", contoso, lambda c: c.get_token(user, ["chat", "voip"])),
        ("revoke_tokens", contoso, lambda c: c.revoke_tokens(user)),
        ("delete_user", contoso, lambda c: c.delete_user(user)),
        ("create_user_on_a_port", "https://127.0.0.1:8443/", lambda c: c.create_user()),
    ]
    vectors = {
        "source": "scripts/signing_vectors.py with azure-communication-identity's HMACCredentialsPolicy",
        "access_key": ACCESS_KEY,
        "cases": [dict(name=name, **capture(endpoint, call)) for name, endpoint, call in cases],
    }
    json.dump(vectors, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
