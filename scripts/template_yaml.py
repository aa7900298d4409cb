"""template.yaml as CloudFormation reads it: YAML whose short tags (`!Ref x`, `!GetAtt a.b`,
`!Sub ...`) become their JSON forms. The local deploy, the files' bucket bridge and the
contract tests all read the template through this one loader."""

from pathlib import Path

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class CloudFormation(yaml.SafeLoader):
    """YAML with CloudFormation's short tags, read into their JSON forms."""


def _tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    # !Ref and !Condition are not functions: their JSON forms have no Fn:: prefix.
    return {suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}": value}


CloudFormation.add_multi_constructor("!", _tagged)


def load_template():
    """The template, as a dictionary of its JSON form."""
    return yaml.load(TEMPLATE.read_text(), Loader=CloudFormation)


def template_body(template):
    """The template as the local deploy sends it: compact JSON, without the parameters'
    descriptions (words for the people deploying, which CloudFormation only shows), since a
    `TemplateBody` holds at most 51,200 bytes (`sam deploy` uploads larger ones to S3)."""
    import json

    parameters = {
        name: {key: value for key, value in parameter.items() if key != "Description"}
        for name, parameter in template.get("Parameters", {}).items()
    }
    return json.dumps({**template, "Parameters": parameters}, separators=(",", ":"))
