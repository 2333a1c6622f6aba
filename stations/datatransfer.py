"""DataTransfer from stations (both versions): vendor handlers keyed by vendorId (+ messageId).

Vendor modules listed in OCPP_DATA_TRANSFER_MODULES register with `@vendor_handler(...)`.
"""
import importlib
import inspect
import logging

from django.conf import settings

from csms.ocpp.sessiondb import database_sync_to_async

from .actions import datatransfer as exchanges

logger = logging.getLogger(__name__)

_handlers = {}  # (vendor_id, message_id or None for any) -> (handler, is_async)
_loaded = False


def vendor_handler(vendor_id, message_id=None):
    """Register handler(session, message_id, data) -> answer payload ({"status": ..., ...}) for
    one vendor's messageId, or for every message of the vendor when message_id is None. A plain
    function runs on a database thread; an `async def` on the event loop."""

    def decorator(function):
        key = (vendor_id, message_id)
        if key in _handlers:
            raise ValueError(f"A DataTransfer handler for {key} is already registered")
        _handlers[key] = (function, inspect.iscoroutinefunction(function))
        return function

    return decorator


def load_vendor_modules():
    global _loaded
    if not _loaded:
        for module in settings.OCPP_DATA_TRANSFER_MODULES:
            importlib.import_module(module)
        _loaded = True


def find(vendor_id, message_id):
    """(handler, is_async), or the status answering a transfer nobody handles (BRIEF §8)."""
    load_vendor_modules()
    registered = _handlers.get((vendor_id, message_id)) or _handlers.get((vendor_id, None))
    if registered is not None:
        return registered, None
    if any(key[0] == vendor_id for key in _handlers):
        return None, "UnknownMessageId"
    return None, "UnknownVendorId"


async def answer(session, payload):
    """The answer to a station's DataTransfer, recorded with it (one insert; a plain handler and
    the insert share one trip to the database thread)."""
    message_id = payload.get("messageId")
    registered, status = find(payload["vendorId"], message_id)
    if registered is None:
        result = {"status": status}
        await database_sync_to_async(_record)(session, payload, result)
        return result
    handler, is_async = registered
    if is_async:
        try:
            result = await handler(session, message_id, payload.get("data"))
        except Exception:
            await database_sync_to_async(_record)(session, payload, {"status": "InternalError"})
            raise
        await database_sync_to_async(_record)(session, payload, result)
        return result
    return await database_sync_to_async(_answer_and_record)(session, payload, handler, message_id)


def _answer_and_record(session, payload, handler, message_id):
    try:
        result = handler(session, message_id, payload.get("data"))
    except Exception:
        _record(session, payload, {"status": "InternalError"})
        raise
    _record(session, payload, result)
    return result


def _record(session, payload, result):
    if session.station_pk is None:
        return
    try:
        exchanges.record_inbound(session.station_pk, payload, result if isinstance(result, dict) else {})
    except Exception:
        # The station's answer must not depend on the record: log and answer anyway.
        logger.exception("DataTransfer from %s not recorded", session.identity)
