"""The station page as served: boot facts, the EVSE/connector tree, the log, and its query cost."""
import json
import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from csms.models import Command, MessageLogEntry
from stations import actions
from stations.models import Station
from tests.helpers import eventually

# Session, user, station, its EVSEs, their connectors, station-level connectors, log, commands
# (8), plus the panels other apps include in the page (8 more today).
DETAIL_QUERY_BUDGET = 18


def make_station(evses=1, connectors=1, frames=0, commands=0):
    identity = f"SP-{uuid.uuid4().hex[:8]}"
    station = actions.register_station(identity, description="Car park level 2")
    Station.objects.filter(pk=station.pk).update(
        ocpp_version="2.0.1", online=True, registration_status="Accepted", vendor_name="Acme",
        model="Wallbox 22", serial_number="SER-9", firmware_version="4.2", boot_reason="PowerUp",
        connection_changed_at=timezone.now(), remote_address="10.0.0.7",
    )
    for evse_id in range(1, evses + 1):
        for connector_id in range(1, connectors + 1):
            actions.record_connector_status(station.pk, evse_id, connector_id, "Available")
    MessageLogEntry.objects.bulk_create(
        MessageLogEntry(identity=identity, timestamp=timezone.now(), direction="in", message_type=2,
                        message_id=str(n), action="Heartbeat", frame=json.dumps([2, str(n), "Heartbeat", {}]))
        for n in range(frames)
    )
    Command.objects.bulk_create(
        Command(identity=identity, ocpp_version="2.0.1", action="ClearCache", status="accepted",
                response={"status": "Accepted"}) for _ in range(commands)
    )
    return identity


def test_page_shows_boot_facts_and_the_connector_tree(operator_client):
    identity = make_station(evses=2, connectors=2)
    html = operator_client.get(f"/stations/{identity}/").content.decode()
    for fact in ["Car park level 2", "Acme", "Wallbox 22", "SER-9", "4.2", "PowerUp", "10.0.0.7",
                 "online since"]:
        assert fact in html, fact
    for key in ["1/1", "1/2", "2/1", "2/2"]:
        assert f'data-connector="{key}"' in html
    assert html.count('<li data-evse="') == 2


def test_16_connectors_hang_under_the_station(operator_client, connect_station, identity):
    station = connect_station(identity, "1.6")
    station.status("Charging", connector_id=1)
    station.status("Faulted", connector_id=0)
    html = operator_client.get(f"/stations/{identity}/").content.decode()
    assert '<li data-evse=""><strong>Station</strong>' in html
    assert 'data-connector="/1"' in html and "Charging" in html
    assert 'id="station-status">Faulted' in html
    assert '<option value="Hard"' in html and '<option value="Immediate"' not in html
    assert '<option value="DiagnosticsStatusNotification"' in html


def test_log_frames_are_readable(operator_client, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    station.call("Heartbeat", {})
    # The log is written in batches: wait for the Heartbeat's call and answer.
    eventually(lambda: MessageLogEntry.objects.filter(identity=identity, action="Heartbeat").count() == 2)
    MessageLogEntry.objects.create(identity=identity, timestamp=timezone.now(), direction="in",
                                   frame="[2, not json", outcome="FormatViolation")
    html = operator_client.get(f"/stations/{identity}/").content.decode()
    assert '&quot;chargingStation&quot;: {\n' in html  # pretty-printed BootNotification
    assert "[2, not json" in html
    assert 'class="badge outcome-error">FormatViolation' in html


def test_unknown_station_is_404(operator_client):
    assert operator_client.get("/stations/no-such-station/").status_code == 404


def test_query_count_does_not_grow_with_the_station(operator_client):
    small = make_station()
    large = make_station(evses=4, connectors=2, frames=150, commands=30)
    with CaptureQueriesContext(connection) as one:
        assert operator_client.get(f"/stations/{small}/").status_code == 200
    with CaptureQueriesContext(connection) as many:
        answer = operator_client.get(f"/stations/{large}/")
    assert len(answer.context["log_entries"]) == 100 and len(answer.context["commands"]) == 20
    assert len(many) <= DETAIL_QUERY_BUDGET, [q["sql"] for q in many.captured_queries]
    assert len(many) == len(one)
