"""DataTransfer from stations (both versions): vendor handlers keyed by vendorId (+ messageId).

Vendor modules listed in OCPP_DATA_TRANSFER_MODULES register with `@vendor_handler(...)`.
"""
import importlib
import inspect
import logging

from django.conf import settings

from csms.ocpp.sessiondb import database_sync_to_async

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
    message_id = payload.get("messageId")
    registered, status = find(payload["vendorId"], message_id)
    if registered is None:
        return {"status": status}
    handler, is_async = registered
    if is_async:
        return await handler(session, message_id, payload.get("data"))
    return await database_sync_to_async(handler)(session, message_id, payload.get("data"))
