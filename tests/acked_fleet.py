"""Charging stations that remember what the CSMS acknowledged, for crash tests: each re-sends its
unanswered transaction messages after reconnecting, so stored rows can be compared with them."""
import asyncio
import itertools
import json
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

ENERGY = "Energy.Active.Import.Register"
POWER = "Power.Active.Import"
# A station's wait for one answer; a live CSMS answers in milliseconds, a killed one never.
ANSWER_TIMEOUT = 30


class ConnectionLost(Exception):
    """The socket closed (or never opened) before the answer came."""


@dataclass
class Session:
    """One charging session as the station ran it, and what the CSMS acknowledged of it."""
    station_transaction_id: str  # 2.0.1: the station's transactionId; 1.6: the station's own key
    meter_start: int
    planned_updates: int
    transaction_id: str = None  # as stored: 2.0.1 the same; 1.6 the number the CSMS answered
    meter_stop: int = None
    updates_queued: int = 0
    stop_queued: bool = False
    ended: bool = False  # its Ended / StopTransaction was acknowledged
    acknowledged_readings: list = field(default_factory=list)  # (timestamp, measurand)
    acknowledged_seq_nos: list = field(default_factory=list)
    acknowledged_events: list = field(default_factory=list)  # Started / Updated / Ended


@dataclass
class Message:
    """A transaction message, its payload fixed when first built so a re-send repeats it."""
    action: str
    event_type: str
    session: Session
    build: object  # () -> payload, called once, at the first send (1.6 needs the transactionId)
    readings: list  # (timestamp, measurand) it carries, as the CSMS stores them
    seq_no: int = None
    payload: dict = None
    sends: int = 0
    in_flight: bool = False  # sent on the current connection, not answered yet

    def frame_payload(self):
        if self.payload is None:
            self.payload = self.build()
        return self.payload


