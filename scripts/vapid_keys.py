"""Makes a VAPID key pair (RFC 8292) for a deployment's Web Push and prints it as the
`PushVapidSecretArn` secret holds it: {"publicKey": ..., "privateKey": ...}, each base64url
without padding (the public key an uncompressed P-256 point, the private key its 32-byte
scalar), as `web-push generate-vapid-keys --json` prints them too. The publicKey is also the
template's `PushPublicKey`.

Usage: python3 scripts/vapid_keys.py > vapid.json   (needs the `cryptography` package)
"""

import base64
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_pair():
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.UncompressedPoint)
    scalar = private.private_numbers().private_value.to_bytes(32, "big")
    return {"publicKey": b64url(public), "privateKey": b64url(scalar)}


if __name__ == "__main__":
    print(json.dumps(key_pair()))
