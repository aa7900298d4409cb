"""Deploys template.yaml, unchanged but for its parameters and the code's location, into a
local AWS (ministack) on this machine, and wires what ministack leaves out.

What `sam package` and `sam deploy` do on AWS, done here against ministack:
- each function's `bootstrap` (this machine's build, debug symbols stripped) zipped into S3,
  and the function's `CodeUri` pointed at it;
- the secrets (the ACS connection string, the real-time publish key and webhook secret, the
  VAPID key pair, the sealing keys) made
  in its Secrets Manager, their ARNs passed as the template's parameters;
- `CreateStack` with the SAM transform, waited for.

Where ministack falls short of AWS, the gap is named and bridged here, never by changing what
the template does on AWS:
- ministack's `AWS::ApiGatewayV2::Api` ignores the OpenAPI `Body` SAM puts an HttpApi's routes
  in, so the deployed API has none: each route and its proxy integration are made through its
  apigatewayv2 API, from the `Body` of the template as SAM transformed it (`Processed`).
- its `AWS::S3::Bucket` applies the CORS and public access block but not `BucketEncryption` or
  `LifecycleConfiguration`: both are put on the files' bucket through its S3 API, from the
  template (`bridge_bucket`).
- its CloudFormation lacks `AWS::AppSync::Api` and `ChannelNamespace`: scripts/ministack_events.py
  teaches it them (ministack is started through it), so the template's own Event API is made.
- it serves HTTP, not HTTPS, and its host names resolve nowhere but in browsers: the functions
  that publish get the Event API's address with `http://` for `https://` and
  `REALTIME_CONNECT_ADDR` (the address its host names are reached at); the page gets `ws://`
  for `wss://`.
- the identity provider (moto's Cognito, scripts/local_identity.py) names an issuer on
  amazonaws.com whose keys are really at moto's address: the functions that check its tokens
  get `IDP_JWKS_URL` (the JWKS's address, which on AWS follows from the issuer).
- its HttpApi has no JWT authorizer (it is in the same `Body`), so on this stack only the
  sign_in function itself checks the identity provider's tokens, as it also does on AWS.

Prints shell assignments for scripts/deploy-local to evaluate.

Usage: python scripts/deploy_local.py MINISTACK_URL RUN_DIR BINARIES_DIR
Reads ACS_ENDPOINT, CONNECTION_STRING, SEAL_KEYS, CLIENT_TOKENS, AUTH_MODE, PAGE_ORIGIN (where the page is served),
FILES_URL_SECONDS (optional), the identity provider's IDP_ISSUER, IDP_AUDIENCE, IDP_JWKS_URL
and IDP_SIGN_IN_URL, and Web Push's VAPID_KEYS, PUSH_PUBLIC_KEY, PUSH_CONTACT and
PUSH_SERVICES from the environment.
"""

import io
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import boto3

from template_yaml import load_template, template_body

ROOT = Path(__file__).resolve().parents[1]
STACK = "acs-chat-api-local"
BUCKET = "acs-chat-api-local-code"


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def package(s3, binaries, template):
    """Uploads each function's code and points its CodeUri at it, as `sam package` does."""
    s3.create_bucket(Bucket=BUCKET)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "bootstrap"
            subprocess.run(["strip", "--strip-debug", "-o", str(out), str(binaries / binary)], check=True)
            stripped = out.read_bytes()
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
            info = zipfile.ZipInfo("bootstrap")
            info.external_attr = 0o755 << 16
            zipped.writestr(info, stripped)
        s3.put_object(Bucket=BUCKET, Key=f"{binary}.zip", Body=archive.getvalue())
        resource["Properties"]["CodeUri"] = f"s3://{BUCKET}/{binary}.zip"


def make_secrets(secretsmanager, mode):
    made = {}
    connection = os.environ["CONNECTION_STRING"]
    values = {
        "AcsSecretArn": ("acs-chat-api/local/acs", json.dumps({"connectionString": connection})),
        "RealtimePublishKeySecretArn": ("acs-chat-api/local/publish-key", secrets.token_urlsafe(32)),
        "RealtimeWebhookSecretArn": ("acs-chat-api/local/webhook-secret", secrets.token_urlsafe(32)),
        "PushVapidSecretArn": ("acs-chat-api/local/vapid", os.environ["VAPID_KEYS"]),
        "SealKeysSecretArn": ("acs-chat-api/local/seal-keys", os.environ["SEAL_KEYS"]),
    }
    for parameter, (name, value) in values.items():
        made[parameter] = (secretsmanager.create_secret(Name=name, SecretString=value)["ARN"], value)
    return made


