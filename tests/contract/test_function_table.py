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
import tomllib
from pathlib import Path

import pytest
import yaml

from recorded import recorded

ROOT = Path(__file__).resolve().parents[2]


class CloudFormation(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (`!Ref x` reads as `{"Ref": "x"}`)."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


CloudFormation.add_multi_constructor("!", _tagged)


def template():
    return yaml.load((ROOT / "template.yaml").read_text(), Loader=CloudFormation)


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
