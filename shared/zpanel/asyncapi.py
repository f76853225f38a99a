"""Generate the AsyncAPI 3 document of every event from the pydantic models.

``python -m zpanel.asyncapi > docs/events.asyncapi.json``; a test keeps the file current.
"""

from __future__ import annotations

import json
from typing import Any

from zpanel import subjects
from zpanel.events import CATALOGUE

ADDRESSES = {
    "push.received": subjects.PUSH_RECEIVED,
    "pull_request.received": subjects.PULL_REQUEST_RECEIVED,
    "schedule.fired": "schedule.fired.{app_id}",
    "log.line": "logs.{deployment_id}",
    "dead_letter": "dlq.{stage}",
}


def address(event_type: str) -> str:
    return ADDRESSES.get(event_type, f"{event_type}.{{server_id}}")


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for event_type, model in sorted(CATALOGUE.items()):
        name = model.__name__
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for sub_name, sub in schema.pop("$defs", {}).items():
            schemas[sub_name] = sub
        schemas[name] = schema
        channel = event_type.replace(".", "_")
        addr = address(event_type)
        params = {p.strip("{}"): {"description": p.strip("{}")} for p in addr.split(".") if p.startswith("{")}
        channels[channel] = {
            "address": addr,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            **({"parameters": params} if params else {}),
        }
        operations[f"publish_{channel}"] = {"action": "send", "channel": {"$ref": f"#/channels/{channel}"}}
    messages = {
        name: {
            "name": name,
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "Nats-Msg-Id": {"type": "string", "description": "deduplication id"},
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                    "Zpanel-Event": {"type": "string"},
                },
            },
            "payload": {"$ref": f"#/components/schemas/{name}"},
        }
        for name in sorted(m.__name__ for m in CATALOGUE.values())
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Zpanel events",
            "version": "1",
            "description": "Every event Zpanel publishes on NATS JetStream. Generated from shared/zpanel/events.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": dict(sorted(schemas.items()))},
    }


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    print(render(), end="")
