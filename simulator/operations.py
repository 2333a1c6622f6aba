"""DataTransfer both ways, 2.0.1 GetTransactionStatus and SetNetworkProfile on a simulated station."""

import json

# The simulator's own vendor extension: vendorId -> messageId -> answer(data). A messageId of
# None is a DataTransfer without one.
VENDOR_ID = "SimCharge"


def echo(data):
    return {"status": "Accepted", "data": data} if data is not None else {"status": "Accepted"}


def station_info(data):
    return {"status": "Accepted", "data": json.dumps({"vendor": "SimCharge", "echo": data})}


def refuse(data):
    return {"status": "Rejected"}


VENDORS = {VENDOR_ID: {None: echo, "Echo": echo, "Info": station_info, "Reject": refuse}}


def data_transfer_answer(payload, data_is_text):
    """The answer to the CSMS's DataTransfer: UnknownVendorId / UnknownMessageId outside the table."""
    messages = VENDORS.get(payload["vendorId"])
    if messages is None:
        return {"status": "UnknownVendorId"}
    handler = messages.get(payload.get("messageId"))
    if handler is None:
        return {"status": "UnknownMessageId"}
    answer = handler(payload.get("data"))
    if data_is_text and not isinstance(answer.get("data", ""), str):
        # 1.6 data is a string: anything else goes as JSON text.
        answer["data"] = json.dumps(answer["data"])
    return answer


class OperationCalls:
    def on_DataTransfer(self, payload):
        return data_transfer_answer(payload, self.station.ocpp_version == "1.6"), None


class Operations201(OperationCalls):
    def on_GetTransactionStatus(self, payload):
        station = self.station
        transaction_id = payload.get("transactionId")
        queued = station._offline_queue
        if transaction_id is None:
            return {"messagesInQueue": bool(queued)}, None
        # E14: messages of that transaction still queued, and whether it is still running.
        waiting = any(
            (message.get("transactionInfo") or {}).get("transactionId") == transaction_id for _, message in queued
        )
        ongoing = any(session.transaction_id == transaction_id for session in station.sessions())
        return {"messagesInQueue": waiting, "ongoingIndicator": ongoing}, None

    def on_SetNetworkProfile(self, payload):
        station = self.station
        slot = payload["configurationSlot"]
        if slot not in station.profile.network_profile_slots:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidValue",
                                                         "additionalInfo": f"no configuration slot {slot}"}}, None
        station.network_profiles[slot] = payload["connectionData"]
        return {"status": "Accepted"}, None