def deploy(cloudformation, template, parameters):
    cloudformation.create_stack(
        StackName=STACK, TemplateBody=template_body(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"])
    deadline = time.monotonic() + 300
    while True:
        status = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"]
        if status == "CREATE_COMPLETE":
            return
        if status.endswith("FAILED") or status.startswith("ROLLBACK") or time.monotonic() > deadline:
            events = cloudformation.describe_stack_events(StackName=STACK)["StackEvents"]
            reasons = [f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}" for e in events
                       if "FAILED" in e["ResourceStatus"]]
            sys.exit(f"the stack ended {status}: {reasons}")
        time.sleep(0.5)


def physical_ids(cloudformation):
    resources = cloudformation.describe_stack_resources(StackName=STACK)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


NO_VALUE = {"Ref": "AWS::NoValue"}


def condition_values(template, parameters):
    """Each of the template's conditions, decided for `parameters`."""
    values = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()} | parameters
    conditions = template.get("Conditions", {})

    def decide(node):
        if not isinstance(node, dict):
            return node
        (function, argument), = node.items()
        return {
            "Ref": lambda: values.get(argument, argument),
            "Fn::Equals": lambda: str(decide(argument[0])) == str(decide(argument[1])),
            "Fn::Not": lambda: not decide(argument[0]),
            "Fn::And": lambda: all(decide(a) for a in argument),
            "Fn::Or": lambda: any(decide(a) for a in argument),
            "Condition": lambda: decide(conditions[argument]),
        }[function]()

    return {name: decide(node) for name, node in conditions.items()}


def chosen(node, conditions):
    """`node` with each `Fn::If` decided and each `AWS::NoValue` left out."""
    if isinstance(node, list):
        return [chosen(v, conditions) for v in node if v != NO_VALUE]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::If"}:
        condition, yes, no = node["Fn::If"]
        return chosen(yes if conditions[condition] else no, conditions)
    decided = {k: chosen(v, conditions) for k, v in node.items()}
    return {k: v for k, v in decided.items() if v != NO_VALUE}


def import_routes(cloudformation, apigateway, lambdas, ids, parameters):
    """The routes SAM wrote into the HttpApi's Body, made one by one (ministack's gap)."""
    processed = cloudformation.get_template(StackName=STACK, TemplateStage="Processed")["TemplateBody"]
    if isinstance(processed, str):
        processed = json.loads(processed)
    conditions = condition_values(processed, parameters)
    (api_logical, api), = [(k, chosen(r, conditions)) for k, r in processed["Resources"].items()
                           if r["Type"] == "AWS::ApiGatewayV2::Api"]
    api_id = ids[api_logical]
    made = []
    for path, methods in api["Properties"]["Body"]["paths"].items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or "x-amazon-apigateway-integration" not in operation:
                continue
            integration = operation["x-amazon-apigateway-integration"]
            function = re.search(r"\$\{(\w+)\.Arn\}", json.dumps(integration["uri"])).group(1)
            arn = lambdas.get_function(FunctionName=ids[function])["Configuration"]["FunctionArn"]
            made_integration = apigateway.create_integration(
                ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=arn,
                PayloadFormatVersion=integration.get("payloadFormatVersion", "2.0"))
            verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            apigateway.create_route(ApiId=api_id, RouteKey=f"{verb} {path}",
                                    Target=f"integrations/{made_integration['IntegrationId']}")
            made.append(f"{verb} {path} -> {ids[function]}")
    return api_id, made


