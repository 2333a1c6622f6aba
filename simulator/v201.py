"""How a simulated OCPP 2.0.1 station words its messages and answers the CSMS's calls."""

import asyncio
from datetime import UTC, datetime

from .calls import CommandError, iso_ms, now_iso
from .charging_dialects import SmartCharging201
from .customer import CustomerCalls
from .devicemodel import DeviceModel
from .display import DisplayCalls
from .firmware import Firmware201
from .logs import LogCalls
from .operations import Operations201
from .publish import PublishCalls

# The reason a session ended, as 2.0.1 names it, and the trigger that goes with it.
STOP_TRIGGERS = {
    "Local": "StopAuthorized",
    "Remote": "RemoteStop",
    "ImmediateReset": "ResetCommand",
    "EVDisconnected": "EVCommunicationLost",
    "DeAuthorized": "Deauthorized",
}
TRIGGERABLE = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "TransactionEvent",
    "FirmwareStatusNotification",
    "LogStatusNotification",
}


class Dialect201(
    SmartCharging201, Firmware201, PublishCalls, LogCalls, DisplayCalls, CustomerCalls, Operations201
):
    vendor = "SimCharge OCPP 2.0.1"
    factory_firmware_version = "2.4.1"

    def __init__(self, station):
        self.station = station
        self.device_model = DeviceModel(station)

    # --- messages ---------------------------------------------------------------------------

    def boot_payload(self, reason):
        station = self.station
        return {
            "reason": reason,
            "chargingStation": {
                "model": "SimCharge AC22",
                "vendorName": "SimCharge",
                "serialNumber": f"SN-{station.identity}"[:25],
                "firmwareVersion": station.firmware_version,
                "modem": {"iccid": "8931080019073497795", "imsi": "204080000000001"},
            },
        }

    def connector_status(self, evse):
        if not evse.operative:
            return "Unavailable"
        return "Occupied" if evse.session is not None else "Available"

    def status_notification(self, evse, status=None):
        return (
            "StatusNotification",
            {
                "timestamp": now_iso(),
                "connectorStatus": status or self.connector_status(evse),
                "evseId": evse.evse_id,
                "connectorId": evse.connector_id,
            },
        )

    def status_notifications(self):
        return [self.status_notification(evse) for evse in self.station.evses]

    def mark_offline(self, action, payload):
        if action == "TransactionEvent":
            return {**payload, "offline": True}
        return payload

    def sampled_values(self, evse, context):
        values = [
            {
                "value": evse.meter.reading_wh(),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "location": "Outlet",
                "unitOfMeasure": {"unit": "Wh"},
            },
        ]
        if context not in ("Transaction.Begin", "Transaction.End"):
            values.append(
                {
                    "value": round(evse.meter.power_w, 1),
                    "context": context,
                    "measurand": "Power.Active.Import",
                    "location": "Outlet",
                    "unitOfMeasure": {"unit": "W"},
                }
            )
            if self.station.profile.meter_current:
                values.append(
                    {
                        "value": self.current_a(evse),
                        "context": context,
                        "measurand": "Current.Import",
                        "location": "Outlet",
                        "unitOfMeasure": {"unit": "A"},
                    }
                )
        return [{"timestamp": now_iso(), "sampledValue": values}]

    def transaction_event(self, session, event_type, trigger_reason, context, **info):
        transaction_info = {"transactionId": session.transaction_id, **info}
        started = event_type == "Started" and session.transaction_started_at is not None
        payload = {
            "eventType": event_type,
            # The start the CSMS records is the one relative profiles count from.
            "timestamp": iso_ms(session.transaction_started_at) if started else now_iso(),
            "triggerReason": trigger_reason,
            "seqNo": session.next_seq_no(),
            "transactionInfo": transaction_info,
            "evse": {"id": session.evse.evse_id, "connectorId": session.evse.connector_id},
            "meterValue": self.sampled_values(session.evse, context),
        }
        if event_type == "Started":
            payload["idToken"] = {"idToken": session.id_token, "type": "ISO14443"}
            payload["numberOfPhasesUsed"] = 3
        return payload

    # --- a charging session -----------------------------------------------------------------

    async def begin_session(self, session):
        station, evse = self.station, session.evse
        await station.call(*self.status_notification(evse, "Occupied"))
        remote = session.remote_start_id is not None
        # AuthCtrlr.AuthorizeRemoteStart is false: a remote start is already authorized.
        if not remote:
            answer = await station.call("Authorize", {"idToken": {"idToken": session.id_token, "type": "ISO14443"}})
            station.local_auth.remember(session.id_token, answer["idTokenInfo"])
            if answer["idTokenInfo"]["status"] != "Accepted":
                station.stats.count("authorize_refused")
                await station.call(*self.status_notification(evse, "Available"))
                return False
        session.transaction_id = station.new_transaction_id()
        session.transaction_started_at = datetime.now(UTC)
        session.meter_start = evse.meter.reading_wh()
        info = {"chargingState": "Charging"}
        if remote:
            info["remoteStartId"] = session.remote_start_id
        answer = await station.send_transaction_message(
            "TransactionEvent",
            self.transaction_event(
                session, "Started", "RemoteStart" if remote else "Authorized", "Transaction.Begin", **info
            ),
        )
        token_info = (answer or {}).get("idTokenInfo")
        if token_info and token_info.get("status") not in (None, "Accepted"):
            # Authorization was revoked at start (E05): stop at once.
            session.request_stop("DeAuthorized")
        return True

    async def meter_sample(self, session, context):
        trigger = "Trigger" if context == "Trigger" else "MeterValuePeriodic"
        await self.station.send_transaction_message(
            "TransactionEvent", self.transaction_event(session, "Updated", trigger, context, chargingState="Charging")
        )

    async def end_session(self, session, meter_stop):
        station, evse = self.station, session.evse
        reason = session.stop_reason or "Local"
        elapsed = int(session.curve.duration_s)
        await station.send_transaction_message(
            "TransactionEvent",
            self.transaction_event(
                session,
                "Ended",
                STOP_TRIGGERS.get(reason, "StopAuthorized"),
                "Transaction.End",
                chargingState="Idle",
                stoppedReason=reason,
                timeSpentCharging=elapsed,
            ),
        )
        evse.session = None
        if station.online.is_set():
            await station.call(*self.status_notification(evse))

    # --- the CSMS's calls -------------------------------------------------------------------

    def answer(self, action, payload):
        """(answer payload, follow-up coroutine or None); raise CommandError for a CALLERROR."""
        method = getattr(self, f"on_{action}", None)
        if method is None:
            raise CommandError("NotSupported", f"{action} is not supported by this station")
        return method(payload)

    def on_Reset(self, payload):
        station = self.station
        evse_id = payload.get("evseId")
        if evse_id is not None and station.evse(evse_id) is None:
            return {"status": "Rejected"}, None
        busy = any(evse.session for evse in station.evses)
        if payload["type"] == "OnIdle" and busy:
            return {"status": "Scheduled"}, self.reset_when_idle()
        return {"status": "Accepted"}, self.reset("ImmediateReset")

    async def reset(self, reason):
        station = self.station
        await station._end_sessions(reason)
        station._reboot = reason
        if station.ws is not None:
            await station.ws.close()

    async def reset_when_idle(self):
        station = self.station
        while station.sessions():
            await station.online.wait()
            await asyncio.sleep(0.2)
        await self.reset("ImmediateReset")

    def on_TriggerMessage(self, payload):
        requested = payload["requestedMessage"]
        station = self.station
        evse_id = (payload.get("evse") or {}).get("id")
        if evse_id is not None and station.evse(evse_id) is None:
            return {"status": "Rejected"}, None
        if requested not in TRIGGERABLE:
            return {"status": "NotImplemented"}, None
        if requested == "BootNotification" and station.registration_status == "Accepted":
            return {"status": "Rejected"}, None  # F06.FR.17: already accepted
        return {"status": "Accepted"}, self.triggered(requested, evse_id)

    async def triggered(self, requested, evse_id):
        station = self.station
        evses = [e for e in station.evses if evse_id in (None, e.evse_id)]
        if requested == "BootNotification":
            answer = await station.call("BootNotification", self.boot_payload("Triggered"))
            station.registration_status = answer["status"]
        elif requested == "Heartbeat":
            await station.call("Heartbeat", {})
        elif requested == "StatusNotification":
            for evse in evses:
                await station.call(*self.status_notification(evse))
        elif requested == "MeterValues":
            for evse in evses:
                await station.call(
                    "MeterValues", {"evseId": evse.evse_id, "meterValue": self.sampled_values(evse, "Trigger")}
                )
        elif requested == "TransactionEvent":
            for evse in evses:
                if evse.session is not None and evse.session.transaction_id:
                    await self.meter_sample(evse.session, "Trigger")
        elif requested == "FirmwareStatusNotification":
            await station.call("FirmwareStatusNotification", self.firmware_status_payload())
        elif requested == "LogStatusNotification":
            await station.call("LogStatusNotification", self.log_status_payload())

    def on_RequestStartTransaction(self, payload):
        station = self.station
        evse_id = payload.get("evseId")
        candidates = [e for e in station.evses if evse_id in (None, e.evse_id)]
        free = [e for e in candidates if not e.busy and e.operative]
        if not free or not station.accepted:
            return {"status": "Rejected"}, None
        evse = free[0]
        if not self.remote_start_profile(evse.evse_id, payload.get("chargingProfile")):
            return {"status": "Rejected"}, None
        evse.remote_start = (payload["idToken"]["idToken"], payload["remoteStartId"])
        return {"status": "Accepted"}, station.charge(
            evse, payload["idToken"]["idToken"], remote_start_id=payload["remoteStartId"]
        )

    def on_RequestStopTransaction(self, payload):
        for session in self.station.sessions():
            if session.transaction_id == payload["transactionId"]:
                session.request_stop("Remote")
                return {"status": "Accepted"}, None
        return {"status": "Rejected"}, None

    def on_GetVariables(self, payload):
        return {"getVariableResult": [self.device_model.get(item) for item in payload["getVariableData"]]}, None

    def on_SetVariables(self, payload):
        return {"setVariableResult": [self.device_model.set(item) for item in payload["setVariableData"]]}, None

    def on_GetBaseReport(self, payload):
        items = self.device_model.report(payload["reportBase"])
        return {"status": "Accepted"}, self.notify_report(payload["requestId"], items)

    def on_GetReport(self, payload):
        items = self.device_model.report(
            "FullInventory", payload.get("componentVariable"), payload.get("componentCriteria")
        )
        if not items:
            return {"status": "EmptyResultSet"}, None
        return {"status": "Accepted"}, self.notify_report(payload["requestId"], items)

    async def notify_report(self, request_id, items):
        size = max(1, self.station.profile.report_items_per_part)
        parts = [items[i : i + size] for i in range(0, len(items), size)] or [[]]
        generated_at = now_iso()
        for seq_no, part in enumerate(parts):
            await self.station.call(
                "NotifyReport",
                {
                    "requestId": request_id,
                    "generatedAt": generated_at,
                    "seqNo": seq_no,
                    "tbc": seq_no < len(parts) - 1,
                    "reportData": part,
                },
            )

    def on_ChangeAvailability(self, payload):
        station = self.station
        operative = payload["operationalStatus"] == "Operative"
        evse_id = (payload.get("evse") or {}).get("id")
        evses = [e for e in station.evses if evse_id in (None, 0, e.evse_id)]
        if not evses:
            return {"status": "Rejected"}, None
        scheduled = not operative and any(e.session for e in evses)
        for evse in evses:
            if evse.session is None or operative:
                evse.operative = operative
        return {"status": "Scheduled" if scheduled else "Accepted"}, self.announce(evses)

    async def announce(self, evses):
        for evse in evses:
            await self.station.call(*self.status_notification(evse))

    def on_UnlockConnector(self, payload):
        evse = self.station.evse(payload["evseId"])
        if evse is None:
            return {"status": "UnknownConnector"}, None
        if evse.session is not None:
            return {"status": "OngoingAuthorizedTransaction"}, None
        return {"status": "Unlocked"}, None

    def on_ClearCache(self, payload):
        self.station.local_auth.cache.clear()
        return {"status": "Accepted"}, None

    def on_GetLocalListVersion(self, payload):
        return {"versionNumber": self.station.local_auth.version}, None

    def on_SendLocalList(self, payload):
        self.station.local_auth.apply(
            payload["versionNumber"], payload["updateType"], payload.get("localAuthorizationList")
        )
        return {"status": "Accepted"}, None

    def on_CostUpdated(self, payload):
        return {}, None

    def on_ReserveNow(self, payload):
        return {"status": "Rejected"}, None

    def on_CancelReservation(self, payload):
        return {"status": "Rejected"}, None
