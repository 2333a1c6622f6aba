"""How a simulated OCPP 1.6-J station words its messages and answers the central system's calls."""

from datetime import UTC, datetime

from .calls import CommandError, iso_ms, now_iso
from .charging_dialects import SmartCharging16, profile_201
from .firmware import Firmware16
from .logs import LogCalls
from .operations import OperationCalls

# 2.0.1-style stop reasons used inside the simulator -> 1.6 StopTransaction reasons.
STOP_REASONS = {
    "Local": "Local",
    "Remote": "Remote",
    "ImmediateReset": "HardReset",
    "SoftReset": "SoftReset",
    "EVDisconnected": "EVDisconnected",
    "DeAuthorized": "DeAuthorized",
    "UnlockCommand": "UnlockCommand",
}
TRIGGERABLE = {
    "BootNotification",
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
}


class Dialect16(SmartCharging16, Firmware16, LogCalls, OperationCalls):
    vendor = "SimCharge OCPP 1.6"
    factory_firmware_version = "1.9.7"

    def __init__(self, station):
        self.station = station
        evses = len(station.evses)
        # key -> [value, readonly]; AuthorizationKey is write-only (never reported).
        self.configuration = {
            "HeartbeatInterval": [None, False],
            "MeterValueSampleInterval": [None, False],
            "MeterValuesSampledData": ["Energy.Active.Import.Register,Power.Active.Import", False],
            "StopTxnSampledData": ["Energy.Active.Import.Register", False],
            "NumberOfConnectors": [str(evses), True],
            "ConnectionTimeOut": ["60", False],
            "AuthorizeRemoteTxRequests": ["false", False],
            "LocalAuthorizeOffline": ["true", False],
            "LocalPreAuthorize": ["false", False],
            "WebSocketPingInterval": ["0", False],
            "ResetRetries": ["1", False],
            "ChargeProfileMaxStackLevel": ["10", True],
            "ChargingScheduleAllowedChargingRateUnit": ["Current,Power", True],
            "SupportedFeatureProfiles": [
                "Core,FirmwareManagement,LocalAuthListManagement,RemoteTrigger,SmartCharging",
                True,
            ],
            "LocalAuthListEnabled": ["true", False],
        }

    # --- messages ---------------------------------------------------------------------------

    def boot_payload(self, reason):
        return {
            "chargePointVendor": "SimCharge",
            "chargePointModel": "SimCharge AC22",
            "chargePointSerialNumber": f"SN-{self.station.identity}"[:25],
            "firmwareVersion": self.station.firmware_version,
            "iccid": "8931080019073497795",
            "imsi": "204080000000001",
        }

    def connector_status(self, evse):
        if not evse.operative:
            return "Unavailable"
        return "Charging" if evse.session is not None else "Available"

    def status_notification(self, evse, status=None, connector_id=None):
        return (
            "StatusNotification",
            {
                "connectorId": evse.evse_id if connector_id is None else connector_id,
                "errorCode": "NoError",
                "status": status or self.connector_status(evse),
                "timestamp": now_iso(),
            },
        )

    def status_notifications(self):
        station = self.station
        whole = (
            "StatusNotification",
            {"connectorId": 0, "errorCode": "NoError", "status": "Available", "timestamp": now_iso()},
        )
        return [whole] + [self.status_notification(evse) for evse in station.evses]

    def mark_offline(self, action, payload):
        return payload

    def meter_value(self, evse, context, with_power=True):
        values = [
            {
                "value": str(evse.meter.reading_wh()),
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "location": "Outlet",
                "unit": "Wh",
            }
        ]
        if with_power:
            values.append(
                {
                    "value": f"{evse.meter.power_w:.1f}",
                    "context": context,
                    "measurand": "Power.Active.Import",
                    "location": "Outlet",
                    "unit": "W",
                }
            )
            if self.station.profile.meter_current:
                values.append(
                    {
                        "value": f"{self.current_a(evse):.1f}",
                        "context": context,
                        "measurand": "Current.Import",
                        "location": "Outlet",
                        "unit": "A",
                    }
                )
        return [{"timestamp": now_iso(), "sampledValue": values}]

    # --- a charging session -----------------------------------------------------------------

    async def begin_session(self, session):
        station, evse = self.station, session.evse
        remote = session.remote_start_id is not None
        await station.call(*self.status_notification(evse, "Preparing"))
        # AuthorizeRemoteTxRequests is false: a remote start needs no Authorize.
        if not remote:
            answer = await station.call("Authorize", {"idTag": session.id_token})
            station.local_auth.remember(session.id_token, answer["idTagInfo"])
            if answer["idTagInfo"]["status"] != "Accepted":
                station.stats.count("authorize_refused")
                await station.call(*self.status_notification(evse, "Available"))
                return False
        session.meter_start = evse.meter.reading_wh()
        started_at = datetime.now(UTC)
        # The CSMS makes the 1.6 transactionId, so a start needs the connection.
        answer = await station.call(
            "StartTransaction",
            {
                "connectorId": evse.evse_id,
                "idTag": session.id_token,
                "meterStart": session.meter_start,
                "timestamp": iso_ms(started_at),
            },
        )
        session.transaction_id = answer["transactionId"]
        session.transaction_started_at = started_at
        if answer["idTagInfo"]["status"] != "Accepted":
            session.request_stop("DeAuthorized")
        await station.call(*self.status_notification(evse, "Charging"))
        return True

    async def meter_sample(self, session, context):
        evse = session.evse
        await self.station.send_transaction_message(
            "MeterValues",
            {
                "connectorId": evse.evse_id,
                "transactionId": session.transaction_id,
                "meterValue": self.meter_value(evse, context),
            },
        )

    async def end_session(self, session, meter_stop):
        station, evse = self.station, session.evse
        reason = STOP_REASONS.get(session.stop_reason or "Local", "Other")
        payload = {
            "transactionId": session.transaction_id,
            "meterStop": meter_stop,
            "timestamp": now_iso(),
            "reason": reason,
            "transactionData": self.meter_value(evse, "Transaction.End", with_power=False),
        }
        if reason == "Local":
            payload["idTag"] = session.id_token
        await station.send_transaction_message("StopTransaction", payload)
        evse.session = None
        if station.online.is_set():
            await station.call(*self.status_notification(evse, "Finishing"))
            await station.call(*self.status_notification(evse))

    # --- the central system's calls ---------------------------------------------------------

    def answer(self, action, payload):
        method = getattr(self, f"on_{action}", None)
        if method is None:
            raise CommandError("NotSupported", f"{action} is not supported by this charge point")
        return method(payload)

    def on_Reset(self, payload):
        reason = "ImmediateReset" if payload["type"] == "Hard" else "SoftReset"
        return {"status": "Accepted"}, self.reset(reason)

    async def reset(self, reason):
        station = self.station
        await station._end_sessions(reason)
        station._reboot = reason
        if station.ws is not None:
            await station.ws.close()

    def on_TriggerMessage(self, payload):
        requested = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        if connector_id and self.station.evse(connector_id) is None:
            return {"status": "Rejected"}, None
        if requested not in TRIGGERABLE:
            return {"status": "NotImplemented"}, None
        return {"status": "Accepted"}, self.triggered(requested, connector_id)

    async def triggered(self, requested, connector_id):
        station = self.station
        evses = [e for e in station.evses if connector_id in (None, 0, e.evse_id)]
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
                payload = {"connectorId": evse.evse_id, "meterValue": self.meter_value(evse, "Trigger")}
                if evse.session is not None and evse.session.transaction_id is not None:
                    payload["transactionId"] = evse.session.transaction_id
                await station.call("MeterValues", payload)
        elif requested == "DiagnosticsStatusNotification":
            await station.call("DiagnosticsStatusNotification", self.diagnostics_status_payload())
        elif requested == "FirmwareStatusNotification":
            await station.call("FirmwareStatusNotification", self.firmware_status_payload())

    def on_RemoteStartTransaction(self, payload):
        station = self.station
        connector_id = payload.get("connectorId")
        candidates = [e for e in station.evses if connector_id in (None, e.evse_id)]
        free = [e for e in candidates if not e.busy and e.operative]
        if not free or not station.accepted:
            return {"status": "Rejected"}, None
        evse = free[0]
        profile = payload.get("chargingProfile")
        if not self.remote_start_profile(evse.evse_id, profile and profile_201(profile)):
            return {"status": "Rejected"}, None
        evse.remote_start = (payload["idTag"], 0)
        # 1.6 has no remoteStartId; any non-None marks the session remotely started.
        return {"status": "Accepted"}, station.charge(evse, payload["idTag"], remote_start_id=0)

    def on_RemoteStopTransaction(self, payload):
        for session in self.station.sessions():
            if session.transaction_id == payload["transactionId"]:
                session.request_stop("Remote")
                return {"status": "Accepted"}, None
        return {"status": "Rejected"}, None

    def on_GetConfiguration(self, payload):
        wanted = payload.get("key")
        known, unknown = [], []
        for key in wanted if wanted else list(self.configuration):
            if key == "AuthorizationKey" or key not in self.configuration:
                if wanted:
                    unknown.append(key)
                continue
            known.append({"key": key, "readonly": self.configuration[key][1], "value": self.value_of(key)})
        answer = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return answer, None

    def value_of(self, key):
        station = self.station
        if key == "HeartbeatInterval":
            return str(int(station.heartbeat_interval))
        if key == "MeterValueSampleInterval":
            return str(int(station.meter_interval))
        return self.configuration[key][0]

    def on_ChangeConfiguration(self, payload):
        key, value = payload["key"], payload["value"]
        station = self.station
        if key == "AuthorizationKey":
            # Security white paper: 16-40 hex-free chars; used from the next connection on.
            if not 16 <= len(value) <= 40:
                return {"status": "Rejected"}, None
            station.password = value
            return {"status": "Accepted"}, None
        if key not in self.configuration:
            return {"status": "NotSupported"}, None
        if self.configuration[key][1]:
            return {"status": "Rejected"}, None
        if key in (
            "HeartbeatInterval",
            "MeterValueSampleInterval",
            "ConnectionTimeOut",
            "WebSocketPingInterval",
            "ResetRetries",
        ):
            try:
                number = int(value)
            except ValueError:
                return {"status": "Rejected"}, None
            if number < 0:
                return {"status": "Rejected"}, None
            if key == "HeartbeatInterval":
                station.set_heartbeat_interval(number)
            elif key == "MeterValueSampleInterval":
                station.meter_interval_override = max(1, number)
        self.configuration[key][0] = value
        return {"status": "Accepted"}, None

    def on_ChangeAvailability(self, payload):
        station = self.station
        operative = payload["type"] == "Operative"
        connector_id = payload["connectorId"]
        evses = [e for e in station.evses if connector_id in (0, e.evse_id)]
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
        evse = self.station.evse(payload["connectorId"])
        if evse is None:
            return {"status": "NotSupported"}, None
        if evse.session is not None:
            evse.session.request_stop("UnlockCommand")
        return {"status": "Unlocked"}, None

    def on_ClearCache(self, payload):
        self.station.local_auth.cache.clear()
        return {"status": "Accepted"}, None

    def on_GetLocalListVersion(self, payload):
        return {"listVersion": self.station.local_auth.version}, None

    def on_SendLocalList(self, payload):
        self.station.local_auth.apply(payload["listVersion"], payload["updateType"], payload.get("localAuthorizationList"))
        return {"status": "Accepted"}, None

    def on_ReserveNow(self, payload):
        return {"status": "Rejected"}, None

    def on_CancelReservation(self, payload):
        return {"status": "Rejected"}, None

