"""Stores the local stack's secret in the local Secrets Manager (moto, via boto3's endpoint
variables). In trusted mode it also creates the service identity that add_user acts as, and
names it in the secret, as a deployment in that mode would.

Usage: local_secret.py SECRET_ID CONNECTION_STRING MODE
       local_secret.py --text SECRET_ID TEXT   (any other secret, as it is: the VAPID keys)"""

import json
import re
import sys

import boto3
from azure.communication.identity import CommunicationIdentityClient
from azure.core.credentials import AzureKeyCredential


def main(secret_id, connection_string, mode):
    secret = {"connectionString": connection_string}
    if mode == "trusted":
        endpoint = re.search(r"endpoint=([^;]+)", connection_string).group(1).rstrip("/")
        key = re.search(r"accesskey=([^;]+)", connection_string).group(1)
        # Built from parts, not the connection string, so that plain http is kept.
        identity = CommunicationIdentityClient(endpoint, AzureKeyCredential(key))
        secret["serviceUserId"] = identity.create_user().properties["id"]
    client = boto3.client("secretsmanager")
    client.create_secret(Name=secret_id, SecretString=json.dumps(secret))


if __name__ == "__main__":
    if sys.argv[1] == "--text":
        boto3.client("secretsmanager").create_secret(Name=sys.argv[2], SecretString=sys.argv[3])
    else:
        main(*sys.argv[1:])
