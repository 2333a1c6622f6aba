"""Outbound DataTransfer (both versions): vendorId, messageId and data (any JSON on 2.0.1, a
string on 1.6); the exchange is recorded with the call and settled by its outcome."""
from django.db import transaction as db_transaction

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16

from ..actions import datatransfer as actions
from . import _version


def data_transfer(station, vendor_id, message_id="", data=None, source=""):
    """Send a DataTransfer: (exchange, command). Raises InvalidCommand (every reason) before
    anything is recorded, StationNotReady for a station that never connected."""
    version = _version(station)
    payload = {"vendorId": vendor_id}
    if message_id:
        payload["messageId"] = message_id
    if data is not None:
        if version == OCPP16 and not isinstance(data, str):
            raise outbound.InvalidCommand(["OCPP 1.6 DataTransfer data is a string: encode "
                                           "structured data yourself (e.g. as JSON text)"])
        payload["data"] = data
    outbound.check_request(version, "DataTransfer", payload)
    with db_transaction.atomic():
        exchange = actions.create_outbound(station, vendor_id, message_id, data, source)
        command = outbound.send_call(station.identity, version, "DataTransfer", payload,
                                     source=source)
        actions.attach_command(exchange, command)
    command.refresh_from_db()  # on the embedded default the answer may already be in
    exchange.refresh_from_db()
    return exchange, command
