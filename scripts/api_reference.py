"""Writes docs/api.md, the API reference, from openapi.yaml, so that the two cannot drift
(tests/contract/test_api_reference.py fails when docs/api.md is not what this makes).

    python scripts/api_reference.py           # rewrites docs/api.md

Each operation's example is its `x-codeSamples` entry in the spec; the examples share the
variables of the spec's `x-examples-setup`, and the end-to-end suite runs them all, in this
order, against the local stack (tests/e2e/test_doc_commands.py).
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SPEC_PATH = ROOT / "openapi.yaml"
OUT_PATH = ROOT / "docs" / "api.md"


def ref_name(ref):
    return ref.rsplit("/", 1)[1]


def resolve(spec, node):
    """`node` with its `$ref` followed (siblings of the `$ref` win, as OpenAPI 3.1 has it)."""
    while isinstance(node, dict) and "$ref" in node:
        parts = node["$ref"].lstrip("#/").split("/")
        target = spec
        for part in parts:
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def type_of(spec, schema):
    """A short name for a schema's type: a component's name (linked), or its JSON type."""
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        return f"[`{name}`](#{name.lower()})"
    if "allOf" in schema:
        return " and ".join(type_of(spec, part) for part in schema["allOf"])
    if "oneOf" in schema:
        return " or ".join(type_of(spec, part) for part in schema["oneOf"])
    if "const" in schema:
        return f'`"{schema["const"]}"`'
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        return f"array of {type_of(spec, schema.get('items', {}))}"
    return kind


def limits(schema):
    """The schema's constraints, in words."""
    words = []
    for key, say in (("minLength", "at least {} characters"), ("maxLength", "at most {} characters"),
                     ("minimum", "≥ {}"), ("maximum", "≤ {}"), ("maxItems", "at most {} items"),
                     ("maxProperties", "at most {} keys"), ("default", "default `{}`")):
        if key in schema:
            words.append(say.format(schema[key]))
    if "enum" in schema:
        words.append("one of " + ", ".join(f"`{value}`" for value in schema["enum"]))
    if "pattern" in schema:
        words.append(f"matches `{schema['pattern']}`")
    return words


