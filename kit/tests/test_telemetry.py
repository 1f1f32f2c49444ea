"""The Zipkin exporter survives a collector that drops a kept-alive connection mid-export."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, Sampler

from servicekit import telemetry


class Collector(BaseHTTPRequestHandler):
    """Hangs up without an answer on the first POST it reads, as a collector closing an idle
    connection at the moment a batch arrives; accepts every later one."""

    received: ClassVar[list[list[dict[str, object]]]] = []
    hung_up: ClassVar[int] = 0

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Collector.hung_up == 0:
            Collector.hung_up += 1
            self.close_connection = True
            return
        Collector.received.append(body)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    Collector.received, Collector.hung_up = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/spans"
    server.shutdown()
    server.server_close()


def test_a_batch_the_collector_hung_up_on_is_sent_again(collector: str) -> None:
    span = TracerProvider().get_tracer("test").start_span("process legal.cases.v1")
    span.end()

    result = telemetry.zipkin_exporter(collector).export([span])  # type: ignore[list-item]

    assert result is SpanExportResult.SUCCESS
    assert Collector.hung_up == 1
    assert [[s["name"] for s in batch] for batch in Collector.received] == [
        ["process legal.cases.v1"]
    ]


@pytest.mark.parametrize(
    ("sampler", "flags", "nothing"),
    [
        (ParentBased(ALWAYS_ON), "00", True),  # a parent not sampled: nothing to record below it
        (ParentBased(ALWAYS_ON), "01", False),
        (ALWAYS_ON, "00", False),  # sampling that ignores the parent decides for itself
    ],
)
def test_no_span_is_made_where_the_parent_based_sampler_would_record_nothing(
    monkeypatch: pytest.MonkeyPatch, sampler: Sampler, flags: str, nothing: bool
) -> None:
    provider = TracerProvider(sampler=sampler)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    monkeypatch.setattr(telemetry, "tracer", lambda: provider.get_tracer("test"))
    trace_id, span_id = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    parent = telemetry.extract({"traceparent": f"00-{trace_id}-{span_id}-{flags}"})
    assert telemetry.records_nothing(parent) is nothing
    assert telemetry.unsampled({"traceparent": f"00-{trace_id}-{span_id}-{flags}"}) is nothing
    assert not telemetry.records_nothing(telemetry.extract({}))  # a root: the sampler decides
    span = telemetry.start_process_span("t", parent, group="g", partition=0, offset=1)
    carried = telemetry.inject({}, trace.set_span_in_context(span))["traceparent"]
    assert carried.split("-")[1] == trace_id  # the trace goes on either way
    assert (carried.split("-")[2] == span_id) is nothing  # the parent's own span, or a new one
    assert (telemetry.start_send_span("t", parent, "m") is None) is nothing


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", "x": "y"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03"},
        {"traceparent": "00-00000000000000000000000000000000-b7ad6b7169203331-01"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"},
        {"traceparent": "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"},
        {"traceparent": "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"},
        {"traceparent": "garbage"},
        {
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "tracestate": "vendor=1",
        },
        {},
    ],
)
def test_the_trace_context_is_read_as_the_propagators_read_it(
    monkeypatch: pytest.MonkeyPatch, headers: dict[str, str]
) -> None:
    from opentelemetry import propagate

    provider = TracerProvider(sampler=ParentBased(ALWAYS_ON))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    ours = trace.get_current_span(telemetry.extract(headers)).get_span_context()
    theirs = trace.get_current_span(propagate.extract(headers)).get_span_context()
    assert ours == theirs
    assert ours.trace_state == theirs.trace_state
    # left unread only where the propagators find a valid trace not sampled, and nothing else
    assert telemetry.unsampled(headers) is (
        theirs.is_valid and not theirs.trace_flags.sampled and not theirs.trace_state
    )
