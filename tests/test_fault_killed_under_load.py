"""A server SIGKILLed at a random moment under a charging fleet's load, then restarted: every
message it answered is stored exactly once, and the re-sends of the unanswered ones are counted
once, so each transaction's readings, events and energy match what the fleet was acknowledged."""
import logging
import os
import random
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests import environment
from tests.acked_fleet import AckedFleet, AckedStation
from tests.conftest import ServerProcess
from tests.private_redis import PrivateRedis, stack_env

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(environment.BACKEND != "services",
                       reason="kills and restarts a server process on PostgreSQL and Redis "
                              "(CSMS_TEST_BACKEND=services); the embedded default is one process"),
]

logger = logging.getLogger(__name__)

FLEET_SIZE = 24
KILLS = 2
# Seconds of load before each kill; the seed is printed, and CSMS_KILL_SEED replays a run.
KILL_AFTER = (1.0, 4.0)


@pytest.fixture
def server(django_db_setup):
    redis = PrivateRedis().start()
    server = ServerProcess(f"killed-under-load-{uuid.uuid4().hex[:6]}", extra_env=stack_env(redis))
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()
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
    for pid in process_tree(server.process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.process.wait()
    server.log.close()


def fleet_of(server, run, seed):
    from transactions.models import IdToken

    rng = random.Random(seed)
    stations = []
    for number in range(FLEET_SIZE):
        id_tag = f"KUL{run}{number:02d}".upper()
        IdToken.objects.create(id_token=id_tag, type="ISO14443")
        stations.append(AckedStation(
            lambda: server.ws_url, f"CS-kul-{run}-{number:02d}",
            "2.0.1" if number % 2 == 0 else "1.6", id_tag, seed=rng.random(),
            # Half boot again after reconnecting, half (as after a CSMS-side drop) do not.
            boot_on_reconnect=number % 4 < 2,
        ))
    return stations


def kill_and_restart(server, fleet, delay):
    """Let the fleet load the server for `delay` s, kill it, restart it on the same port and
    wait until every station is acknowledged again; how many messages were in flight."""
    time.sleep(delay)
    in_flight_before = fleet.total("unanswered_at_loss")
    acknowledged = {station: station.acknowledged for station in fleet.stations}
    kill_server(server)
    killed_at = time.monotonic()
    server.start()
    restarted_in = time.monotonic() - killed_at
    fleet.wait_until(lambda: all(station.acknowledged > acknowledged[station]
                                 for station in fleet.stations), 60, "reconnect and go on")
    return fleet.total("unanswered_at_loss") - in_flight_before, restarted_in


def test_killed_server_loses_no_answered_message_and_counts_resends_once(server):
    seed = int(os.environ.get("CSMS_KILL_SEED", random.randrange(2 ** 32)))
    print(f"kill seed {seed} (CSMS_KILL_SEED={seed} replays the kill moments)")
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:6]
    fleet = AckedFleet(fleet_of(server, run, seed)).start()
    try:
        fleet.wait_until(lambda: all(station.acknowledged >= 2 for station in fleet.stations),
                         60, "boot and start charging")
        for kill in range(1, KILLS + 1):
            delay = rng.uniform(*KILL_AFTER)
            in_flight, restarted_in = kill_and_restart(server, fleet, delay)
            print(f"kill {kill} after {delay:.2f} s of load: {in_flight} messages unanswered, "
                  f"server listening again after {restarted_in:.1f} s")
            # The kill hit the fleet mid-load: answers were owed when the process died.
            assert in_flight > 0, f"kill {kill} (seed {seed}) found no message in flight"
        fleet.finish(60)
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
        readings = Counter(transaction.meter_values.values_list("timestamp", "measurand"))
        assert readings == Counter(session.acknowledged_readings), where
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
