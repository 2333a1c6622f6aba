"""What one lean simulated station sends, in either OCPP version: boot, statuses, heartbeats and
charging sessions with metered energy, one CALL outstanding at a time."""

import asyncio
import itertools
import json
import math
import random
import time
import uuid
from datetime import UTC, datetime

from benchmarks.lean_websocket import HandshakeFailed, LeanWebSocket

CALL_TIMEOUT_S = 30
RECONNECT_S = 2
NOMINAL_VOLTAGE = 230.0
PHASES = ("L1", "L2", "L3")


class CallError(Exception):
    """The CSMS answered with a CALLERROR."""


class Dropped(Exception):
    """The connection closed (or never opened) while a call was outstanding."""


class CallTimeout(Exception):
    pass


# One periodic sampled value: value, measurand, optional phase member, location, unit.
SAMPLED_VALUE_201 = (
    '{"value":%s,"context":"Sample.Periodic","measurand":"%s",%s"location":"%s","unitOfMeasure":{"unit":"%s"}}'
)
SAMPLED_VALUE_16 = '{"value":"%s","context":"Sample.Periodic","measurand":"%s",%s"location":"%s","unit":"%s"}'

_last_stamp = [0, ""]


def now_iso():
    """UTC now to the millisecond, formatted once per millisecond per process."""
    millis = time.time_ns() // 1_000_000
    if millis != _last_stamp[0]:
        moment = datetime.fromtimestamp(millis / 1000, UTC)
        _last_stamp[:] = [millis, moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")]
    return _last_stamp[1]


class Car:
    """The draw of a car over a session: ramps up, holds, tapers as its battery fills."""

    def __init__(self, rng, duration_s):
        self.peak_w = rng.choice((7_400.0, 11_000.0, 22_000.0))
        self.duration_s = duration_s
        self.battery_wh = rng.uniform(40_000, 90_000)
        self.soc = rng.uniform(10, 60)
        self.register_seen = None  # the station's register at the last sample

    def power_at(self, elapsed):
        ramp = min(5.0, self.duration_s * 0.1)
        if elapsed < ramp:
            return self.peak_w * (0.2 + 0.8 * elapsed / ramp)
        taper_from = self.duration_s * 0.8
        if elapsed > taper_from:
            return self.peak_w * (0.4 + 0.6 * max(0.0, 1 - (elapsed - taper_from) / (self.duration_s - taper_from)))
        return self.peak_w


class Station:
    """One station on one socket; `stats` (the worker's) counts what it sends and receives."""

    def __init__(self, worker, identity, version, rng):
        self.worker = worker
        self.identity = identity
        self.version = version
        self.rng = rng
        self.id_token = f"T{uuid.UUID(int=rng.getrandbits(128)).hex[:15].upper()}"
        self.register_wh = rng.uniform(1_000, 90_000)
        self.power_w = 0.0
        self.metered_at = time.monotonic()
        self.socket = None
        self.pending = None  # (message id, future, sent at) of the one outstanding CALL
        self.message_ids = itertools.count(1)
        self.next_heartbeat = 0.0
        self.accepted = False

    # --- the socket -------------------------------------------------------------------------

    async def connect(self):
        host, port = self.worker.host, self.worker.port
        subprotocol = "ocpp2.0.1" if self.version == "2.0.1" else "ocpp1.6"
        self.socket = await asyncio.wait_for(
            LeanWebSocket.open(host, port, f"{self.worker.path}/{self.identity}", subprotocol,
                               self.on_text, self.on_closed),
            CALL_TIMEOUT_S,
        )

    def on_closed(self):
        if self.pending is not None and not self.pending[1].done():
            self.pending[1].set_exception(Dropped())

    def on_text(self, text):
        frame = json.loads(text)
        kind = frame[0]
        if kind == 2:  # the CSMS's own CALL: not part of what is measured; refused politely
            self.worker.stats.server_calls += 1
            self.socket.send_text(json.dumps([4, frame[1], "NotImplemented", "load generator", {}]))
            return
        pending = self.pending
        if pending is None or frame[1] != pending[0] or pending[1].done():
            return
        if kind == 3:
            pending[1].set_result(frame[2])
        else:
            pending[1].set_exception(CallError(frame[2]))

    async def call(self, action, payload, kind=None):
        """The answer's payload, or None for a CALLERROR; raises Dropped or CallTimeout. `payload`
        is a dict, or JSON text already written."""
        kind = kind or action
        stats = self.worker.stats
        if self.socket is None or self.socket.closed:
            raise Dropped()
        message_id = str(next(self.message_ids))
        future = asyncio.get_running_loop().create_future()
        if not isinstance(payload, str):
            payload = json.dumps(payload, separators=(",", ":"))
        sent_at = time.perf_counter()
        self.pending = (message_id, future, sent_at)
        self.socket.send_text(f'[2,"{message_id}","{action}",{payload}]')
        stats.sent[kind] += 1
        try:
            answer = await future
        except CallError:
            # A refused message is counted; the station goes on, as a real one would.
            stats.call_errors[kind] += 1
            return None
        except CallTimeout:
            stats.timeouts[kind] += 1
            raise
        finally:
            self.pending = None
        stats.answered(kind, time.perf_counter() - sent_at)
        return answer

    def expire(self, now):
        """Fail the outstanding call if it has waited longer than the call timeout."""
        pending = self.pending
        if pending is not None and now - pending[2] > CALL_TIMEOUT_S and not pending[1].done():
            pending[1].set_exception(CallTimeout())

    # --- the life of a station --------------------------------------------------------------

    async def run(self):
        while not self.worker.stopping:
            try:
                await self.connect()
            except (TimeoutError, OSError, HandshakeFailed):  # refused, reset, timed out, not upgraded
                self.worker.stats.connect_failures += 1
                await asyncio.sleep(RECONNECT_S)
                continue
            try:
                await self.boot()
                while not self.worker.stopping:
                    await self.wait(self.rng.uniform(*self.worker.idle_seconds))
                    await self.session()
            except Dropped:
                if not self.worker.stopping:
                    self.worker.stats.drops += 1
            except CallTimeout:
                pass  # counted as a timeout; the station gives up on the socket and reconnects
            finally:
                self.accepted = False
                if self.socket is not None:
                    self.socket.close()
            await asyncio.sleep(RECONNECT_S)

    async def boot(self):
        if self.version == "2.0.1":
            payload = {"reason": "PowerUp", "chargingStation": {"model": "Lean AC22", "vendorName": "LoadGen",
                                                                "serialNumber": self.identity[-25:]}}
        else:
            payload = {"chargePointVendor": "LoadGen", "chargePointModel": "Lean AC22",
                       "chargePointSerialNumber": self.identity[-25:]}
        while True:
            answer = await self.call("BootNotification", payload) or {}
            if answer.get("status") == "Accepted":
                break
            await asyncio.sleep(min(answer.get("interval") or 5, 10))
        self.accepted = True
        self.next_heartbeat = time.monotonic() + self.rng.uniform(0, self.worker.heartbeat_interval)
        if self.version == "1.6":
            await self.status(0, "Available")
        await self.status(1, "Available")

    async def status(self, connector_id, status):
        if self.version == "2.0.1":
            await self.call("StatusNotification", {"timestamp": now_iso(), "connectorStatus": status,
                                                   "evseId": 1, "connectorId": connector_id})
        else:
            await self.call("StatusNotification", {"connectorId": connector_id, "errorCode": "NoError",
                                                   "status": status, "timestamp": now_iso()})

    async def wait(self, seconds):
        """Sleep `seconds`, sending the heartbeats that fall due meanwhile."""
        until = time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if self.next_heartbeat <= now:
                self.next_heartbeat = now + self.worker.heartbeat_interval
                await self.call("Heartbeat", {})
                continue
            wake = min(until, self.next_heartbeat)
            if wake > now:
                await asyncio.sleep(wake - now)
            if wake >= until:
                return

    def advance_meter(self, power_w):
        now = time.monotonic()
        self.register_wh += self.power_w * (now - self.metered_at) / 3600.0
        self.metered_at = now
        self.power_w = power_w

    async def session(self):
        duration = self.rng.uniform(*self.worker.session_seconds)
        car = Car(self.rng, duration)
        v201 = self.version == "2.0.1"
        await self.status(1, "Occupied" if v201 else "Preparing")
        if v201:
            await self.call("Authorize", {"idToken": {"idToken": self.id_token, "type": "ISO14443"}})
        else:
            await self.call("Authorize", {"idTag": self.id_token})
        started = time.monotonic()
        self.advance_meter(car.power_at(0))
        meter_start = int(self.register_wh)
        seq_no = itertools.count()
        if v201:
            transaction_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
            await self.call("TransactionEvent", self.event(
                "Started", "Authorized", next(seq_no), transaction_id, "Transaction.Begin", car, chargingState="Charging"
            ), kind="TransactionEvent Started")
        else:
            answer = await self.call("StartTransaction", {"connectorId": 1, "idTag": self.id_token,
                                                          "meterStart": meter_start, "timestamp": now_iso()})
            if answer is None:
                await self.status(1, "Available")
                return
            transaction_id = answer["transactionId"]
            await self.status(1, "Charging")
        # Meter values on the station's own clock, first one at a random phase of the interval.
        next_sample = time.monotonic() + self.rng.uniform(0.1, 1.0) * self.worker.meter_interval
        end = started + duration
        while True:
            await self.wait(max(0.0, min(next_sample, end) - time.monotonic()))
            now = time.monotonic()
            self.advance_meter(car.power_at(now - started))
            if now >= end:
                break
            meter_value = self.periodic_meter_value_json(car, v201)
            if v201:
                await self.call("TransactionEvent", (
                    f'{{"eventType":"Updated","timestamp":"{now_iso()}","triggerReason":"MeterValuePeriodic",'
                    f'"seqNo":{next(seq_no)},"transactionInfo":{{"transactionId":"{transaction_id}",'
                    f'"chargingState":"Charging"}},"evse":{{"id":1,"connectorId":1}},"meterValue":{meter_value}}}'
                ), kind="TransactionEvent Updated")
            else:
                await self.call("MeterValues", f'{{"connectorId":1,"transactionId":{json.dumps(transaction_id)},'
                                               f'"meterValue":{meter_value}}}')
            next_sample += self.worker.meter_interval
            if next_sample < time.monotonic():  # a slow answer: resume the rhythm, do not burst
                next_sample = time.monotonic() + self.worker.meter_interval
        self.advance_meter(0.0)
        if v201:
            await self.call("TransactionEvent", self.event(
                "Ended", "StopAuthorized", next(seq_no), transaction_id, "Transaction.End", car,
                chargingState="EVConnected", stoppedReason="Local", timeSpentCharging=int(duration),
            ), kind="TransactionEvent Ended")
        else:
            await self.call("StopTransaction", {
                "transactionId": transaction_id, "idTag": self.id_token, "meterStop": int(self.register_wh),
                "timestamp": now_iso(), "reason": "Local",
            })
            await self.status(1, "Finishing")
        await self.status(1, "Available")

    # --- meter values -----------------------------------------------------------------------

    def readings(self, car):
        """(measurand, phase, value, unit, location) of one periodic sample."""
        soc = car.soc
        voltage = NOMINAL_VOLTAGE + self.rng.uniform(-4, 4)
        current = self.power_w / (3 * voltage)
        rows = [("Energy.Active.Import.Register", None, int(self.register_wh), "Wh", "Outlet"),
                ("Power.Active.Import", None, round(self.power_w, 1), "W", "Outlet")]
        rows += [("Current.Import", phase, round(current, 2), "A", "Outlet") for phase in PHASES]
        rows += [("Voltage", "L1-N", round(voltage, 1), "V", "Outlet"), ("SoC", None, round(soc, 1), "Percent", "EV")]
        return rows

    def event(self, event_type, trigger, seq_no, transaction_id, context, car, **info):
        """A Started or Ended TransactionEvent (the periodic ones are written by the template)."""
        values = [{"value": int(self.register_wh), "context": context, "measurand": "Energy.Active.Import.Register",
                   "location": "Outlet", "unitOfMeasure": {"unit": "Wh"}}]
        payload = {
            "eventType": event_type, "timestamp": now_iso(), "triggerReason": trigger, "seqNo": seq_no,
            "transactionInfo": {"transactionId": transaction_id, **info},
            "evse": {"id": 1, "connectorId": 1},
            "meterValue": [{"timestamp": now_iso(), "sampledValue": values}],
        }
        if event_type == "Started":
            payload["idToken"] = {"idToken": self.id_token, "type": "ISO14443"}
            payload["numberOfPhasesUsed"] = 3
        return payload

    def periodic_meter_value_json(self, car, v201):
        """The meterValue array of a periodic sample as JSON text, written from a template: most of
        the traffic is these, and formatting them costs a fraction of building and encoding dicts."""
        self.charge_car(car)
        item = SAMPLED_VALUE_201 if v201 else SAMPLED_VALUE_16
        values = ",".join(
            item % (value, measurand, f'"phase":"{phase}",' if phase else "", location, unit)
            for measurand, phase, value, unit, location in self.readings(car)
        )
        return f'[{{"timestamp":"{now_iso()}","sampledValue":[{values}]}}]'

    def charge_car(self, car):
        """The car's state of charge follows the energy delivered since the last sample."""
        if car.register_seen is not None:
            car.soc = min(100.0, car.soc + 100.0 * (self.register_wh - car.register_seen) / car.battery_wh)
        car.register_seen = self.register_wh


def station_rng(seed, index):
    return random.Random(seed * 1_000_003 + index)


BUCKET_STEP = math.log(1.01)


def log_bucket(seconds):
    """Latency histogram bucket: 1 % wide, counted in µs."""
    return int(math.log(max(seconds, 1e-6) * 1e6) / BUCKET_STEP)
