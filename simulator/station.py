"""One simulated station: connect with backoff, boot, heartbeat, charge, answer the CSMS, queue
transaction messages while offline. The wording of each OCPP version is in v201.py / v16.py."""

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import time
import zlib
from collections import deque
from urllib.parse import quote

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .calls import CallFailed, CommandError, NotConnected, now_iso
from .charging import SmartCharging
from .customer import LocalAuthorization
from .display import DisplayMessages
from .firmware import FirmwareUpdates
from .logs import LogUploads
from .meter import Meter
from .profile import Profile
from .publish import FirmwarePublications
from .sessions import Drivers, Evse
from .stats import Stats

logger = logging.getLogger(__name__)


class SimulatedStation(Drivers):
    def __init__(
        self,
        url,
        identity,
        ocpp_version,
        profile=None,
        stats=None,
        rng=None,
        password=None,
        charges=False,
        boot_on_reconnect=False,
    ):
        import random

        from .v16 import Dialect16
        from .v201 import Dialect201

        self.url = url.rstrip("/")
        self.identity = identity
        self.ocpp_version = ocpp_version
        self.profile = profile or Profile()
        self.stats = stats or Stats()
        self.rng = rng or random.Random()
        self.password = password
        self.charges = charges
        self.boot_on_reconnect = boot_on_reconnect
        self.evses = [
            Evse(evse_id, meter=Meter(self.rng.uniform(1_000, 90_000))) for evse_id in range(1, self.profile.evses + 1)
        ]
        self.dialect = (Dialect201 if ocpp_version == "2.0.1" else Dialect16)(self)
        self.smart = SmartCharging(self)
        self.firmware_version = self.profile.firmware_version or self.dialect.factory_firmware_version
        self.firmware = FirmwareUpdates(self)
        self.publications = FirmwarePublications(self)  # 2.0.1 local controller
        self.logs = LogUploads(self)
        self.display = DisplayMessages(self)
        self.local_auth = LocalAuthorization()
        self.network_profiles = {}  # configurationSlot -> connectionData (SetNetworkProfile)
        # What the station said and heard lately (time, "sent"/"received", action, payload):
        # the log file a GetLog / GetDiagnostics uploads.
        self.journal = deque(maxlen=500)
        # The car the next session on an EVSE brings (evse id -> EV); else one from the profile.
        self.next_ev = {}
        self.ev_messages = []  # (action, request, answer) an ISO 15118 car sent, for tests
        self._sessions_closing = 0
        self._token_prefix = f"04{zlib.crc32(identity.encode()):08X}"
        self.ws = None
        self.accepted = False
        self.online = asyncio.Event()  # connected and booted Accepted
        self.heartbeat_interval = self.profile.heartbeat_interval or 300
        self.meter_interval_override = None
        self.registration_status = ""
        self.boot_count = 0
        self._interval_changed = asyncio.Event()
        self._ids = itertools.count(1)
        self._call_lock = asyncio.Lock()
        self._pending = None
        self._offline_queue = []
        self._tx_lock = asyncio.Lock()
        self._tasks = set()
        self._reboot = None  # reset type requested by the CSMS
        self._connection_ended = asyncio.Event()
        self.stopping = False

    # --- settings the CSMS may change -------------------------------------------------------

    @property
    def meter_interval(self):
        return self.meter_interval_override or self.profile.meter_interval

    def set_heartbeat_interval(self, seconds):
        self.heartbeat_interval = max(1, seconds)
        self._interval_changed.set()

    def evse(self, evse_id):
        for evse in self.evses:
            if evse.evse_id == evse_id:
                return evse
        return None

    def sessions(self):
        return [evse.session for evse in self.evses if evse.session is not None]

    # --- the connection ---------------------------------------------------------------------

    async def run(self, stop):
        """Stay connected until `stop` is set; then end running sessions and close."""
        driver = asyncio.create_task(self._drive(stop)) if self.charges else None
        limits = asyncio.create_task(self.smart.watch())
        failures = 0
        need_boot = True
        boot_reason = "PowerUp"
        try:
            while not stop.is_set():
                try:
                    ws = await self._connect()
                except (OSError, InvalidHandshake, TimeoutError) as error:
                    failures += 1
                    if isinstance(error, InvalidStatus):
                        self.stats.count(f"refused_http_{error.response.status_code}")
                    else:
                        self.stats.count("connect_failures")
                    await self._sleep_unless(stop, self._backoff(failures))
                    continue
                failures = 0
                await self._hold(ws, stop, need_boot, boot_reason)
                if stop.is_set():
                    break
                if self._reboot is not None:
                    # The CSMS asked for a reset (or a firmware install): come back rebooted.
                    boot_reason = "FirmwareUpdate" if self._reboot == "FirmwareUpdate" else "RemoteReset"
                    self._reboot = None
                    self.stats.count("reboots")
                    await self._sleep_unless(stop, self.profile.reboot_seconds)
                    need_boot = True
                else:
                    self.stats.count("disconnects")
                    need_boot, boot_reason = self.boot_on_reconnect, "PowerUp"
                    await self._sleep_unless(stop, self._backoff(0))
                if need_boot and not self.profile.keep_profiles_on_reboot:
                    self.smart.forget()
        finally:
            self.stopping = True
            for task in [driver, limits, *self._tasks]:
                if task is not None:
                    task.cancel()
            if driver is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await driver
            if self._tasks:
                # Follow-ups (a firmware update, a log upload) end here, not with the loop.
                await asyncio.wait(list(self._tasks), timeout=2)

    async def _connect(self):
        headers = {}
        if self.password:
            token = base64.b64encode(f"{self.identity}:{self.password}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        return await connect(
            f"{self.url}/{quote(self.identity, safe='')}",
            subprotocols=[f"ocpp{self.ocpp_version}"],
            additional_headers=headers,
            compression="deflate" if self.profile.deflate else None,
            open_timeout=30,
            # The CSMS pings us (and we pong); a second ping stream per station adds only load.
            ping_interval=None,
            close_timeout=2,
            proxy=None,
            user_agent_header=f"csms-simulator ({self.dialect.vendor})",
        )

    def _backoff(self, failures):
        low, high = self.profile.reconnect_min, self.profile.reconnect_max
        return min(high, low * 2 ** max(0, failures - 1)) + self.rng.uniform(0, low)

    async def _sleep_unless(self, stop, seconds):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)

    async def _hold(self, ws, stop, need_boot, boot_reason):
        """Serve one connection until it closes, a reset reboots us, or `stop` is set."""
        self.ws = ws
        self._connection_ended.clear()
        self.stats.connected += 1
        self.stats.count("connects")
        reader = asyncio.create_task(self._read(ws))
        online = asyncio.create_task(self._online(need_boot, boot_reason))
        # Its failure is handled below, or is the connection ending (a call in flight may end in
        # NotConnected rather than the cancellation): never an unretrieved task exception.
        online.add_done_callback(lambda task: task.cancelled() or task.exception())
        stopper = asyncio.create_task(stop.wait())
        ended = asyncio.create_task(self._connection_ended.wait())
        try:
            await asyncio.wait({online, stopper, ended}, return_when=asyncio.FIRST_COMPLETED)
            if online.done() and not online.cancelled() and online.exception() is not None:
                error = online.exception()
                # A call timeout is counted already; the station reconnects as a real one would.
                if not isinstance(error, (NotConnected, ConnectionClosed, TimeoutError)):
                    logger.warning("%s: session failed: %r", self.identity, error)
                    self.stats.count("session_failures")
            if stop.is_set() and self.online.is_set():
                await self._end_sessions(reason="Local")
        finally:
            for task in (online, stopper, ended):
                task.cancel()
            self._set_offline()
            self.stats.connected -= 1
            with contextlib.suppress(Exception):
                await ws.close()
            reader.cancel()
            self.ws = None

    def _set_offline(self):
        if self.accepted:
            self.stats.accepted -= 1
        self.accepted = False
        self.online.clear()

    async def _online(self, need_boot, boot_reason):
        if need_boot:
            await self._boot(boot_reason)
        else:
            # Reconnected without a reboot: the CSMS still knows us as Accepted.
            self.registration_status = "Accepted"
        self.accepted = True
        self.stats.accepted += 1
        if need_boot:
            for action, payload in self.dialect.status_notifications():
                await self.call(action, payload)
        await self._drain_offline_queue()
        self.online.set()
        wait = self.heartbeat_interval
        while True:
            self._interval_changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._interval_changed.wait(), wait)
                # A new interval: the next beat falls somewhere within it, so a fleet told a new
                # interval at once does not beat in step from then on.
                wait = self.rng.uniform(0, self.heartbeat_interval)
                continue
            wait = self.heartbeat_interval
            await self.call("Heartbeat", {})

    async def _boot(self, reason):
        while True:
            answer = await self.call("BootNotification", self.dialect.boot_payload(reason))
            self.boot_count += 1
            self.registration_status = answer["status"]
            interval = answer.get("interval") or 0
            if answer["status"] == "Accepted":
                if self.profile.heartbeat_interval is None and interval > 0:
                    self.heartbeat_interval = interval
                self.stats.count("boots_accepted")
                return
            # Pending or Rejected: retry after the interval given (the CSMS may configure us
            # meanwhile; the reader answers its calls).
            self.stats.count(f"boots_{answer['status'].lower()}")
            await asyncio.sleep(interval if interval > 0 else 10)

    # --- frames -----------------------------------------------------------------------------

    async def _read(self, ws):
        try:
            async for text in ws:
                try:
                    frame = json.loads(text)
                except ValueError:
                    self.stats.count("bad_frames")
                    continue
                if not isinstance(frame, list) or len(frame) < 3:
                    self.stats.count("bad_frames")
                    continue
                if frame[0] == 2 and len(frame) == 4:
                    await self._answer(ws, frame[1], frame[2], frame[3])
                elif frame[0] in (3, 4):
                    pending = self._pending
                    if pending is not None and pending[0] == frame[1] and not pending[1].done():
                        pending[1].set_result(frame)
                    else:
                        self.stats.count("unmatched_answers")
        except ConnectionClosed:
            pass
        finally:
            self._connection_ended.set()
            pending = self._pending
            if pending is not None and not pending[1].done():
                pending[1].set_exception(NotConnected("connection closed"))

    async def _answer(self, ws, message_id, action, payload):
        self.stats.answered[action] += 1
        follow_up = None
        self.journal.append((now_iso(), "received", action, payload))
        try:
            result, follow_up = self.dialect.answer(action, payload if isinstance(payload, dict) else {})
            text = json.dumps([3, message_id, result])
            self.journal.append((now_iso(), "answered", action, result))
        except CommandError as error:
            text = json.dumps([4, message_id, error.code, error.description, {}])
        except Exception:
            logger.exception("%s: failed to answer %s", self.identity, action)
            text = json.dumps([4, message_id, "InternalError", "simulator failed", {}])
        with contextlib.suppress(ConnectionClosed):
            await ws.send(text)
        if follow_up is not None:
            self.spawn(follow_up)

    def spawn(self, coroutine):
        """Run a follow-up (e.g. the message a TriggerMessage asked for) beside the reader."""
        task = asyncio.create_task(self._guard(coroutine))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guard(self, coroutine):
        try:
            await coroutine
        except (NotConnected, ConnectionClosed, CallFailed, TimeoutError):
            pass
        except Exception:
            logger.exception("%s: follow-up failed", self.identity)

    async def call(self, action, payload, timeout=None):
        """Send a CALL and return the answer payload (one outstanding CALL at a time)."""
        async with self._call_lock:
            ws = self.ws
            if ws is None or self._connection_ended.is_set():
                raise NotConnected(action)
            message_id = str(next(self._ids))
            future = asyncio.get_running_loop().create_future()
            # A connection lost after a timeout fails a future nobody awaits any more.
            future.add_done_callback(lambda done: done.cancelled() or done.exception())
            self._pending = (message_id, future)
            started = time.monotonic()
            try:
                await ws.send(json.dumps([2, message_id, action, payload], separators=(",", ":")))
                self.stats.sent[action] += 1
                self.journal.append((now_iso(), "sent", action, payload))
                frame = await asyncio.wait_for(future, timeout or self.profile.call_timeout)
            except TimeoutError:
                self.stats.count("call_timeouts")
                raise
            except ConnectionClosed as error:
                raise NotConnected(action) from error
            finally:
                self._pending = None
            self.stats.call_done(action, time.monotonic() - started)
        self.journal.append((now_iso(), "answer", action, frame[2] if frame[0] == 3 else frame[2:4]))
        if frame[0] == 4:
            code = frame[2] if len(frame) > 2 else "?"
            self.stats.errors[(action, code)] += 1
            raise CallFailed(code, frame[3] if len(frame) > 3 else "")
        return frame[2]

    async def data_transfer(self, vendor_id, message_id=None, data=None):
        """Send the CSMS a DataTransfer (tests, demos); its answer payload."""
        payload = {"vendorId": vendor_id}
        if message_id is not None:
            payload["messageId"] = message_id
        if data is not None:
            payload["data"] = data
        return await self.call("DataTransfer", payload)

    # --- transaction messages survive disconnections ----------------------------------------

    async def send_transaction_message(self, action, payload):
        """Send now, or queue until back online (transaction messages are never dropped)."""
        async with self._tx_lock:
            if self.online.is_set() and not self._offline_queue:
                try:
                    return await self.call(action, payload)
                except NotConnected:
                    pass
            self._offline_queue.append((action, self.dialect.mark_offline(action, payload)))
            self.stats.count("queued_offline")
            return None

    async def _drain_offline_queue(self):
        async with self._tx_lock:
            while self._offline_queue:
                action, payload = self._offline_queue[0]
                with contextlib.suppress(CallFailed):
                    await self.call(action, payload)
                self._offline_queue.pop(0)
