"""The envelope every event travels in, and how raw Kafka values become typed events.

Trace context is not here: it rides in the Kafka headers (W3C traceparent).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Generic, Literal, Self, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from uuid_utils.compat import uuid7

SenderFields = Mapping[str, Literal["partner_id", "kind"]]
STRICT = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
TOLERANT = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)


def new_event_id() -> UUID:
    """A unique, time-ordered id (UUIDv7)."""
    return uuid7()


class EventPayload(BaseModel):
    """The body of one kind of event. Subclasses set EVENT_TYPE and SCHEMA_VERSION.

    Events between the platform's services tolerate unknown fields, so a producer may add an
    optional field before its consumers know it. Partner-published payloads use STRICT instead.
    """

    model_config = TOLERANT
    EVENT_TYPE: ClassVar[str]
    SCHEMA_VERSION: ClassVar[int] = 1
    # A partner's payload: the fields that name its sender, each to be the id or the kind of the
    # partner whose own topic carried it; a payload naming another partner is rejected.
    SENDER_FIELDS: ClassVar[SenderFields] = {}


P = TypeVar("P", bound=EventPayload)


class EnvelopeHead(BaseModel):
    """Every envelope field but the payload: enough to route, deduplicate and trace."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    event_id: UUID = Field(description="Unique, time-ordered (UUIDv7)")
    event_type: str = Field(min_length=1, max_length=120, examples=["membership.member-joined"])
    schema_version: int = Field(ge=1, description="Version of the payload schema for event_type")
    occurred_at: AwareDatetime = Field(description="When it happened, with a timezone")
    producer: str = Field(
        min_length=1, max_length=120, description="Service or partner that produced it"
    )
    correlation_id: UUID = Field(description="Shared by every event of one business flow")
    causation_id: UUID | None = Field(
        default=None, description="event_id of the event that caused this one"
    )
    key: str = Field(
        min_length=1, max_length=200, description="Business key; the Kafka message key"
    )


class Envelope(EnvelopeHead, Generic[P]):
    data: P

    @model_validator(mode="after")
    def _type_matches_payload(self) -> Self:
        payload_type = type(self.data)
        if getattr(payload_type, "EVENT_TYPE", None) not in (None, self.event_type):
            raise ValueError(f"event_type {self.event_type!r} does not match the payload")
        return self

    @classmethod
    def wrap(
        cls,
        payload: P,
        *,
        key: str,
        producer: str,
        cause: EnvelopeHead | None = None,
        occurred_at: datetime | None = None,
    ) -> Envelope[P]:
        """A new event carrying `payload`; `cause` (the event being handled) links the flow."""
        event_id = new_event_id()
        return envelope_type(type(payload))(
            event_id=event_id,
            event_type=payload.EVENT_TYPE,
            schema_version=payload.SCHEMA_VERSION,
            occurred_at=occurred_at or datetime.now(UTC),
            producer=producer,
            correlation_id=cause.correlation_id if cause else event_id,
            causation_id=cause.event_id if cause else None,
            key=key,
            data=payload,
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()


class RawEnvelope(EnvelopeHead):
    """A valid envelope whose payload has not been validated yet."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)
    data: dict[str, Any]

    def references(self, *names: str, max_length: int = 64) -> dict[str, str]:
        """The submitter's own references (`names`) from the payload, where they are usable
        strings: an answer to an invalid request can still name what it answers."""
        return {
            name: value
            for name in names
            if isinstance(value := self.data.get(name), str) and 0 < len(value) <= max_length
        }


class RejectionReason(BaseModel):
    """Why a partner's request was refused: the field and the rule, never the value."""

    model_config = TOLERANT
    field: str = Field(description="Dotted path of the offending field in the request")
    rule: str = Field(description="The rule it breaks")


@cache
def envelope_type(payload: type[P]) -> type[Envelope[P]]:
    """Envelope[payload], made once: pydantic builds a class for each parametrisation."""
    return Envelope[payload]  # type: ignore[valid-type]


class ContractViolation(ValueError):
    """A message that is not a valid event of the contracts; `errors` name field and rule."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors

    def reasons(self) -> list[RejectionReason]:
        """The errors as rejection reasons, fields named inside the payload."""
        reasons = []
        for error in self.errors:
            field, _, rule = error.partition(": ")
            reasons.append(RejectionReason(field=field.removeprefix("data."), rule=rule or field))
        return reasons


MAX_PROBLEMS = 20
MAX_FIELD_CHARS = 200
MAX_RULE_CHARS = 300


def describe(error: ValidationError, prefix: str = "") -> list[str]:
    """`field.path: rule` for each error, never the offending value (it may be personal data).

    Bounded, so that no answer can outgrow the broker: the first MAX_PROBLEMS problems, each
    cut to a few hundred characters, then one line with how many more there were."""
    items = error.errors(include_input=False, include_url=False)
    described = []
    for item in items[:MAX_PROBLEMS]:
        where = ".".join(str(part) for part in item["loc"]) or "(message)"
        described.append(f"{prefix}{where[:MAX_FIELD_CHARS]}: {item['msg'][:MAX_RULE_CHARS]}")
    if len(items) > MAX_PROBLEMS:
        described.append(f"(message): and {len(items) - MAX_PROBLEMS} more problems")
    return described


class Catalog:
    """Which payload class parses each (event_type, schema_version)."""

    def __init__(self, payloads: list[type[EventPayload]]) -> None:
        self._by_type = {(p.EVENT_TYPE, p.SCHEMA_VERSION): p for p in payloads}
        if len(self._by_type) != len(payloads):
            raise ValueError("two payload classes share an event type and version")

    def __iter__(self) -> Any:
        return iter(self._by_type.values())

    def payload_type(self, event_type: str, version: int) -> type[EventPayload]:
        try:
            return self._by_type[(event_type, version)]
        except KeyError:
            raise ContractViolation(
                [f"event_type: unknown event {event_type!r} version {version}"]
            ) from None

    def head(self, raw: bytes) -> RawEnvelope:
        """The envelope with its payload unchecked; raises ContractViolation."""
        try:
            return RawEnvelope.model_validate_json(raw)
        except ValidationError as error:
            raise ContractViolation(describe(error)) from None

    def decode(self, raw: bytes, head: RawEnvelope | None = None) -> Envelope[EventPayload]:
        """A typed event from a Kafka value; raises ContractViolation naming field and rule.
        `head`, if the caller parsed it already, saves parsing the envelope twice."""
        head = head or self.head(raw)
        payload_type = self.payload_type(head.event_type, head.schema_version)
        try:
            return envelope_type(payload_type).model_validate_json(raw)
        except ValidationError as error:
            raise ContractViolation(describe(error)) from None
