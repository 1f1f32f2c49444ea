import json
import uuid
from datetime import date

import pytest

from gonghui_contracts import CATALOG, ContractViolation, Envelope
from gonghui_contracts.envelope import MAX_PROBLEMS
from gonghui_contracts.events import JoinRequested, MemberLeft

VALID_REQUEST = {
    "request_ref": "sf-2024-0001",
    "partner_id": "sf-express-guangzhou",
    "channel": "partner_batch",
    "name": "李四",
    "resident_id": "11010519491231002X",
    "phone": "13800138000",
    "region_code": "440111",
    "industry": "express_delivery",
}


def left() -> MemberLeft:
    return MemberLeft(
        member_id=uuid.uuid4(), union_id="u", reason="moved", left_on=date(2026, 1, 1)
    )


def test_wrap_sets_type_version_and_a_new_flow() -> None:
    event = Envelope.wrap(left(), key="m1", producer="membership")
    assert (event.event_type, event.schema_version) == ("membership.member-left", 1)
    assert event.correlation_id == event.event_id
    assert event.causation_id is None
    assert event.occurred_at.tzinfo is not None


def test_an_event_caused_by_another_continues_its_flow() -> None:
    cause = Envelope.wrap(left(), key="m1", producer="membership")
    effect = Envelope.wrap(left(), key="m1", producer="aid", cause=cause)
    assert effect.correlation_id == cause.correlation_id
    assert effect.causation_id == cause.event_id
    assert effect.event_id != cause.event_id
    assert effect.event_id > cause.event_id  # UUIDv7: time-ordered


def test_decode_round_trips_to_the_typed_payload() -> None:
    event = Envelope.wrap(left(), key="m1", producer="membership")
    decoded = CATALOG.decode(event.to_bytes())
    assert isinstance(decoded.data, MemberLeft)
    assert decoded == event


def raw(data: dict[str, object], **envelope: object) -> bytes:
    base = json.loads(Envelope.wrap(left(), key="k", producer="p").to_bytes())
    base.update({"event_type": "membership.join-requested", "data": data, **envelope})
    return json.dumps(base).encode()


def test_a_valid_partner_request_decodes() -> None:
    decoded = CATALOG.decode(raw(VALID_REQUEST))
    assert isinstance(decoded.data, JoinRequested)


def test_payload_errors_name_field_and_rule_but_not_the_value() -> None:
    bad = {**VALID_REQUEST, "resident_id": "110105194912310021", "phone": "123", "extra": 1}
    with pytest.raises(ContractViolation) as caught:
        CATALOG.decode(raw(bad))
    errors = caught.value.errors
    assert any(e.startswith("data.resident_id: ") and "check character" in e for e in errors)
    assert any(e.startswith("data.phone: ") for e in errors)
    assert any(e.startswith("data.extra: ") for e in errors)  # partners may not send unknown fields
    assert "110105194912310021" not in str(caught.value)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"event_type": "membership.unknown"}, "event_type"),
        ({"schema_version": 9}, "event_type"),
        ({"event_id": None}, "event_id"),
        ({"occurred_at": "2026-01-01T00:00:00"}, "occurred_at"),  # no timezone
    ],
)
def test_envelope_errors_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ContractViolation) as caught:
        CATALOG.decode(raw(VALID_REQUEST, **change))
    assert any(e.startswith(field) for e in caught.value.errors)


def test_not_json_is_a_contract_violation() -> None:
    with pytest.raises(ContractViolation):
        CATALOG.decode(b"{not json")


def test_a_request_with_thousands_of_problems_is_answered_with_a_bounded_list() -> None:
    flood = {**VALID_REQUEST, **{f"extra_{n:05d}_{'x' * 500}": n for n in range(20_000)}}
    with pytest.raises(ContractViolation) as caught:
        CATALOG.decode(raw(flood))
    reasons = caught.value.reasons()
    assert len(reasons) == MAX_PROBLEMS + 1
    assert reasons[-1].rule == f"and {20_000 - MAX_PROBLEMS} more problems"
    assert all(len(r.field) <= 200 for r in reasons)
    assert len(str(caught.value)) < 20_000


def test_deep_nesting_is_a_contract_violation_not_a_crash() -> None:
    nested = b'"nested": ' + b"[" * 50_000 + b"]" * 50_000 + b', "channel"'
    deep = raw(VALID_REQUEST).replace(b'"channel"', nested, 1)
    with pytest.raises(ContractViolation):
        CATALOG.decode(deep)


@pytest.mark.parametrize(
    "name", ["\u202eevil", "nul\x00", "line\nbreak", "   ", "x" * 51, "a\u2066b\u2069"]
)
def test_names_that_would_not_display_as_written_are_refused(name: str) -> None:
    with pytest.raises(ContractViolation) as caught:
        CATALOG.decode(raw({**VALID_REQUEST, "name": name}))
    assert any(e.startswith("data.name: ") for e in caught.value.errors)


def test_names_are_nfc_normalised() -> None:
    decoded = CATALOG.decode(raw({**VALID_REQUEST, "name": " Zoe\u0301 "}))
    assert decoded.data.name == "Zoé"
