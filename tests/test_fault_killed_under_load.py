"""A server SIGKILLed at a random moment under a charging fleet's load, then restarted: every
message it answered is stored exactly once, and the re-sends of the unanswered ones are counted
once, so each transaction's readings, events and energy match what the fleet was acknowledged."""
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests import environment
from tests.acked_fleet import AckedFleet, AckedStation
from tests.conftest import ServerProcess, listening_ports
from tests.private_redis import PrivateRedis, stack_env

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(environment.BACKEND != "services",
                       reason="kills and restarts a server process on PostgreSQL and Redis "
                              "(CSMS_TEST_BACKEND=services); the embedded default is one process"),
]

FLEET_SIZE = 24
# Seconds of load before each kill; the seed is printed, and CSMS_KILL_SEED replays a run.
KILL_AFTER = (1.0, 4.0)


class ServerWithWorkers(ServerProcess):
    """`runcsms --workers N`: ready once its N worker processes (not the parent) listen."""

    def __init__(self, name, extra_env, workers):
        super().__init__(name, extra_env=extra_env, arguments=["--workers", str(workers)])
        self.workers = workers

    def wait_until_listening(self):
        deadline = time.monotonic() + 120
        while len([pid for pid in process_tree(self.process.pid)[1:]
                   if self.port in listening_ports_of(pid)]) < self.workers:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.workers} workers did not listen on {self.port}")
            time.sleep(0.1)


def listening_ports_of(pid):
    try:
        return listening_ports(pid)
    except OSError:  # the process ended meanwhile
        return set()


class Servers:
    """The servers of the test on one private Redis; `current` is the one the stations dial."""

    def __init__(self, redis):
        self.env = stack_env(redis)
        self.started = []
        # The first server runs several worker processes: the kill takes them all at once (a
        # restart would load Django twice over, parent then workers: the standby is single).
        self.current = self.new(workers=2).start()

    def new(self, workers=1):
        name = f"killed-under-load-{uuid.uuid4().hex[:6]}"
        server = (ServerWithWorkers(name, self.env, workers) if workers > 1
                  else ServerProcess(name, extra_env=self.env))
        self.started.append(server)
        return server

    def start_standby(self):
        """A second server, started in the background while the fleet loads the current one."""
        standby = self.new()
        starting = threading.Thread(target=standby.start, daemon=True)
        starting.start()
        return standby, starting

    def ws_url(self):
        return self.current.ws_url

    def stop(self):
        for server in self.started:
            if server.process is not None and server.process.poll() is None:
                server.stop()


@pytest.fixture
def servers(django_db_setup):
    redis = PrivateRedis().start()
    servers = Servers(redis)
    yield servers
    servers.stop()
    redis.stop()


def process_tree(pid):
    """`pid` and every process below it (a server with worker processes dies whole)."""
    tree = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            tree.extend(process_tree(int(child)))
    return tree


def kill_server(server):
    """SIGKILL the server and all of its processes at once, as a power cut or OOM kill would."""
    tree = process_tree(server.process.pid)
    print(f"SIGKILL to {len(tree)} server processes")
    for pid in tree:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait()
    server.log.close()


def fleet_of(servers, run, seed):
    from transactions.models import IdToken

    rng = random.Random(seed)
    stations = []
    for number in range(FLEET_SIZE):
        id_tag = f"KUL{run}{number:02d}".upper()
        IdToken.objects.create(id_token=id_tag, type="ISO14443")
        stations.append(AckedStation(
            servers.ws_url, f"CS-kul-{run}-{number:02d}",
            "2.0.1" if number % 2 == 0 else "1.6", id_tag, seed=rng.random(),
            # Half boot again after reconnecting, half (as after a CSMS-side drop) do not.
            boot_on_reconnect=number % 4 < 2,
        ))
    return stations


def kill_under_load(servers, fleet, kill, delay, seed, restart, how):
    """Let the fleet load the current server for `delay` s, kill it, bring up `restart()`'s
    server and wait until every station is acknowledged again."""
    time.sleep(delay)
    in_flight_before = fleet.total("unanswered_at_loss")
    acknowledged = {station: station.acknowledged for station in fleet.stations}
    kill_server(servers.current)
    killed_at = time.monotonic()
    servers.current = restart()
    away = time.monotonic() - killed_at
    fleet.wait_until(lambda: all(station.acknowledged > acknowledged[station]
                                 for station in fleet.stations), 60, "reconnect and go on")
    in_flight = fleet.total("unanswered_at_loss") - in_flight_before
    print(f"kill {kill} after {delay:.2f} s of load: {in_flight} messages unanswered; "
          f"{how}, stations without a server for {away:.1f} s")
    # The kill hit the fleet mid-load: answers were owed when the process died.
    assert in_flight > 0, f"kill {kill} (seed {seed}) found no message in flight"


