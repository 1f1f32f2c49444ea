"""gonghui's public event contracts: what partners and services publish to Kafka."""

from gonghui_contracts.envelope import (
    Catalog,
    ContractViolation,
    Envelope,
    EnvelopeHead,
    EventPayload,
    RawEnvelope,
    RejectionReason,
    describe,
    new_event_id,
)
from gonghui_contracts.events import CATALOG
from gonghui_contracts.topics import TOPICS, TopicSpec, topic, topic_for

__all__ = [
    "CATALOG",
    "TOPICS",
    "Catalog",
    "ContractViolation",
    "Envelope",
    "EnvelopeHead",
    "EventPayload",
    "RawEnvelope",
    "RejectionReason",
    "TopicSpec",
    "describe",
    "new_event_id",
    "topic",
    "topic_for",
]
