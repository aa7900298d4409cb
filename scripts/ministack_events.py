"""ministack, taught the two CloudFormation resource types of AppSync Events it lacks.

ministack serves AppSync Events (the Event API, its namespaces, the WebSocket, the Lambda
authorizer) but its CloudFormation refuses `AWS::AppSync::Api` and
`AWS::AppSync::ChannelNamespace` as unrecognized, so template.yaml's real-time API cannot be
deployed into it as written. This registers both, each made through ministack's own Event
API service from the template's properties (PascalCase, as CloudFormation writes them), with
the attributes the template reads (`ApiId`, `ApiArn`, `Dns.Http`, `Dns.Realtime`). Nothing of
the template changes; only the local AWS learns what AWS already does.

Run in ministack's virtualenv in place of the `ministack` command.
"""

import json

from ministack.app import main
from ministack.services import appsync_events as events
from ministack.services.cloudformation import provisioners


def answer(response):
    """The decoded body of one of ministack's service answers, or an error naming it."""
    status, _, body = response
    decoded = json.loads(body) if body else {}
    if status >= 300:
        raise ValueError(f"AppSync Events refused it: {decoded}")
    return decoded


def api_create(logical_id, props, stack_name):
    body = {
        "name": props.get("Name") or f"{stack_name}-{logical_id}",
        "eventConfig": provisioners._pascal_to_camel(props.get("EventConfig") or {}),
    }
    api = answer(events._create_api(json.dumps(body).encode()))["api"]
    return api["apiId"], {
        "ApiId": api["apiId"],
        "ApiArn": api["apiArn"],
        "Dns.Http": api["dns"]["HTTP"],
        "Dns.Realtime": api["dns"]["REALTIME"],
    }


def api_delete(physical_id, props):
    events._delete_api(physical_id)


def namespace_create(logical_id, props, stack_name):
    body = {"name": props["Name"]}
    for mode in ("PublishAuthModes", "SubscribeAuthModes"):
        if props.get(mode):
            body[mode[:1].lower() + mode[1:]] = provisioners._pascal_to_camel(props[mode])
    namespace = answer(events._create_channel_namespace(props["ApiId"], json.dumps(body).encode()))
    arn = namespace["channelNamespace"]["channelNamespaceArn"]
    return f"{props['ApiId']}/{props['Name']}", {"ChannelNamespaceArn": arn}


def namespace_delete(physical_id, props):
    api_id, name = physical_id.split("/", 1)
    events._delete_channel_namespace(api_id, name)


provisioners._RESOURCE_HANDLERS["AWS::AppSync::Api"] = {"create": api_create, "delete": api_delete}
provisioners._RESOURCE_HANDLERS["AWS::AppSync::ChannelNamespace"] = {
    "create": namespace_create,
    "delete": namespace_delete,
}

if __name__ == "__main__":
    main()
