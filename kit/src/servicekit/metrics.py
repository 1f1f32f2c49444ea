"""Prometheus metrics of the kit. Labels are topics, groups and outcomes: never personal data."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter(
    "kit_messages_consumed_total",
    "Messages taken from Kafka and settled, by outcome",
    ["topic", "group", "outcome"],
)
PUBLISHED = Counter("kit_messages_published_total", "Records the outbox relay published", ["topic"])
FAILED = Counter(
    "kit_handler_failures_total",
    "Handler attempts that raised, before retry or dead-lettering",
    ["topic", "group", "kind"],
)
DEAD_LETTERS = Counter(
    "kit_dead_letters_total", "Messages sent to a dead-letter topic", ["topic", "group"]
)
HANDLER_SECONDS = Histogram(
    "kit_handler_seconds",
    "Time a handler took over the records of its event type that came in a row in a batch",
    ["topic"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
BATCH_SECONDS = Histogram(
    "kit_batch_seconds",
    "Time to handle and commit one consumed batch",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
OUTBOX_BACKLOG = Gauge(
    "kit_outbox_backlog", "Outbox rows not yet published, at the last relay pass"
)
OUTBOX_LAG = Gauge(
    "kit_outbox_lag_seconds",
    "Age of the oldest outbox row not yet published, at the last relay pass (0: none waiting)",
)
OUTBOX_RELAY_LAG = Histogram(
    "kit_outbox_relay_lag_seconds",
    "From an event's write to the outbox to Kafka's acknowledgement of it, per event",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60),
)
OUTBOX_PARKED = Counter(
    "kit_outbox_parked_total",
    "Outbox rows set aside because Kafka can never take them (too large, topic refused)",
    ["topic"],
)
