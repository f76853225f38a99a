"""Idempotent creation of streams and KV buckets from the catalogue in ``zpanel.subjects``."""

from __future__ import annotations

import nats.js
import nats.js.errors
from nats.js import api

from zpanel.settings import Settings
from zpanel.subjects import BUCKETS

RETENTION = {
    "limits": api.RetentionPolicy.LIMITS,
    "workqueue": api.RetentionPolicy.WORK_QUEUE,
    "interest": api.RetentionPolicy.INTEREST,
}


async def ensure(js: nats.js.JetStreamContext, settings: Settings) -> None:
    replicas = settings.stream_replicas
    for spec in settings.catalogue.streams:
        config = api.StreamConfig(
            name=spec.name,
            description=spec.description,
            subjects=list(spec.subjects),
            retention=RETENTION[spec.retention],
            max_age=spec.max_age.total_seconds() or None,
            duplicate_window=spec.duplicate_window.total_seconds(),
            max_msgs_per_subject=spec.max_msgs_per_subject,
            num_replicas=replicas,
            storage=api.StorageType.FILE,
            allow_msg_schedules=spec.allow_msg_schedules or None,
            allow_msg_ttl=spec.allow_msg_schedules or None,
            allow_direct=True,
        )
        try:
            await js.stream_info(spec.name)
        except nats.js.errors.NotFoundError:
            await js.add_stream(config)
        else:
            await js.update_stream(config)
    for bucket in BUCKETS:
        try:
            # one stream info per bucket: ``js.key_value`` would ask for it, then _direct_reads again
            info = await js.stream_info(f"KV_{bucket.name}")
        except nats.js.errors.NotFoundError:
            await js.create_key_value(
                bucket=bucket.name,
                description=bucket.description,
                history=bucket.history,
                ttl=bucket.ttl.total_seconds() or None,
                replicas=replicas,
                direct=replicas == 1,
            )
        else:
            if info.config.max_msgs_per_subject < 1:  # what ``js.key_value`` refuses too
                raise nats.js.errors.BadBucketError
            await _direct_reads(js, info.config)


async def _direct_reads(js: nats.js.JetStreamContext, config: api.StreamConfig) -> None:
    """KV reads go straight to the stream (``$JS.API.DIRECT.GET``) on a single replica.

    A direct get is answered with the raw message; the ``STREAM.MSG.GET`` API wraps it in JSON with
    base64 payload and headers, which nats-py parses with the ``email`` package: ~3x the CPU per read,
    and the gateway's projection reads one record per pipeline event. With replicas every replica
    answers direct gets, followers possibly behind the leader, and a stage that reads a deployment
    record just written would see it missing: replicated buckets keep leader reads.
    """
    direct = config.num_replicas == 1
    if bool(config.allow_direct) != direct:
        config.allow_direct = direct
        await js.update_stream(config)