def bridge_addresses(lambdas, ids, ministack_port):
    """The Event API's addresses as ministack serves them, and the identity provider's keys
    where moto serves them (see the module's doc)."""
    page = {}
    for logical, name in ids.items():
        if not logical.endswith("Function"):
            continue
        variables = lambdas.get_function_configuration(FunctionName=name).get("Environment", {}).get("Variables", {})
        changed = dict(variables)
        if changed.get("REALTIME_PUBLISH_URL", "").startswith("https://"):
            changed["REALTIME_PUBLISH_URL"] = "http://" + changed["REALTIME_PUBLISH_URL"][len("https://"):]
            changed["REALTIME_CONNECT_ADDR"] = f"127.0.0.1:{ministack_port}"
        if changed.get("REALTIME_WS_URL", "").startswith("wss://"):
            changed["REALTIME_WS_URL"] = "ws://" + changed["REALTIME_WS_URL"][len("wss://"):]
            page = changed
        if "IDP_ISSUER" in changed:
            changed["IDP_JWKS_URL"] = os.environ["IDP_JWKS_URL"]
        if changed != variables:
            lambdas.update_function_configuration(FunctionName=name, Environment={"Variables": changed})
    return page


def bridge_bucket(s3, template, ids):
    """The files' bucket's encryption and lifecycle, which ministack's CloudFormation skips."""
    from local_files import apply_lifecycle_and_encryption

    apply_lifecycle_and_encryption(s3, ids["FilesBucket"], template["Resources"]["FilesBucket"]["Properties"])


def main():
    ministack, run_dir, binaries = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    ministack_port = ministack.rsplit(":", 1)[1]
    mode = os.environ.get("AUTH_MODE", "token")
    template = load_template()
    package(client("s3", ministack), binaries, template)
    made = make_secrets(client("secretsmanager", ministack), mode)
    parameters = {name: arn for name, (arn, _) in made.items()}
    parameters.update({
        "AcsEndpoint": os.environ["ACS_ENDPOINT"], "AuthMode": mode, "Architecture": "x86_64",
        "ClientTokens": os.environ.get("CLIENT_TOKENS", "sealed"),
        # The demo makes its people with create_users, as the original app does.
        "IssuerMode": os.environ.get("ISSUER_MODE", "open"), "IdpIssuer": os.environ["IDP_ISSUER"],
        "IdpAudience": os.environ["IDP_AUDIENCE"], "IdpSignInUrl": os.environ["IDP_SIGN_IN_URL"],
        # The page is served through scripts/host_proxy.py, not at the API's own origin.
        "PageOrigin": os.environ["PAGE_ORIGIN"],
        "FilesUrlSeconds": os.environ.get("FILES_URL_SECONDS", "300"),
        # ministack serves plain HTTP, and evaluates the bucket's TLS-only policy as S3 does:
        # with it, every request would be refused.
        "FilesTlsOnly": "false",
        # Web Push to the stand-in push service (scripts/local), with this run's VAPID key.
        "PushPublicKey": os.environ["PUSH_PUBLIC_KEY"], "PushContact": os.environ["PUSH_CONTACT"],
        "PushServices": os.environ["PUSH_SERVICES"],
    })
    cloudformation = client("cloudformation", ministack)
    deploy(cloudformation, template, parameters)
    ids = physical_ids(cloudformation)
    lambdas = client("lambda", ministack)
    api_id, routes = import_routes(cloudformation, client("apigatewayv2", ministack), lambdas, ids, parameters)
    page = bridge_addresses(lambdas, ids, ministack_port)
    bridge_bucket(client("s3", ministack), template, ids)
    (run_dir / "deployed.json").write_text(json.dumps(
        {"stack": STACK, "api_id": api_id, "routes": routes, "parameters": parameters,
         "functions": {k: v for k, v in ids.items() if k.endswith("Function")}}, indent=2))
    exports = {
        "API_ID": api_id,
        "API_HOST": f"{api_id}.execute-api.localhost:{ministack_port}",
        "REALTIME_WS_URL": page["REALTIME_WS_URL"],
        "REALTIME_HTTP_HOST": page["REALTIME_HTTP_HOST"],
        "REALTIME_CONNECT_ADDR": f"127.0.0.1:{ministack_port}",
        "REALTIME_WEBHOOK_SECRET": made["RealtimeWebhookSecretArn"][1],
        "FILES_BUCKET": ids["FilesBucket"],
        "AWS_ENDPOINT_URL_S3": ministack,
    }
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