def wire_time(moment):
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AckedStation:
    """One station: charges session after session, one call at a time, re-sending after a
    reconnect every transaction message not yet answered (OCPP's transaction-message queue)."""

    def __init__(self, ws_url, identity, version, id_tag, seed, boot_on_reconnect=True,
                 interval=0.05):
        self.ws_url = ws_url  # () -> URL: a restarted server may listen on another port
        self.identity = identity
        self.version = version
        self.id_tag = id_tag
        self.rng = random.Random(seed)
        self.boot_on_reconnect = boot_on_reconnect
        self.interval = interval
        self.outbox = deque()
        self.sessions = []
        self.register_wh = self.rng.randint(1_000, 50_000)
        self.seq_no = itertools.count()
        self.message_ids = itertools.count(1)
        self.last_time = datetime.now(UTC)
        self.socket = None
        self.answers = {}
        self.finishing = False
        # What the test reads: counters only ever grow.
        self.acknowledged = 0
        self.connections = 0
        self.unanswered_at_loss = 0  # messages sent and unanswered when a connection dropped
        self.resent_acknowledged = 0  # acknowledged only after a re-send
        self.queued_offline = 0
        self.errors = []  # CALLERRORs: none expected

    # --- the charging script ----------------------------------------------------------------

    def now(self):
        """The station's clock, strictly increasing (each reading its own instant)."""
        moment = max(datetime.now(UTC), self.last_time + timedelta(milliseconds=1))
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)  # as on the wire
        self.last_time = moment
        return moment

    def open_session(self):
        return next((session for session in self.sessions if not session.stop_queued), None)

    def next_message(self):
        """The next transaction message of the script, or None once finished."""
        session = self.open_session()
        if session is None:
            if self.finishing:
                return None
            session = Session(f"{self.identity}-{len(self.sessions) + 1}", self.register_wh,
                              self.rng.randint(3, 10))
            self.sessions.append(session)
            return self.started(session)
        if session.updates_queued < session.planned_updates and not self.finishing:
            return self.updated(session)
        return self.ended(session)

    def started(self, session):
        moment = self.now()
        if self.version == "2.0.1":
            return self.transaction_event(session, "Started", "Authorized", moment, [
                self.energy_sample("Transaction.Begin")], id_token=True)
        payload = {"connectorId": 1, "idTag": self.id_tag, "meterStart": session.meter_start,
                   "timestamp": wire_time(moment)}
        return Message("StartTransaction", "Started", session, lambda: payload,
                       [(moment, ENERGY)])

    def updated(self, session, offline=False):
        session.updates_queued += 1
        self.register_wh += self.rng.randint(20, 400)
        power = self.rng.randint(3_000, 22_000)
        moment = self.now()
        if self.version == "2.0.1":
            return self.transaction_event(session, "Updated", "MeterValuePeriodic", moment, [
                self.energy_sample("Sample.Periodic"),
                {"value": power, "measurand": POWER, "context": "Sample.Periodic",
                 "unitOfMeasure": {"unit": "W"}}], offline=offline)
        register = self.register_wh
        samples = [{"value": str(register), "measurand": ENERGY, "unit": "Wh",
                    "context": "Sample.Periodic"},
                   {"value": str(power), "measurand": POWER, "unit": "W",
                    "context": "Sample.Periodic"}]
        # The transactionId is the CSMS's answer to the Start, queued before this one.
        return Message("MeterValues", "Updated", session, lambda: {
            "connectorId": 1, "transactionId": int(session.transaction_id),
            "meterValue": [{"timestamp": wire_time(moment), "sampledValue": samples}]},
            [(moment, ENERGY), (moment, POWER)])

    def ended(self, session):
        session.stop_queued = True
        self.register_wh += self.rng.randint(0, 100)
        session.meter_stop = self.register_wh
        moment = self.now()
        if self.version == "2.0.1":
            return self.transaction_event(session, "Ended", "StopAuthorized", moment, [
                self.energy_sample("Transaction.End")], stopped_reason="Local")
        stop = session.meter_stop
        return Message("StopTransaction", "Ended", session, lambda: {
            "transactionId": int(session.transaction_id), "idTag": self.id_tag,
            "meterStop": stop, "timestamp": wire_time(moment), "reason": "Local"},
            [(moment, ENERGY)])

    def energy_sample(self, context):
        return {"value": self.register_wh, "measurand": ENERGY, "context": context,
                "unitOfMeasure": {"unit": "Wh"}}

    def transaction_event(self, session, event_type, trigger, moment, samples, id_token=False,
                          stopped_reason=None, offline=False):
        seq_no = next(self.seq_no)
        info = {"transactionId": session.station_transaction_id, "chargingState": "Charging"}
        if stopped_reason:
            info.update(chargingState="Idle", stoppedReason=stopped_reason)
        payload = {"eventType": event_type, "timestamp": wire_time(moment),
                   "triggerReason": trigger, "seqNo": seq_no, "transactionInfo": info,
                   "evse": {"id": 1, "connectorId": 1},
                   "meterValue": [{"timestamp": wire_time(moment), "sampledValue": samples}]}
        if offline:
            payload["offline"] = True
        if id_token:
            payload["idToken"] = {"idToken": self.id_tag, "type": "ISO14443"}
        return Message("TransactionEvent", event_type, session, lambda: payload,
                       [(moment, sample["measurand"]) for sample in samples], seq_no=seq_no)

    def acknowledge(self, message, answer):
        session = message.session
        if message.action == "StartTransaction":
            session.transaction_id = str(answer["transactionId"])
        elif session.transaction_id is None:
            session.transaction_id = session.station_transaction_id
        session.acknowledged_readings.extend(message.readings)
        session.acknowledged_events.append(message.event_type)
        if message.seq_no is not None:
            session.acknowledged_seq_nos.append(message.seq_no)
        if message.event_type == "Ended":
            session.ended = True
        self.acknowledged += 1
        if message.sends > 1:
            self.resent_acknowledged += 1

    # --- the connection ---------------------------------------------------------------------

    async def run(self):
        failures = 0
        while True:
            if not self.outbox:
                message = self.next_message()
                if message is None:
                    break
                self.outbox.append(message)
            message = self.outbox[0]
            try:
                if self.socket is None:
                    await self.connect()
                    failures = 0
                answer = await self.call(message.action, message.frame_payload(), message)
            except ConnectionLost:
                if message.in_flight:
                    self.unanswered_at_loss += 1
                    message.in_flight = False
                await self.drop()
                failures += 1
                self.queue_offline_reading()
                await asyncio.sleep(min(2.0, 0.1 * 2 ** failures) * (0.5 + self.rng.random()))
                continue
            if answer is None:  # a CALLERROR: recorded, sent again a little later
                await asyncio.sleep(0.5)
                continue
            self.acknowledge(self.outbox.popleft(), answer)
            await asyncio.sleep(self.interval * (0.5 + self.rng.random()))
        await self.drop()

    def queue_offline_reading(self):
        """While the CSMS is away the station goes on metering and queues the readings."""
        session = self.open_session()
        if session is not None and session.updates_queued < session.planned_updates \
                and not self.finishing:
            self.outbox.append(self.updated(session, offline=True))
            self.queued_offline += 1

    async def connect(self):
        try:
            self.socket = await connect(f"{self.ws_url()}/ocpp/{self.identity}",
                                        subprotocols=[f"ocpp{self.version}"], open_timeout=10)
        except (TimeoutError, OSError, WebSocketException) as error:
            raise ConnectionLost(str(error)) from None
        self.reader = asyncio.ensure_future(self.read(self.socket))
        self.connections += 1
        if self.connections == 1 or self.boot_on_reconnect:
            answer = await self.call("BootNotification", self.boot_payload())
            if answer is None or answer.get("status") != "Accepted":
                raise ConnectionLost(f"boot answered {answer}")

    def boot_payload(self):
        if self.version == "2.0.1":
            return {"chargingStation": {"model": "AckedModel", "vendorName": "AckedVendor"},
                    "reason": "PowerUp"}
        return {"chargePointVendor": "AckedVendor", "chargePointModel": "AckedModel"}

    async def drop(self):
        socket, self.socket = self.socket, None
        if socket is not None:
            self.reader.cancel()
            try:
                await asyncio.wait_for(socket.close(), 2)
            except (TimeoutError, OSError, WebSocketException):
                pass
        for waiter in self.answers.values():
            if not waiter.done():
                waiter.set_exception(ConnectionLost("closed"))
        self.answers.clear()

    async def call(self, action, payload, message=None):
        """The CALLRESULT payload; None for a CALLERROR (recorded in `errors`)."""
        if self.socket is None:
            raise ConnectionLost("not connected")
        message_id = str(next(self.message_ids))
        waiter = asyncio.get_running_loop().create_future()
        self.answers[message_id] = waiter
        try:
            if message is not None:
                message.sends += 1
                message.in_flight = True
            await self.socket.send(json.dumps([2, message_id, action, payload]))
            frame = await asyncio.wait_for(waiter, ANSWER_TIMEOUT)
            if message is not None:
                message.in_flight = False
        except (TimeoutError, OSError, WebSocketException) as error:
            raise ConnectionLost(str(error)) from None
        finally:
            self.answers.pop(message_id, None)
        if frame[0] == 4:
            self.errors.append((action, frame[2], frame[3]))
            return None
        return frame[2]

    async def read(self, socket):
        try:
            async for text in socket:
                frame = json.loads(text)
                if frame[0] == 2:  # a CSMS call: this fleet implements none
                    await socket.send(json.dumps([4, frame[1], "NotSupported", "", {}]))
                    continue
                waiter = self.answers.get(frame[1])
                if waiter is not None and not waiter.done():
                    waiter.set_result(frame)
        except (OSError, WebSocketException):
            pass
        for waiter in self.answers.values():
            if not waiter.done():
                waiter.set_exception(ConnectionLost("socket closed"))


