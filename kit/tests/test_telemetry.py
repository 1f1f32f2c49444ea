"""The Zipkin exporter survives a collector that drops a kept-alive connection mid-export."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

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
