"""Seals as the functions make them (`src/seal/`), written here a second time and apart, for the
tests that must hand a client a token the stack did not issue (one about to expire) and for the
cold-path benchmark, whose people are made with the official SDK: a seal over an ACS token, with
a stack's sealing key.

`seal1.<expiry>.<base64url(key id | nonce | AES-256-GCM ciphertext and tag)>`, the clear part and
the key id as associated data, the key and its id derived from the key's text with HMAC-SHA256.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def new_keys():
    """A sealing secret's value with a fresh current key (a test value)."""
    return json.dumps({"current": secrets.token_urlsafe(32)})


def seal(acs_token, keys, audience):
    """The seal of `acs_token` under the current key of `keys` (the secret's text), for the
    deployment whose ACS endpoint is `audience`."""
    text = json.loads(keys)["current"].encode()

    def derive(purpose):
        return hmac.new(text, purpose, hashlib.sha256).digest()

    key, key_id = derive(b"acs-chat-api seal key v1"), derive(b"acs-chat-api seal key id v1")[:4]
    claims = json.loads(base64.urlsafe_b64decode(acs_token.split(".")[1] + "=="))
    inside = {"a": audience.rstrip("/") + "/", "t": acs_token, "u": "8:" + claims["skypeid"],
              "s": claims["acsScope"].split(","), "sid": "made-outside", "se": claims["exp"]}
    clear = f"seal1.{claims['exp']}."
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(inside).encode(), clear.encode() + key_id)
    return clear + base64.urlsafe_b64encode(key_id + nonce + sealed).rstrip(b"=").decode()


if __name__ == "__main__":
    # A fresh sealing secret for a local stack or a benchmark run.
    print(new_keys())
