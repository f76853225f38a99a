"""Logs (structlog) and traces (OpenTelemetry), configured once per process.

Logs are JSON when stderr is not a terminal, bound with ``deployment_id``/``app_id``/``server_id``
through contextvars, and every known secret value is masked before a line is rendered.
Traces export over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; the W3C context travels
in NATS headers (``inject``/``extract`` below are what the bus calls).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

from zpanel.secrets import redactor

_configured = False
_exported = False  # True once spans have somewhere to go (an OTLP endpoint, a test's processor)
_tracer: tuple[object, trace.Tracer] | None = None


class _WhenExported(Sampler):
    """Spans are recorded only when something receives them. Unrecorded spans still get their own
    ids and carry the parent's trace id, so the W3C context in NATS headers, the records' trace_id
    and the log lines stay one trace per deployment — without paying for attributes, events and
    an end() nobody reads on every message."""

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Any = None,
        links: Any = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        parent_state = trace.get_current_span(parent_context).get_span_context().trace_state
        if _exported:
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, parent_state)
        return SamplingResult(Decision.DROP, None, parent_state)

    def get_description(self) -> str:
        return "ZpanelWhenExported"


def _redact(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if isinstance(value, str):
            event_dict[key] = redactor(value)
        elif isinstance(value, list | tuple | dict):
            event_dict[key] = redactor(str(value))
    return event_dict


def _trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict.setdefault("trace_id", format(ctx.trace_id, "032x"))
    return event_dict


def configure_logging(service: str, fmt: str = "auto", level: str = "info") -> None:
    json_out = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = structlog.processors.JSONRenderer() if json_out else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _trace_ids,
            structlog.processors.format_exc_info,
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # sys.stderr read per logger, not once: whoever swaps it later (a test's capture) is followed
        logger_factory=lambda *_: structlog.PrintLogger(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    structlog.contextvars.bind_contextvars(service=service)


def configure_tracing(service: str, *processors: SpanProcessor) -> TracerProvider:
    """Install a tracer provider for this process (once). Extra processors (tests) are added to it."""
    global _configured, _exported
    provider = trace.get_tracer_provider()
    if not _configured or not isinstance(provider, TracerProvider):
        provider = TracerProvider(resource=Resource.create({"service.name": service}), sampler=_WhenExported())
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            _exported = True
        trace.set_tracer_provider(provider)
        _configured = True
    for p in processors:
        provider.add_span_processor(p)
        _exported = True
    return provider


def configure(service: str, fmt: str = "auto", level: str = "info") -> None:
    configure_logging(service, fmt, level)
    configure_tracing(service)


def tracer() -> trace.Tracer:
    """This process's tracer, made once per provider (one per message would cost CPU each time)."""
    global _tracer
    provider = trace.get_tracer_provider()
    if _tracer is None or _tracer[0] is not provider:
        _tracer = (provider, trace.get_tracer("zpanel"))
    return _tracer[1]


def inject(headers: dict[str, str]) -> dict[str, str]:
    """Write the current W3C trace context (traceparent, tracestate) into NATS headers."""
    propagate.inject(headers)
    return headers


def extract(headers: Mapping[str, str] | None) -> otel_context.Context:
    return propagate.extract(dict(headers or {}))


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Bind deployment/app/server ids to every log line in this block (and this task)."""
    clean = {k: v for k, v in ids.items() if v}
    with structlog.contextvars.bound_contextvars(**clean):
        yield


def get_logger(**ids: Any) -> Any:
    return structlog.get_logger().bind(**ids)