def one_line(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def rows(spec, schema, prefix=""):
    """Table rows (name, type, required, meaning) of an object schema, nested objects flattened
    to dotted names."""
    schema = resolve(spec, schema)
    required = set(schema.get("required", []))
    out = []
    for name, prop in schema.get("properties", {}).items():
        full = prefix + name
        shown = resolve(spec, prop)
        meaning = [one_line(prop.get("description", shown.get("description", "")))]
        meaning += limits(prop if "$ref" not in prop else {})
        out.append((full, type_of(spec, prop), "yes" if name in required else "", "; ".join(m for m in meaning if m)))
        if shown.get("type") == "object" and "properties" in shown:
            out.extend(rows(spec, shown, full + "."))
    return out


def table(spec, schema):
    lines = ["| field | type | required | meaning |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {kind} | {req} | {meaning} |" for name, kind, req, meaning in rows(spec, schema)]
    return lines


def body_section(spec, schema, title):
    schema = resolve(spec, schema)
    if "oneOf" in schema:
        lines = []
        for number, alternative in enumerate(schema["oneOf"], 1):
            lines += ["", f"{title}, form {number}:", ""] + table(spec, alternative)
        return lines
    if schema.get("type") == "array":
        return ["", f"{title}: an array of objects:", ""] + table(spec, schema["items"])
    if schema.get("type") == "object":
        return ["", f"{title}:", ""] + table(spec, schema)
    return ["", f"{title}: {type_of(spec, schema)}."]


def auth(spec, operation):
    schemes = operation.get("security", spec.get("security", []))
    names = [name for option in schemes for name in option] if schemes else []
    if not names:
        return "none"
    words = {"acsUserToken": "the caller's ACS user token (`Authorization: Bearer`)",
             "identityProviderToken": "the identity provider's token (`Authorization: Bearer`)"}
    said = " or ".join(words[name] for name in names)
    return said + (", or none (as the deployment allows)" if {} in schemes else "")


def operation_section(spec, path, method, operation):
    name = operation["operationId"]
    lines = [f"## {name}", "", f"`{method.upper()} {path}`: {one_line(operation['summary'])}", ""]
    if "description" in operation:
        lines += [operation["description"].strip(), ""]
    lines.append(f"Authorization: {auth(spec, operation)}.")
    parameters = [resolve(spec, p) for p in operation.get("parameters", [])]
    if parameters:
        lines += ["", "| parameter | in | required | meaning |", "|---|---|---|---|"]
        for p in parameters:
            schema = p.get("schema", {})
            meaning = [one_line(p.get("description", resolve(spec, schema).get("description", "")))]
            meaning += limits(resolve(spec, schema))
            lines.append(f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else ''} | "
                         f"{'; '.join(m for m in meaning if m)} |")
    body = operation.get("requestBody")
    if body:
        for media, content in body["content"].items():
            lines += body_section(spec, content["schema"], f"Body (`{media}`{'' if body.get('required') else ', optional'})")
    for status, answer in operation["responses"].items():
        answer_resolved = resolve(spec, answer)
        if status.startswith("2"):
            lines += ["", f"**{status}**: {one_line(answer_resolved['description'])}"]
            for media, content in answer_resolved.get("content", {}).items():
                if media == "application/json":
                    lines += body_section(spec, content["schema"], "Its body")
                else:
                    lines += ["", f"Its body: `{media}`."]
    errors = [(status, resolve(spec, answer)) for status, answer in operation["responses"].items()
              if not status.startswith("2")]
    if errors:
        lines += ["", "| status | when |", "|---|---|"]
        lines += [f"| {status} | {one_line(answer['description'])} |" for status, answer in errors]
    for sample in operation.get("x-codeSamples", []):
        # An example of a refusal says so, for the doc test to hold it to its error code.
        marker = ["", "<!-- doc-test: expect-errors -->"] if sample.get("label") == "error" else []
        lines += marker + ["", "```sh", sample["source"].rstrip(), "```"]
    return lines + [""]


def schema_section(spec, name, schema):
    lines = [f"### {name}", ""]
    if "description" in schema:
        lines += [one_line(schema["description"]), ""]
    if schema.get("type") == "object" and "properties" in schema:
        lines += table(spec, schema)
    else:
        said = [f"{type_of(spec, schema)}"] + limits(schema)
        if "examples" in schema:
            said.append("for example `" + str(schema["examples"][0]) + "`")
        lines.append("; ".join(said) + ".")
    return lines + [""]


def render(spec):
    info = spec["info"]
    lines = [
        "# API reference",
        "",
        "<!-- Made by scripts/api_reference.py from openapi.yaml; edit those, not this. -->",
        "",
        f"{info['title']} {info['version']}: {one_line(info['summary'])}",
        "",
        info["description"].strip(),
        "",
        "The examples run against the local stack (`bash scripts/local --log-dir /tmp/acs-local`,",
        "whose issuer is `open`), in this order; the end-to-end suite runs every one of them. They",
        "start from two people and a thread:",
        "",
        "```sh",
        spec["x-examples-setup"].rstrip(),
        "```",
        "",
    ]
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    lines += [f"- [`{method.upper()} {path}`](#{op['operationId']}): {one_line(op['summary'])}"
              for path, method, op in operations]
    lines.append("")
    for path, method, op in operations:
        lines += operation_section(spec, path, method, op)
    lines += ["## Shapes", ""]
    for name, schema in spec["components"]["schemas"].items():
        lines += schema_section(spec, name, schema)
    return "\n".join(lines).rstrip() + "\n"


def main():
    OUT_PATH.write_text(render(yaml.safe_load(SPEC_PATH.read_text())))


if __name__ == "__main__":
    main()
