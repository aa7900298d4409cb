"""Stores the local stack's secret in the local Secrets Manager (moto, via boto3's endpoint
variables). In trusted mode it also creates the service identity that add_user acts as, and
names it in the secret, as a deployment in that mode would."""

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
    main(*sys.argv[1:])
