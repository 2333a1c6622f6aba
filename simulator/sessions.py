"""Charging sessions of a simulated station: drivers arrive, plug in, charge and leave; the car of
each session and the meter readings it causes. Mixed into SimulatedStation (station.py)."""

import asyncio
import contextlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from .calls import CallFailed, NotConnected
from .ev import EV
from .meter import Meter, PowerCurve

logger = logging.getLogger(__name__)


@dataclass
class Session:
    """A charging session on one EVSE, from authorization to the car leaving."""

    evse: "Evse"
    id_token: str
    curve: PowerCurve
    started_at: float
    ev: EV = field(default_factory=EV)
    transaction_id: str | int | None = None
    meter_start: int = 0
    remote_start_id: int | None = None
    seq_no: int = 0
    stop_reason: str = ""
    stop_requested: asyncio.Event = field(default_factory=asyncio.Event)
    # Drawing power: from the transaction's start to the car's stop.
    charging: bool = False
    transaction_started_at: datetime | None = None
    departure_s: float | None = None  # what an ISO 15118 car announced

    def demand_w(self):
        """What the car would draw now if nothing limited it but its own maximum."""
        power = self.curve.power_at(time.monotonic() - self.started_at)
        return power if self.ev.max_power_w is None else min(power, self.ev.max_power_w)

    def request_stop(self, reason):
        if not self.stop_requested.is_set():
            self.stop_reason = reason
            self.stop_requested.set()

    def next_seq_no(self):
        seq_no = self.seq_no
        self.seq_no += 1
        return seq_no


@dataclass
class Evse:
    evse_id: int
    connector_id: int = 1
    meter: Meter = field(default_factory=Meter)
    session: Session | None = None
    operative: bool = True
    # The EVSE's composite limit now (None: no profile limits it) and the phases it allows.
    limit_w: float | None = None
    phases: int = 3
    # Set when a remote start arrives while the EVSE is free.
    remote_start: tuple | None = None

    @property
    def busy(self):
        return self.session is not None or self.remote_start is not None


class Drivers:
    """The sessions side of SimulatedStation."""

    async def _end_sessions(self, reason, within=10.0):
        """Drivers stop charging and leave; wait (bounded) until every session has ended."""
        for session in self.sessions():
            session.request_stop(reason)
        deadline = time.monotonic() + within
        # Until each session has said its last (the status after the stop, too).
        while (self.sessions() or self._sessions_closing) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def _drive(self, stop):
        """Drivers arrive, plug in, charge for a while and leave, on every EVSE."""
        await asyncio.gather(*(self._drive_evse(evse, stop) for evse in self.evses))

    async def _drive_evse(self, evse, stop):
        low, high = self.profile.idle_seconds
        while not stop.is_set():
            await self._sleep_unless(stop, self.rng.uniform(low, high))
            if stop.is_set():
                return
            await self.online.wait()
            if evse.busy or not evse.operative:
                continue
            token = self.rng.choice(self.profile.id_tokens) if self.profile.id_tokens else (self.regular_token(evse))
            await self.charge(evse, token)

    def arriving_ev(self, evse):
        """The car of the next session on `evse`: one set in next_ev, else one of the profile's."""
        ev = self.next_ev.pop(evse.evse_id, None)
        if ev is not None:
            return ev
        share = self.profile.iso15118_share
        return EV(
            max_power_w=self.profile.ev_max_power_w,
            iso15118=self.ocpp_version == "2.0.1" and share > 0 and self.rng.random() < share,
            energy_transfer=self.profile.iso15118_energy_transfer,
        )

    async def charge(self, evse, id_token, remote_start_id=None, duration=None, ev=None):
        """One session on `evse`, from plug-in to the car leaving; the energy is recorded."""
        low, high = self.profile.session_seconds
        duration = duration or self.rng.uniform(low, high)
        ev = ev or self.arriving_ev(evse)
        rating = self.profile.max_power_w
        peak = min(rating, ev.max_power_w) if ev.max_power_w else rating * self.rng.uniform(0.4, 1.0)
        session = Session(
            evse=evse,
            id_token=id_token,
            curve=PowerCurve(peak, duration),
            started_at=time.monotonic(),
            remote_start_id=remote_start_id,
            ev=ev,
        )
        evse.session = session
        evse.remote_start = None
        self._sessions_closing += 1
        try:
            if not await self.dialect.begin_session(session):
                self.stats.count("sessions_refused")
                return None
            session.charging = True
            self.smart.transaction_started(evse.evse_id, session.transaction_id)
            if ev.iso15118 and self.ocpp_version == "2.0.1":
                self.spawn(self.dialect.notify_ev_charging_needs(session, duration))
            self.stats.charging += 1
            try:
                await self._meter_until_stopped(session, duration)
            finally:
                self.stats.charging -= 1
            session.charging = False
            self.smart.reevaluate()
            meter_stop = evse.meter.reading_wh()
            await self.dialect.end_session(session, meter_stop)
            record = {
                "identity": self.identity,
                "ocpp_version": self.ocpp_version,
                "evse_id": evse.evse_id,
                "transaction_id": session.transaction_id,
                "id_token": id_token,
                "meter_start": session.meter_start,
                "meter_stop": meter_stop,
                "energy_wh": meter_stop - session.meter_start,
                "stop_reason": session.stop_reason or "Local",
            }
            self.stats.sessions.append(record)
            return record
        except (NotConnected, CallFailed, TimeoutError) as error:
            self.stats.count("sessions_aborted")
            logger.info("%s: session aborted: %r", self.identity, error)
            return None
        finally:
            self._sessions_closing -= 1
            session.charging = False
            if evse.session is session:
                evse.session = None
            self.smart.transaction_ended(evse.evse_id)

    async def _meter_until_stopped(self, session, duration):
        while True:
            elapsed = time.monotonic() - session.started_at
            remaining = duration - elapsed
            if remaining <= 0 or session.stop_requested.is_set() or self.stopping:
                return
            wait = min(self.meter_interval, remaining)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(session.stop_requested.wait(), wait)
                return
            if time.monotonic() - session.started_at >= duration:
                return
            self.smart.reevaluate()
            await self.dialect.meter_sample(session, "Sample.Periodic")

    def regular_token(self, evse):
        """One of the three regulars of this EVSE: an ISO 14443 UID in hex, at most 20
        characters (a 1.6 idTag), never presented at two EVSEs at once."""
        return f"{self._token_prefix}{evse.evse_id:02X}{self.rng.randrange(3):02X}"

    def new_transaction_id(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
