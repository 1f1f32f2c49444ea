"""OpenTelemetry set-up and the messaging spans the kit creates.

The exporter follows the standard OTEL_TRACES_EXPORTER variable: `zipkin` (local stack),
`otlp` (Kubernetes, via the collector), `console`, or `none`. Trace context crosses Kafka in
W3C `traceparent`/`tracestate` headers. Span attributes never carry personal data: only ids,
topics, partitions, offsets and counts.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from servicekit.redaction import RedactingExporter, SafeFormatter

TRACER_NAME = "servicekit"
_SUPPRESS = context._SUPPRESS_INSTRUMENTATION_KEY

log = logging.getLogger(__name__)


def zipkin_exporter(endpoint: str | None = None) -> SpanExporter:
    """Zipkin's JSON exporter (endpoint from OTEL_EXPORTER_ZIPKIN_ENDPOINT unless given), sending
    a batch again when the collector closed a kept-alive connection just as the batch went out.
    The exporter itself never retries, and a lost batch is a hole in every trace it held."""
    import requests
    from opentelemetry.exporter.zipkin.json import ZipkinExporter
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    # allowed_methods=None: the export is a POST, which urllib3 retries only when told to.
    retry = Retry(total=3, connect=3, read=3, status=0, backoff_factor=0.2, allowed_methods=None)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return ZipkinExporter(endpoint=endpoint, session=session)


def _exporter(name: str) -> SpanExporter | None:
    if name == "zipkin":
        return zipkin_exporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # endpoint from OTEL_EXPORTER_OTLP_ENDPOINT
    if name == "console":
        return ConsoleSpanExporter()
    if name == "none":
        return None
    raise ValueError(f"OTEL_TRACES_EXPORTER={name!r}: expected zipkin, otlp, console or none")


def setup_tracing(service_name: str) -> TracerProvider:
    """A tracer provider for this process, exporting as OTEL_TRACES_EXPORTER says."""
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", service_name)})
    provider = TracerProvider(resource=resource)
    exporter = _exporter(os.environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower())
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(RedactingExporter(exporter)))
    trace.set_tracer_provider(provider)
    return provider


@cache
def tracer() -> trace.Tracer:
    # Looked up once: a lookup per span costs more than the span. Before a tracer provider is
    # set this is a proxy, which follows the provider set later.
    return trace.get_tracer(TRACER_NAME)


def inject(headers: dict[str, str], trace_context: Context | None = None) -> dict[str, str]:
    """Add the trace context (the current one unless given) to `headers` (W3C traceparent)
    and return them."""
    propagate.inject(headers, context=trace_context)
    return headers


_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_INVALID_TRACE, _INVALID_SPAN = "0" * 32, "0" * 16
# With the default propagators (W3C trace context and baggage), a lone traceparent is read
# here: the propagator's own parsing looks its pattern up in re's cache on every call, which
# made a tenth of a busy consumer's CPU. Anything else goes to the configured propagators.
_PARSE_TRACEPARENT = "OTEL_PROPAGATORS" not in os.environ


def extract(headers: Mapping[str, str]) -> Context:
    """The trace context carried by `headers` (an empty context if none)."""
    found = _lone_traceparent(headers)
    if found is None:
        return propagate.extract(headers)
    trace_id, span_id, flags = found
    parent = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(flags, 16)),
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(parent))


def _lone_traceparent(headers: Mapping[str, str]) -> tuple[str, ...] | None:
    """Trace id, span id and flags of a valid traceparent that is all the headers carry of a
    context, as the default propagators would read it; None for anything else."""
    traceparent = headers.get("traceparent")
    if (
        not _PARSE_TRACEPARENT
        or traceparent is None
        or "tracestate" in headers
        or "baggage" in headers
        or not (found := _TRACEPARENT.fullmatch(traceparent))
        or found[1] == _INVALID_TRACE
        or found[2] == _INVALID_SPAN
    ):
        return None
    return found.groups()


def decode_headers(raw: Any) -> dict[str, str]:
    """Kafka headers (a sequence of (name, bytes)) as a dict of strings."""
    return {
        name: value.decode("utf-8", "replace") for name, value in raw or () if value is not None
    }


def messaging_attributes(
    operation: str, topic: str, *, message_id: str | None = None, extra: Mapping[str, Any] = {}
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "messaging.system": "kafka",
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
        "messaging.destination.name": topic,
    }
    if message_id:
        attributes["messaging.message.id"] = message_id
    attributes.update({k: v for k, v in extra.items() if v is not None})
    return attributes


def unsampled(headers: Mapping[str, str]) -> bool:
    """True when `headers` carry a lone traceparent of a valid trace that was not sampled and
    sampling follows the parent: nothing under it would be recorded, so its context need not
    even be read (the headers carry the trace on unchanged)."""
    found = _lone_traceparent(headers)
    return found is not None and not int(found[2], 16) & 1 and _follows_the_parent()


def _follows_the_parent() -> bool:
    return isinstance(getattr(trace.get_tracer_provider(), "sampler", None), ParentBased)


def records_nothing(parent: Context) -> bool:
    """True when `parent` holds a valid span that was not sampled and sampling follows the
    parent (the SDK's default, and the platform's setting): a span under it would record
    nothing, so it need not be made; the parent's context carries the trace on unchanged."""
    span_context = trace.get_current_span(parent).get_span_context()
    if not span_context.is_valid or span_context.trace_flags.sampled:
        return False
    return _follows_the_parent()


