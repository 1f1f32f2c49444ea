"""Export the JSON Schema of every event and an AsyncAPI document of the topics.

python -m gonghui_contracts.schema_export DIR          write DIR/*.json and DIR/asyncapi.json
python -m gonghui_contracts.schema_export DIR --check  fail if DIR is not what would be written
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from gonghui_contracts.access import is_partner_family
from gonghui_contracts.envelope import Envelope, EventPayload
from gonghui_contracts.events import ALL_PAYLOADS
from gonghui_contracts.generated import write_or_check
from gonghui_contracts.topics import DLQ_SUFFIX, TOPICS, TopicSpec
from gonghui_contracts.values import PartnerKind

ASYNCAPI_FILE = "asyncapi.json"


def schema_file_name(payload: type[EventPayload]) -> str:
    return f"{payload.EVENT_TYPE}.v{payload.SCHEMA_VERSION}.json"


def event_schema(payload: type[EventPayload]) -> dict[str, Any]:
    schema = Envelope[payload].model_json_schema()  # type: ignore[valid-type]
    schema["title"] = f"{payload.EVENT_TYPE} v{payload.SCHEMA_VERSION}"
    schema["description"] = (payload.__doc__ or payload.EVENT_TYPE).strip()
    schema["properties"]["event_type"]["const"] = payload.EVENT_TYPE
    schema["properties"]["schema_version"]["const"] = payload.SCHEMA_VERSION
    return schema


def _message_name(payload: type[EventPayload]) -> str:
    return f"{payload.EVENT_TYPE}.v{payload.SCHEMA_VERSION}"


def _channel(spec: TopicSpec) -> dict[str, Any]:
    per_partner = is_partner_family(spec)
    address = spec.name + ".{partnerId}" if per_partner else spec.name
    parameters = {
        "partnerId": {
            "description": "The partner's registered id: each partner writes and reads only its "
            "own topic of the family, so the topic, not the payload, says who sent a record"
        }
    }
    return {
        "address": address,
        **({"parameters": parameters} if per_partner else {}),
        "description": spec.description,
        "messages": {
            _message_name(p): {"$ref": f"#/components/messages/{_message_name(p)}"}
            for p in spec.carries
        },
        "bindings": {
            "kafka": {
                "partitions": spec.partitions,
                "topicConfiguration": {
                    "cleanup.policy": [spec.cleanup_policy],
                    "retention.ms": int(spec.retention.total_seconds() * 1000),
                },
            }
        },
        "x-key": spec.key,
        "x-producers": sorted(str(p) for p in spec.producers),
        "x-dead-letter-topic": address + DLQ_SUFFIX,
    }


def asyncapi() -> dict[str, Any]:
    channels = {spec.name: _channel(spec) for spec in TOPICS}
    operations = {}
    for spec in TOPICS:
        action = "send" if any(isinstance(p, PartnerKind) for p in spec.producers) else "receive"
        operations[f"{action}-{spec.name}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{spec.name}"},
            "summary": (
                "Partners publish here"
                if action == "send"
                else "Partners and services read from here"
            ),
        }
    messages = {
        _message_name(p): {
            "name": p.EVENT_TYPE,
            "title": p.__name__,
            "contentType": "application/json",
            "payload": {"$ref": f"./{schema_file_name(p)}"},
            "headers": {
                "type": "object",
                "properties": {
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                    "tracestate": {"type": "string"},
                },
            },
        }
        for p in ALL_PAYLOADS
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "gonghui events",
            "version": "1.0.0",
            "description": (
                "Topics partner agencies publish to and read from, "
                "and the platform's own event streams."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": "kafka:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def rendered() -> dict[str, str]:
    files = {schema_file_name(p): event_schema(p) for p in ALL_PAYLOADS}
    files[ASYNCAPI_FILE] = asyncapi()
    return {
        name: json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        for name, doc in files.items()
    }


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    target, check = Path(argv[0]), "--check" in argv
    files = {target / name: text for name, text in rendered().items()}
    stale = [path.name for path in write_or_check(files, check=check)]
    if stale:
        print(f"out of date, run `make schemas`: {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
