"""Configures the local real-time service (ministack's AppSync Events) for the stack, and prints
shell assignments for scripts/env.sh's start_realtime to evaluate.

- an Event API whose connect, subscribe and publish go to a Lambda authorizer: our
  `realtime_auth`, which ministack reaches under `cargo lambda watch` through its Lambda proxy;
- the `threads` channel namespace;
- the real-time secret (webhook secret and publish key, fresh test values) in the local
  Secrets Manager, which AWS_ENDPOINT_URL_SECRETS_MANAGER names.

Usage: python scripts/local_realtime.py MINISTACK_PORT FUNCTIONS_PORT
"""

import io
import json
import os
import secrets
import shlex
import sys
import zipfile

import boto3

SECRET_ID = "acs-chat-api/realtime-local"


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def main():
    ministack_port, functions_port = sys.argv[1], sys.argv[2]
    ministack = f"http://127.0.0.1:{ministack_port}"
    # ministack only forwards to the proxy; the package it is given is never run.
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("bootstrap", "")
    authorizer = client("lambda", ministack).create_function(
        FunctionName="realtime_auth", Runtime="provided.al2023", Handler="bootstrap",
        Role="arn:aws:iam::000000000000:role/realtime-auth", Code={"ZipFile": package.getvalue()},
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
    appsync.create_channel_namespace(apiId=api["apiId"], name="threads")

    values = {"webhookSecret": secrets.token_urlsafe(32), "publishKey": secrets.token_urlsafe(32)}
    client("secretsmanager", os.environ["AWS_ENDPOINT_URL_SECRETS_MANAGER"]).create_secret(
        Name=SECRET_ID, SecretString=json.dumps(values))
    exports = {
        "REALTIME_SECRET_ID": SECRET_ID,
        "REALTIME_PUBLISH_URL": f"http://{api['dns']['HTTP']}/event",
        "REALTIME_CONNECT_ADDR": f"127.0.0.1:{ministack_port}",
        "REALTIME_WS_URL": f"ws://{api['dns']['REALTIME']}/event/realtime",
        "REALTIME_HTTP_HOST": api["dns"]["HTTP"],
        "REALTIME_WEBHOOK_SECRET": values["webhookSecret"],
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
