"""Exceptions leave the process (logs, spans) without their messages."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status, StatusCode

from servicekit import PermanentError
from servicekit.redaction import RedactingExporter, SafeFormatter

SECRET = "440106199001011234"


class Kept(SpanExporter):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans.extend(spans)
        return SpanExportResult.SUCCESS


def fail_twice() -> None:
    try:
        raise KeyError(f"Key (person_key)=({SECRET}) already exists")
    except KeyError as error:
        raise RuntimeError(f"while storing {SECRET}") from error


def test_a_logged_traceback_has_frames_and_types_but_no_messages() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(message)s"))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    try:
        fail_twice()
    except RuntimeError:
        log.exception("it failed")
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "it failed" in written
    assert "fail_twice" in written  # the frames are there
    assert "KeyError" in written
    assert "RuntimeError" in written
    assert SECRET not in written


def test_the_kits_own_error_texts_are_kept() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(SafeFormatter("%(message)s"))
    log = logging.getLogger("test.redaction.own")
    log.addHandler(handler)
    try:
        raise PermanentError("no such hospital in the registry")
    except PermanentError:
        log.exception("refused")
    finally:
        log.removeHandler(handler)
    assert "no such hospital in the registry" in stream.getvalue()


def test_exported_spans_keep_the_exception_type_not_its_message() -> None:
    kept = Kept()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingExporter(kept)))
    with provider.get_tracer("t").start_as_current_span("insert") as span:
        span.record_exception(ValueError(f"Key (k)=({SECRET})"))
        span.set_status(Status(StatusCode.ERROR, f"duplicate {SECRET}"))
    [exported] = kept.spans
    assert exported.status.status_code is StatusCode.ERROR
    assert exported.events[0].attributes is not None
    assert exported.events[0].attributes["exception.type"] == "ValueError"
    assert SECRET not in repr(exported.to_json())
