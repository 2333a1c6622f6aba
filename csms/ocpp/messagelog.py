"""The message log: every frame in and out, buffered in memory and written in batches.

Writing one row per frame on the hot path would double the database writes of every message;
the runtime flushes the buffer every OCPP_MESSAGE_LOG_FLUSH_SECONDS instead.
"""
import logging

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from csms import bulk, metrics, partitions
from csms.models import MessageLogEntry

from . import redaction
from .signals import message_log_written

logger = logging.getLogger(__name__)
_pending = []
MAX_PENDING = 50_000


def _make_room(incoming):
    """The database is not keeping up (or is down): keep the newest frames, not exhaust memory."""
    overflow = len(_pending) + incoming - MAX_PENDING
    if overflow > 0:
        dropped = max(overflow, MAX_PENDING // 10)
        del _pending[:dropped]
        metrics.message_log_dropped.inc(dropped)
        logger.warning("message log buffer full: dropped the oldest %d frames", dropped)


def record(identity, direction, frame, message_type=None, message_id="", action="",
           outcome="", duration_ms=None, connection_id=""):
    metrics.count_frame(direction, message_type, action, outcome, duration_ms)
    _make_room(1)
    if "\x00" in frame:
        frame = frame.replace("\x00", "\\u0000")  # PostgreSQL text cannot hold NUL
    if action in redaction.SECRET_ACTIONS:
        frame = redaction.redact_frame(action, frame)
    _pending.append(MessageLogEntry(
        identity=identity, timestamp=timezone.now(), direction=direction,
        message_type=message_type, message_id=(message_id or "")[:64],
        action=(action or "")[:64], frame=frame, outcome=(outcome or "")[:64],
        duration_ms=duration_ms, connection_id=connection_id,
    ))


def pending_count():
    return len(_pending)


def take_pending():
    global _pending
    batch, _pending = _pending, []
    return batch


def put_back(batch):
    """A batch whose write failed goes back in front of the newer frames, for the next flush;
    the oldest are dropped first when the buffer is full."""
    global _pending
    _pending = batch + _pending
    _make_room(0)


def write(batch):
    """Write a batch; return the frames to write again later (the database is unreachable), or
    none. A frame the database refuses is dropped with a log line rather than retried forever."""
    if not batch:
        return []
    try:
        # All or nothing: a batch that failed halfway and was written again would log frames twice.
        with transaction.atomic():
            _insert(batch)
    except (OperationalError, InterfaceError):
        metrics.database_error("message_log")
        return batch
    except DatabaseError:
        unwritten = _write_each(batch)
        _announce(batch[:len(batch) - len(unwritten)])
        return unwritten
    _announce(batch)
    return []


_COLUMNS = [field for field in MessageLogEntry._meta.concrete_fields if not field.primary_key]


def _insert(entries):
    """One statement for the whole batch whatever its size (`csms.bulk`): the flush of a busy
    process writes thousands of frames, and a VALUES list of that many was parsed anew each time."""
    bulk.insert(MessageLogEntry._meta.db_table, _COLUMNS, [
        [bulk.db_value(field, getattr(entry, field.attname)) for field in _COLUMNS]
        for entry in entries])


def _announce(written):
    if written and message_log_written.has_listeners(MessageLogEntry):
        message_log_written.send_robust(sender=MessageLogEntry,
                                        identities={entry.identity for entry in written})


def _write_each(batch):
    for index, entry in enumerate(batch):
        try:
            with transaction.atomic():
                _insert([entry])
        except (OperationalError, InterfaceError):
            return batch[index:]
        except DatabaseError as error:
            logger.error("message log: dropped a frame of %s the database refused: %s",
                         entry.identity, error)
    return []


def flush():
    """Write what this process holds now (what cannot be written waits for the next flush)."""
    unwritten = write(take_pending())
    if unwritten:
        put_back(unwritten)


def purge(retention_days=None):
    """Frames older than the retention (0: kept forever): whole days dropped on PostgreSQL."""
    days = settings.OCPP_MESSAGE_LOG_RETENTION_DAYS if retention_days is None else retention_days
    return partitions.apply_retention(MessageLogEntry, "timestamp", days)