class AckedFleet:
    """The stations, run on an event loop in a thread; the test reads their counters."""

    def __init__(self, stations):
        self.stations = stations
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="acked-fleet",
                                       daemon=True)

    def start(self):
        self.thread.start()
        self.tasks = [asyncio.run_coroutine_threadsafe(station.run(), self.loop)
                      for station in self.stations]
        return self

    def total(self, counter):
        return sum(getattr(station, counter) for station in self.stations)

    def wait_until(self, check, timeout, what):
        deadline = time.monotonic() + timeout
        while not check():
            self.raise_failures()
            if time.monotonic() > deadline:
                raise AssertionError(f"the fleet did not {what} within {timeout} s")
            time.sleep(0.05)

    def raise_failures(self):
        for task in self.tasks:
            if task.done() and task.exception() is not None:
                raise task.exception()

    def finish(self, timeout):
        """Every station ends its session (after re-sending what it still holds) and stops."""
        def finishing():
            for station in self.stations:
                station.finishing = True
        self.loop.call_soon_threadsafe(finishing)
        self.wait_until(lambda: all(task.done() for task in self.tasks), timeout,
                        "end every session")
        self.raise_failures()

    def close(self):
        async def cancel_all():
            running = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            for station in self.stations:
                await station.drop()

        asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
