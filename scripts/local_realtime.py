"""The local real-time service (ministack's AppSync Events) and its Event Grid subscription.

`setup` configures the service and prints shell assignments for scripts/env.sh's
start_realtime to evaluate:

- an Event API whose connect, subscribe and publish go to a Lambda authorizer: our
  `realtime_auth`, which ministack reaches under `cargo lambda watch` through its Lambda proxy;
- the `users` channel namespace (one channel per person);
- two secrets, fresh test values, in the local Secrets Manager that
  AWS_ENDPOINT_URL_SECRETS_MANAGER names: the webhook secret (only `acs_events` reads it) and
  the publish key (`acs_events`, `send_typing` and `realtime_auth` read it).

`subscribe` subscribes a webhook to the emulator's Event Grid deliveries of the per-user chat
events, as an Azure Event Grid subscription names them.

Usage: python scripts/local_realtime.py setup MINISTACK_PORT FUNCTIONS_PORT
       python scripts/local_realtime.py subscribe ACS_ENDPOINT WEBHOOK_URL
"""

import io
import json
import os
import secrets
import shlex
import sys
import urllib.request
import zipfile

import boto3

PUBLISH_KEY_SECRET_ID = "acs-chat-api/realtime-publish-key-local"
WEBHOOK_SECRET_ID = "acs-chat-api/realtime-webhook-secret-local"

# The per-user events acs_events passes on (src/realtime/eventgrid.rs's EVENT_TYPES): each
# names its recipient, so ACS decides who hears of a change.
EVENT_TYPES = [
    "Microsoft.Communication.ChatMessageReceived",
    "Microsoft.Communication.ChatMessageEdited",
    "Microsoft.Communication.ChatMessageDeleted",
    "Microsoft.Communication.ChatThreadCreatedWithUser",
    "Microsoft.Communication.ChatThreadWithUserDeleted",
    "Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser",
    "Microsoft.Communication.ChatParticipantAddedToThreadWithUser",
    "Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser",
]


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def setup(ministack_port, functions_port):
    ministack = f"http://127.0.0.1:{ministack_port}"
    # ministack only forwards to the proxy; the package it is given is never run.
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("bootstrap", "")
    # A function needs a role Lambda may assume; ministack, checking every call (AUTH=true),
    # holds it to that too.
    role = client("iam", ministack).create_role(RoleName="realtime-auth", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                       "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    authorizer = client("lambda", ministack).create_function(
        FunctionName="realtime_auth", Runtime="provided.al2023", Handler="bootstrap",
        Role=role, Code={"ZipFile": package.getvalue()},
        Environment={"Variables": {"MINISTACK_LAMBDA_PROXY_URL":
            f"http://127.0.0.1:{functions_port}/2015-03-31/functions/realtime_auth/invocations"}},
    )["FunctionArn"]
    lambda_mode = [{"authType": "AWS_LAMBDA"}]
    appsync = client("appsync", ministack)
    api = appsync.create_api(name="acs-chat-api-local", eventConfig={
        "authProviders": [{"authType": "AWS_LAMBDA",
                           "lambdaAuthorizerConfig": {"authorizerUri": authorizer}}],
        "connectionAuthModes": lambda_mode,
        "defaultPublishAuthModes": lambda_mode,
        "defaultSubscribeAuthModes": lambda_mode,
    })["api"]
    appsync.create_channel_namespace(apiId=api["apiId"], name="users")

    stored = client("secretsmanager", os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"])
    webhook_secret = secrets.token_urlsafe(32)
    stored.create_secret(Name=WEBHOOK_SECRET_ID, SecretString=webhook_secret)
    stored.create_secret(Name=PUBLISH_KEY_SECRET_ID, SecretString=secrets.token_urlsafe(32))
    exports = {
        "REALTIME_PUBLISH_KEY_SECRET_ID": PUBLISH_KEY_SECRET_ID,
        "REALTIME_WEBHOOK_SECRET_ID": WEBHOOK_SECRET_ID,
        "REALTIME_PUBLISH_URL": f"http://{api['dns']['HTTP']}/event",
        "REALTIME_CONNECT_ADDR": f"127.0.0.1:{ministack_port}",
        "REALTIME_WS_URL": f"ws://{api['dns']['REALTIME']}/event/realtime",
        "REALTIME_HTTP_HOST": api["dns"]["HTTP"],
        "REALTIME_WEBHOOK_SECRET": webhook_secret,
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")


def subscribe(acs_endpoint, webhook_url):
    request = urllib.request.Request(
        acs_endpoint.rstrip("/") + "/_emulator/eventgrid/subscriptions",
        data=json.dumps({"endpoint": webhook_url, "includedEventTypes": EVENT_TYPES}).encode(),
        method="POST")
    request.add_header("content-type", "application/json")
    # The handshake reaches the function under `cargo lambda watch`, compiled on first call.
    urllib.request.urlopen(request, timeout=300).close()


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"setup": setup, "subscribe": subscribe}[command](*arguments)
