"""The one table of functions (`src/api/endpoints.rs`, written out by the Rust suite as
`functions.json`) against every place a deployment or a developer meets the functions: each
must name the same functions, with the same routes and methods. Adding an endpoint and
forgetting one of them fails here, saying which.

- `src/bin/<name>.rs` and a `[[bin]]` in Cargo.toml for each;
- `cargo lambda watch`'s router in Cargo.toml: each route to its function;
- `template.yaml`: one `AWS::Serverless::Function` per name (its SAM `Binary`), with an
  `HttpApi` event for each route and method, and none for the real-time authorizer;
- `openapi.yaml`: a path per route with that method, and no other;
- `events/<name>/`: at least one event with the answer it expects.
"""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from recorded import recorded
from template_yaml import load_template, template_body

ROOT = Path(__file__).resolve().parents[2]


def template():
    return load_template()


@pytest.fixture(scope="module")
def table():
    return json.loads(recorded("functions.json"))


def routes(table):
    return {(route, f["method"]): f["name"] for f in table for route in f["routes"]}


def test_each_function_has_its_binary(table):
    names = {f["name"] for f in table}
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    assert {b["name"] for b in cargo["bin"]} == names, "[[bin]] in Cargo.toml"
    assert {p.stem for p in (ROOT / "src" / "bin").glob("*.rs")} == names, "src/bin/"


def test_cargo_lambda_watch_routes_each_path_to_its_function(table):
    router = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["metadata"]["lambda"]["watch"]["router"]
    expected = {route: name for (route, _), name in routes(table).items()}
    assert router == expected


