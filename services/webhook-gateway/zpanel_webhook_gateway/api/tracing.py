"""Whether this process's spans go anywhere, for the webhook hot path.

``zpanel.telemetry`` always installs the SDK's tracer provider; without an exporter (no
``OTEL_EXPORTER_OTLP_ENDPOINT``) or a processor added by a test, every span is built, timed and
dropped — about 15 % of a webhook's CPU in bench/gateway. The webhook route makes its span (and
writes trace headers) only when some processor will receive it.
"""

from __future__ import annotations

from opentelemetry import trace

TRACER = trace.get_tracer("zpanel.webhooks")
"""Made once (``get_tracer`` builds a tracer per call); a proxy until the service installs its provider."""


def traced() -> bool:
    provider = trace.get_tracer_provider()
    # the SDK keeps its processors here; any other provider (or SDK version): assume traced
    processors = getattr(getattr(provider, "_active_span_processor", None), "_span_processors", None)
    return processors is None or bool(processors)
