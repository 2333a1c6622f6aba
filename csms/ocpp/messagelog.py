"""The message log: every frame in and out, buffered in memory and written in batches.

Writing one row per frame on the hot path would double the database writes of every message;
the runtime flushes the buffer every OCPP_MESSAGE_LOG_FLUSH_SECONDS instead.
"""
import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from csms.models import MessageLogEntry

logger = logging.getLogger(__name__)
_pending = []
MAX_PENDING = 50_000


def record(identity, direction, frame, message_type=None, message_id="", action="",
           outcome="", duration_ms=None, connection_id=""):
    if len(_pending) >= MAX_PENDING:
        # The database is not keeping up; keep the newest frames rather than exhaust memory.
        del _pending[: MAX_PENDING // 10]
        logger.warning("message log buffer full: dropped the oldest %d frames", MAX_PENDING // 10)
    _pending.append(MessageLogEntry(
        identity=identity, timestamp=timezone.now(), direction=direction,
        message_type=message_type, message_id=(message_id or "")[:64], action=action or "",
        frame=frame, outcome=outcome, duration_ms=duration_ms, connection_id=connection_id,
    ))


def take_pending():
    global _pending
    batch, _pending = _pending, []
    return batch


def write(batch):
    if batch:
        MessageLogEntry.objects.bulk_create(batch, batch_size=500)


def flush():
    write(take_pending())


def purge(retention_days=None):
    days = settings.OCPP_MESSAGE_LOG_RETENTION_DAYS if retention_days is None else retention_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = MessageLogEntry.objects.filter(timestamp__lt=cutoff).delete()
    return deleted
