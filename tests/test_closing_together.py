"""Sockets that close at once (a reconnect storm, a proxy restart) are recorded together by the
group commit: their presences removed with one statement, their queued commands ended offline,
their stations marked disconnected, and a station that already holds a newer socket left alone."""
import threading
import uuid

from django.db import transaction

from csms.models import Command, StationPresence
from csms.ocpp.closing import ClosedSession
from csms.ocpp.session import StationSession
from stations.models import Station
from tests.browser_helpers import dashboard  # noqa: F401  (fixture)
from tests.helpers import eventually
from tests.test_metrics import scrape, value


def closed_socket(identity, connection_id):
    station = Station.objects.get(identity=identity)
    return ClosedSession(StationSession(
        identity=identity, ocpp_version="2.0.1", connection_id=connection_id,
        station_pk=station.pk, registration_status="Accepted"))


def test_closings_recorded_together_spare_a_station_that_reconnected(connect_station):
    identities = [f"CS-closing-{uuid.uuid4().hex[:8]}" for _ in range(3)]
    clients = [connect_station(identity) for identity in identities]
    held = dict(StationPresence.objects.filter(identity__in=identities)
                .values_list("identity", "connection_id"))
    queued = Command.objects.create(identity=identities[0], ocpp_version="2.0.1",
                                    action="ClearCache", status=Command.Status.QUEUED)
    closings = [closed_socket(identities[0], held[identities[0]]),
                closed_socket(identities[1], held[identities[1]]),
                # an older socket of the third station, already replaced by the one it holds
                closed_socket(identities[2], str(uuid.uuid4()))]

    with transaction.atomic():
        assert ClosedSession.write_together(closings) == [None, None, None]

    online = dict(Station.objects.filter(identity__in=identities).values_list("identity", "online"))
    assert online == {identities[0]: False, identities[1]: False, identities[2]: True}
    assert set(StationPresence.objects.filter(identity__in=identities)
               .values_list("identity", flat=True)) == {identities[2]}
    queued.refresh_from_db()
    assert queued.status == Command.Status.OFFLINE
    # Nothing on the instances changed: a retry one by one would still do every step.
    assert all(closed.was_live is None and not closed.offline_marked for closed in closings)
    for client in clients:
        client.close()


def test_stations_closing_at_once_go_through_the_group_commit(dashboard, connect_station):  # noqa: F811
    identities = [f"CS-storm-{uuid.uuid4().hex[:8]}" for _ in range(20)]
    clients = [connect_station(identity) for identity in identities]
    jobs_before = value(scrape(dashboard), "csms_ingest_jobs_total")
    threads = [threading.Thread(target=client.close) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    eventually(lambda: not Station.objects.filter(identity__in=identities, online=True).exists())
    assert not StationPresence.objects.filter(identity__in=identities).exists()
    assert value(scrape(dashboard), "csms_ingest_jobs_total") - jobs_before >= 20
