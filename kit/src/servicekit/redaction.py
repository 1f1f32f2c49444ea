"""Exceptions told without their messages, in logs and in exported spans.

A database error's text quotes the row it refused (PostgreSQL's DETAIL: `Key (person_key)=(…)`),
a validation error's text can quote the input, and either can be personal data. So what leaves
the process says where it failed (the frames) and what failed (the exception's type); the text of
the kit's own errors, written to be safe, is kept.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Sequence
from types import TracebackType

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Status

from servicekit.errors import safe_reason

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
_LEFT_OUT = ("exception.message", "exception.stacktrace")


def safe_traceback(error: BaseException) -> str:
    """The frames of `error` and of the exceptions it came from, each with its type only."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"Traceback (most recent call last):\n{frames}{safe_reason(current)}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "\n\nwhich was raised while handling, or caused by:\n".join(reversed(parts))


class SafeFormatter(logging.Formatter):
    """A log formatter whose tracebacks carry no exception messages."""

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:  # noqa: N802
        _type, error, _tb = ei
        return safe_traceback(error) if error is not None else ""


class RedactingExporter(SpanExporter):
    """Exports spans without exception messages or stack texts (instrumentations record
    them from database and HTTP errors), keeping the exception's type."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([_redacted(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.exporter.force_flush(timeout_millis)


def _redacted(span: ReadableSpan) -> ReadableSpan:
    if span.status.description is None and not any(e.name == "exception" for e in span.events):
        return span
    events = [
        Event(
            event.name,
            {k: v for k, v in (event.attributes or {}).items() if k not in _LEFT_OUT},
            event.timestamp,
        )
        if event.name == "exception"
        else event
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=events,
        links=span.links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
