"""StatusNotification: EVSEs and connectors are learned from what stations report."""
from stations.models import Connector, Station


def test_201_status_learns_evses_and_connectors(connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.status("Available", evse_id=1, connector_id=1)
    station.status("Occupied", evse_id=2, connector_id=1, timestamp="2026-01-01T00:00:05Z")
    station.status("Available", evse_id=2, connector_id=2)
    row = Station.objects.get(identity=identity)
    assert sorted(row.evses.values_list("evse_id", flat=True)) == [1, 2]
    statuses = {(c.evse.evse_id, c.connector_id): c.status for c in row.connectors.select_related("evse")}
    assert statuses == {(1, 1): "Available", (2, 1): "Occupied", (2, 2): "Available"}


def test_201_older_status_does_not_overwrite_newer(connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.status("Occupied", timestamp="2026-01-01T00:00:10Z")
    station.status("Available", timestamp="2026-01-01T00:00:05Z")  # replayed late
    assert Connector.objects.get(station__identity=identity).status == "Occupied"


def test_16_status_connectors_without_evse_and_station_status(connect_station, identity):
    station = connect_station(identity, "1.6")
    station.status("Charging", connector_id=1)
    station.status("Faulted", connector_id=2)
    station.status("Available", connector_id=0)
    row = Station.objects.get(identity=identity)
    assert row.evses.count() == 0
    assert dict(row.connectors.values_list("connector_id", "status")) == {1: "Charging", 2: "Faulted"}
    assert row.status == "Available"