def restart_on_same_port(server):
    def restart():
        return server.start()
    return restart


def fail_over_to(standby, starting):
    def restart():
        starting.join(120)
        assert standby.process is not None and standby.process.poll() is None, "standby is down"
        return standby
    return restart


def test_killed_server_loses_no_answered_message_and_counts_resends_once(servers):
    seed = int(os.environ.get("CSMS_KILL_SEED", random.randrange(2 ** 32)))
    print(f"kill seed {seed} (CSMS_KILL_SEED={seed} replays the kill moments)")
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6]
    began = time.monotonic()
    # The second server starts while the fleet loads the first (start-up takes seconds).
    standby = servers.start_standby()
    fleet = AckedFleet(fleet_of(servers, run, seed)).start()
    try:
        fleet.wait_until(lambda: all(station.acknowledged >= 2 for station in fleet.stations),
                         60, "boot and start charging")
        print(f"fleet charging after {time.monotonic() - began:.1f} s")
        # First the stations move to the second server; then that one comes back on its port.
        kill_under_load(servers, fleet, 1, rng.uniform(*KILL_AFTER), seed,
                        fail_over_to(*standby), "failed over to a second server")
        kill_under_load(servers, fleet, 2, rng.uniform(*KILL_AFTER), seed,
                        restart_on_same_port(servers.current), "restarted on its port")
        fleet.finish(60)
        print(f"every session ended after {time.monotonic() - began:.1f} s")
    finally:
        fleet.close()

    for station in fleet.stations:
        assert station.errors == [], (station.identity, station.errors)
    print(f"{fleet.total('acknowledged')} messages acknowledged, "
          f"{fleet.total('resent_acknowledged')} of them after a re-send, "
          f"{fleet.total('queued_offline')} queued while the server was away, "
          f"{sum(len(station.sessions) for station in fleet.stations)} sessions")
    assert fleet.total("resent_acknowledged") > 0
    sent_energy = sum(assert_stored_as_acknowledged(station) for station in fleet.stations)
    assert stored_energy(run) == sent_energy


def assert_stored_as_acknowledged(station):
    """Compare the station's stored transactions with what it was acknowledged; its energy."""
    from transactions.models import MeterValue, Transaction

    transactions = {transaction.transaction_id: transaction for transaction in
                    Transaction.objects.filter(station__identity=station.identity)}
    assert len(transactions) == len(station.sessions), (
        station.identity, sorted(transactions), [s.transaction_id for s in station.sessions])
    assert not MeterValue.objects.filter(station__identity=station.identity,
                                         transaction__isnull=True).exists()
    energy = 0
    for session in station.sessions:
        where = (station.identity, session.transaction_id)
        assert session.ended, where
        transaction = transactions[session.transaction_id]
        assert transaction.state == Transaction.State.ENDED, where
        events = list(transaction.events.values_list("event_type", "seq_no"))
        if station.version == "2.0.1":
            assert Counter(seq_no for _, seq_no in events) == Counter(session.acknowledged_seq_nos), where
            assert Counter(kind for kind, _ in events) == Counter(session.acknowledged_events), where
        else:
            assert sorted(kind for kind, _ in events) == ["Ended", "Started"], where
        stored = Counter(transaction.meter_values.values_list("timestamp", "measurand"))
        acknowledged = Counter(session.acknowledged_readings)
        # Each acknowledged reading stored exactly once: none lost, none twice, none unsent.
        assert stored == acknowledged, (where, "lost", acknowledged - stored,
                                        "extra or twice", stored - acknowledged)
        assert not transaction.meter_values.filter(after_end=True).exists(), where
        assert transaction.meter_start_wh == session.meter_start, where
        assert transaction.meter_stop_wh == session.meter_stop, where
        assert transaction.energy_wh == session.meter_stop - session.meter_start, where
        energy += session.meter_stop - session.meter_start
    return energy


def stored_energy(run):
    from django.db.models import Sum

    from transactions.models import Transaction

    return Transaction.objects.filter(station__identity__startswith=f"CS-kul-{run}-").aggregate(
        total=Sum("energy_wh"))["total"]