def start_process_span(
    topic: str, parent: Context, *, group: str, partition: int, offset: int
) -> trace.Span:
    """A CONSUMER span for handling one message, continuing the producer's trace (`parent`,
    extracted from the record's headers); the caller ends it."""
    if records_nothing(parent):
        return trace.NonRecordingSpan(trace.get_current_span(parent).get_span_context())
    attributes = messaging_attributes(
        "process",
        topic,
        extra={
            "messaging.consumer.group.name": group,
            "messaging.destination.partition.id": str(partition),
            "messaging.kafka.offset": offset,
        },
    )
    return tracer().start_span(
        f"process {topic}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes
    )


@contextmanager
def child_span(
    name: str,
    parent: Context,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[trace.Span]:
    """A span under `parent`, current while it lasts (whatever context was current before);
    where it would record nothing, the parent's own span stands in for it."""
    with attached(parent):
        if records_nothing(parent):
            yield trace.get_current_span(parent)
            return
        with tracer().start_as_current_span(name, kind=kind, attributes=attributes) as span:
            yield span


@contextmanager
def batch_span(
    name: str,
    causes: Iterable[Context],
    attributes: Mapping[str, Any] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> Iterator[trace.Span]:
    """A span of its own for work done once for many records (a handler's batch, one Redis
    round trip for a batch), linked to each sampled cause; what is instrumented under it is
    recorded, whatever quiet context was current."""
    with (
        attached(Context()),
        tracer().start_as_current_span(
            name, kind=kind, links=links_to(causes), attributes=attributes
        ) as span,
    ):
        yield span


@contextmanager
def attached(trace_context: Context) -> Iterator[None]:
    """Run with `trace_context` as the current context."""
    token = context.attach(trace_context)
    try:
        yield
    finally:
        context.detach(token)


def start_send_span(topic: str, parent: Context, message_id: str) -> trace.Span | None:
    """A PRODUCER span for one record, child of the context stored with it; None where it
    would record nothing (the stored context then goes out as it is)."""
    if records_nothing(parent):
        return None
    return tracer().start_span(
        f"send {topic}",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes=messaging_attributes("send", topic, message_id=message_id),
    )


def headers_for(span: trace.Span | None, headers: Mapping[str, str]) -> dict[str, str]:
    """`headers` with the trace context of `span`, ready to send."""
    carried = dict(headers)
    if span is not None:
        propagate.inject(carried, context=trace.set_span_in_context(span))
    return carried


def record_error(span: trace.Span, error: BaseException) -> None:
    # The exception type only: messages can quote the input, and the input can be personal data.
    span.set_status(Status(StatusCode.ERROR, type(error).__name__))
    span.set_attribute("error.type", type(error).__qualname__)


def links_to(contexts: Iterable[Context]) -> list[Link]:
    """Links to the sampled spans of `contexts` (a link to an unsampled one leads nowhere)."""
    links = []
    for trace_context in contexts:
        span_context = trace.get_current_span(trace_context).get_span_context()
        if span_context.is_valid and span_context.trace_flags.sampled:
            links.append(Link(span_context))
    return links


@contextmanager
def continued(
    stored: Mapping[str, str], name: str, attributes: Mapping[str, Any] = {}
) -> Iterator[trace.Span]:
    """A span in the trace whose context was `stored` (say, with a case when it was opened),
    with a link to the current span: a later step of a long-running flow (a deadline, an HTTP
    request about the case) stays in the flow's trace and points to what set it off."""
    current = trace.get_current_span().get_span_context()
    links = [Link(current)] if current.is_valid else []
    token = context.attach(extract(stored))  # replaces a job's quiet context as well
    try:
        with tracer().start_as_current_span(name, links=links, attributes=attributes) as span:
            yield span
    finally:
        context.detach(token)


@contextmanager
def quiet() -> Iterator[None]:
    """Run without instrumentation spans (the relay's polling would flood the trace store)."""
    token = context.attach(context.set_value(_SUPPRESS, True))
    try:
        yield
    finally:
        context.detach(token)


class TraceIdFilter(logging.Filter):
    """Adds trace_id/span_id to every log record, so logs and traces can be joined."""

    def filter(self, record: logging.LogRecord) -> bool:
        span_context = trace.get_current_span().get_span_context()
        record.trace_id = format(span_context.trace_id, "032x") if span_context.is_valid else "-"
        record.span_id = format(span_context.span_id, "016x") if span_context.is_valid else "-"
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(TraceIdFilter())
    handler.setFormatter(
        SafeFormatter(
            "%(asctime)s %(levelname)s %(name)s trace=%(trace_id)s span=%(span_id)s %(message)s"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", level).upper())
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
