"""The committed JSON Schemas are the public API: they must be current and only grow compatibly."""

import json
from pathlib import Path

import pytest

from gonghui_contracts.compat import breaking_changes
from gonghui_contracts.envelope import EventPayload
from gonghui_contracts.events import ALL_PAYLOADS
from gonghui_contracts.schema_export import event_schema, main, schema_file_name
from gonghui_contracts.topics import TOPICS

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
COMMITTED = sorted(p for p in SCHEMAS.glob("*.v*.json"))


def test_committed_schemas_are_what_the_models_export() -> None:
    assert main([str(SCHEMAS), "--check"]) == 0, "run `make schemas` and commit the result"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
def test_no_committed_schema_changed_incompatibly(path: Path) -> None:
    current = {schema_file_name(p): p for p in ALL_PAYLOADS}
    assert path.name in current, f"{path.name} was removed: keep the old version's model"
    assert breaking_changes(json.loads(path.read_text()), event_schema(current[path.name])) == []


def test_every_event_has_a_committed_schema() -> None:
    assert {schema_file_name(p) for p in ALL_PAYLOADS} <= {p.name for p in COMMITTED}


def test_every_event_travels_on_exactly_one_topic() -> None:
    for payload in ALL_PAYLOADS:
        assert sum(payload in spec.carries for spec in TOPICS) == 1, payload.EVENT_TYPE


def test_partner_topics_refuse_unknown_fields() -> None:
    for spec in TOPICS:
        if spec.partner_facing:
            for payload in spec.carries:
                assert payload.model_config.get("extra") == "forbid", payload.EVENT_TYPE


def test_topic_names_are_versioned() -> None:
    for spec in TOPICS:
        assert spec.name.rsplit(".", 1)[-1].startswith("v"), spec.name


OLD = {
    "type": "object",
    "properties": {
        "a": {"type": "string"},
        "b": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "kind": {"$ref": "#/$defs/Kind"},
    },
    "required": ["a"],
    "$defs": {"Kind": {"enum": ["x", "y"], "type": "string"}},
}


def with_changes(**changes: object) -> dict[str, object]:
    schema = json.loads(json.dumps(OLD))
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = schema
        for part in parents:
            node = node[part]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return schema


def test_an_added_optional_property_is_compatible() -> None:
    assert breaking_changes(OLD, with_changes(properties__c={"type": "string"})) == []


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        (with_changes(properties__b=None), "b: removed"),
        (with_changes(properties__a={"type": "integer"}), "a: type changed"),
        (with_changes(properties__c={"type": "string"}, required=["a", "c"]), "c: new required"),
        (
            with_changes(**{"$defs__Kind": {"enum": ["x"], "type": "string"}}),
            "kind: values removed",
        ),
    ],
)
def test_breaking_changes_are_found(new: dict[str, object], problem: str) -> None:
    assert any(problem in found for found in breaking_changes(OLD, new))


def test_payload_classes_declare_their_event_type() -> None:
    assert all(issubclass(p, EventPayload) and p.EVENT_TYPE for p in ALL_PAYLOADS)


def test_dead_letters_of_personal_data_outlive_no_source_topic() -> None:
    for spec in TOPICS:
        carries_personal_data = any(
            "x-personal-data" in json.dumps(event_schema(payload)) for payload in spec.carries
        )
        assert spec.personal_data == carries_personal_data, spec.name
        if spec.personal_data:
            retention_ms = int(spec.dlq_config()["retention.ms"])
            assert retention_ms <= spec.retention.total_seconds() * 1000, spec.name