def test_the_template_has_each_function_on_its_routes_and_no_other(table):
    resources = template()["Resources"]
    functions = {
        resource["Metadata"]["BuildProperties"]["Binary"]: resource
        for resource in resources.values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == {f["name"] for f in table}, "functions in template.yaml"
    for spec in table:
        events = functions[spec["name"]]["Properties"].get("Events", {}).values()
        served = {(e["Properties"]["Path"], e["Properties"]["Method"]) for e in events if e["Type"] == "HttpApi"}
        assert served == {(route, spec["method"]) for route in spec["routes"]}, spec["name"]


def test_openapi_has_a_path_for_each_route_with_its_method_and_no_other(table):
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text())
    documented = {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented == set(routes(table))


def test_each_function_has_event_files_with_their_answers(table):
    for spec in table:
        folder = ROOT / "events" / spec["name"]
        cases = [p for p in folder.glob("*.json") if not p.name.endswith(".expected.json")]
        assert cases, f"no events in {folder}"
        for case in cases:
            assert case.with_suffix(".expected.json").exists(), case


# What each need of a function (the table's `needs`) asks of its environment, and the secret
# parameter whose ARN it reads.
NEEDS_ENV = {
    "chat": [("ACS_ENDPOINT", None)],
    "admin_key": [("ACS_SECRET_ID", "AcsSecretArn")],
    "publishes": [("REALTIME_PUBLISH_KEY_SECRET_ID", "RealtimePublishKeySecretArn"), ("REALTIME_PUBLISH_URL", None)],
    "webhook": [("REALTIME_WEBHOOK_SECRET_ID", "RealtimeWebhookSecretArn")],
    "authorizes": [("REALTIME_PUBLISH_KEY_SECRET_ID", "RealtimePublishKeySecretArn")],
    "identity_provider": [("IDP_ISSUER", None), ("IDP_AUDIENCE", None)],
    "people": [("PEOPLE_TABLE", None)],
    "files": [("FILES_BUCKET", None)],
    "pushes": [("PUSH_VAPID_SECRET_ID", "PushVapidSecretArn"), ("PUSH_PUBLIC_KEY", None), ("PUSH_CONTACT", None)],
    "seals": [("SEAL_SECRET_ID", "SealKeysSecretArn")],
}
# Settings with a default in src/config.rs or a feature's settings module, or off unless set (Entra on the webhook): the
# template may set them, the local stack need not.
OPTIONAL = {
    "ACS_AUTH_MODE", "CLIENT_TOKENS", "ACS_TOKEN_LIFETIME_MINUTES", "ACS_SESSION_HOURS", "METRICS_NAMESPACE",
    "REALTIME_ENTRA_TENANT_ID", "REALTIME_ENTRA_AUDIENCE", "IDP_SIGN_IN_URL",
    "FILES_MAX_BYTES", "FILES_TYPES", "PUSH_TTL_SECONDS", "FILES_DAILY_UPLOADS", "FILES_DAILY_BYTES",
}


def template_environment():
    """Each function's environment in template.yaml (Globals included), by binary, and the
    secret ARNs its policies let it read."""
    loaded = template()
    shared = loaded["Globals"]["Function"]["Environment"]["Variables"]
    found = {}
    for resource in loaded["Resources"].values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        variables = {**shared, **properties.get("Environment", {}).get("Variables", {})}
        readable = json.dumps(properties.get("Policies", []))
        found[resource["Metadata"]["BuildProperties"]["Binary"]] = (variables, readable)
    return found


def properties_policies(binary):
    """The policy statements of the function whose binary is `binary`, conditions included."""
    for resource in template()["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function" and resource["Metadata"]["BuildProperties"]["Binary"] == binary:
            return [p for p in resource["Properties"].get("Policies", []) if isinstance(p, dict) and "Statement" in p]
    return []


def watch_environment():
    """The variables scripts/local gives every function under `cargo lambda watch`."""
    text = (ROOT / "scripts" / "local").read_text()
    block = text.split('functions.env" <<ENV\n', 1)[1].split("\nENV\n", 1)[0]
    return {line.split("=", 1)[0] for line in block.splitlines() if "=" in line}


def test_each_function_s_template_environment_and_policies_give_it_what_it_needs_and_the_local_stack_agrees(table):
    deployed = template_environment()
    watched = watch_environment()
    for spec in table:
        variables, readable = deployed[spec["name"]]
        needs = spec["needs"]
        wanted = [pair for need, pairs in NEEDS_ENV.items() if needs[need] not in (False, "never") for pair in pairs]
        for variable, secret in wanted:
            assert variable in variables, f"{spec['name']}: template.yaml sets no {variable}"
            assert variable in watched, f"{spec['name']}: scripts/local sets no {variable}"
            if secret:
                assert secret in json.dumps(variables[variable]), f"{spec['name']}: {variable} is not {secret}"
                assert secret in readable, f"{spec['name']}: no policy lets it read {secret}"
        # The people table: only the functions that use it name it or may touch it.
        touches_table = "PeopleTable" in readable and "dynamodb:" in readable
        assert touches_table == bool(needs["people"]), f"{spec['name']}: the people table's policy"
        # The files: only the functions that sign or remove them may touch the bucket, and only
        # its threads' objects (delete_thread also lists the bucket to find them).
        touches_files = "s3:" in readable
        assert touches_files == bool(needs["files"]), f"{spec['name']}: the bucket's policy"
        if touches_files:
            objects = [s for p in properties_policies(spec["name"]) for s in p.get("Statement", []) if "s3:ListBucket" not in s["Action"]]
            assert all(json.dumps(s["Resource"]).endswith('/threads/*"}') for s in objects if "s3:" in json.dumps(s["Action"])), spec["name"]
        if needs["admin_key"] == "never":
            assert "ACS_SECRET_ID" not in variables and "AcsSecretArn" not in readable, spec["name"]
    set_by_template = {variable for variables, _ in deployed.values() for variable in variables}
    missing_locally = set_by_template - watched - OPTIONAL
    assert not missing_locally, f"the template sets what scripts/local does not: {sorted(missing_locally)}"
    unknown_to_template = watched - set_by_template - {
        # The local stack's own: where its services are, and how loud.
        "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "RUST_LOG", "REALTIME_CONNECT_ADDR", "AWS_ENDPOINT_URL_DYNAMODB", "IDP_JWKS_URL",
        "AWS_ENDPOINT_URL_S3", "SSL_CERT_FILE",
    }
    assert not unknown_to_template, f"scripts/local sets what the template never does: {sorted(unknown_to_template)}"


def test_the_push_services_default_is_the_same_in_the_template_and_the_code():
    """A deployment that keeps the template's default and a function that finds no
    `PUSH_SERVICES` (a test, `cargo lambda watch`) must allow the same push services."""
    template = (ROOT / "template.yaml").read_text()
    default = re.search(r'^  PushServices:\n(?:    .*\n)*?    Default: "([^"]+)"', template, re.M).group(1)
    code = (ROOT / "src" / "push" / "subscription.rs").read_text()
    constant = re.search(r'pub const DEFAULT_SERVICES: &str = "((?:[^"\\]|\\\n\s*)+)";', code).group(1)
    assert re.sub(r"\\\n\s*", "", constant) == default


def test_the_routes_that_make_things_have_limits_of_their_own_below_the_stage_s():
    """A flood of identities, uploads or devices spends its own budget, not everyone's."""
    parameters = template()["Parameters"]
    api = template()["Resources"]["ChatApi"]["Properties"]
    for route in ["POST /create_users", "POST /sign_in", "POST /upload_url", "POST /push_subscribe"]:
        assert api["RouteSettings"][route] == {
            "ThrottlingRateLimit": {"Ref": "CreatingThrottlingRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "CreatingThrottlingBurstLimit"},
        }, route
    for kind in ["Rate", "Burst"]:
        creating = parameters[f"CreatingThrottling{kind}Limit"]["Default"]
        assert creating < parameters[f"Throttling{kind}Limit"]["Default"], kind


def test_no_other_site_s_script_may_call_the_api_unless_the_deployment_says_so():
    """CORS defaults to the page's own origin: `*` would let any page call with its
    visitors' tokens."""
    parameters = template()["Parameters"]
    assert parameters["CorsAllowOrigin"]["Default"] == ""
    cors = template()["Resources"]["ChatApi"]["Properties"]["CorsConfiguration"]["Fn::If"]
    assert cors[0] == "AllowsCrossOrigin"
    assert cors[1]["AllowOrigins"] == [
        {"Fn::If": ["HasCorsOrigin", {"Ref": "CorsAllowOrigin"}, {"Ref": "PageOrigin"}]}
    ]
    assert cors[2] == {"Ref": "AWS::NoValue"}


def test_the_template_fits_in_a_create_stack_body_as_the_local_deploy_sends_it():
    """CloudFormation (and ministack's) take at most 51,200 bytes of TemplateBody; the local
    deploy sends the template compact, without its parameters' descriptions, each function's
    code at an S3 key."""
    deployed = template()
    for resource in deployed["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://acs-chat-api-local-functions/push_unsubscribe.zip"
    size = len(template_body(deployed))
    assert size <= 51_200, size
