"""SecurityEventNotification (2.0.1 A04, 1.6 security extension): stored as the station's
security log, critical types raising an alert; the network-wide API filters it."""
import pytest

from stations.models import Alert, SecurityEvent


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_events_are_stored_and_critical_ones_raise_an_alert(api, connect_station, identity, version):
    station = connect_station(identity, version)
    assert station.call("SecurityEventNotification", {
        "type": "TamperDetectionActivated", "timestamp": "2026-03-01T10:00:00Z",
        "techInfo": "lid sensor"}) == {}
    assert station.call("SecurityEventNotification", {
        "type": "InvalidMessages", "timestamp": "2026-03-01T10:05:00Z"}) == {}

    events = list(SecurityEvent.objects.filter(station__identity=identity).order_by("timestamp"))
    assert [(e.type, e.critical, e.tech_info) for e in events] == [
        ("TamperDetectionActivated", True, "lid sensor"), ("InvalidMessages", False, "")]
    alert = Alert.objects.get(station__identity=identity, kind="SecurityEvent")
    assert (alert.subject, alert.state) == ("TamperDetectionActivated", "Active")
    assert "lid sensor" in alert.message
    # The non-critical one raised nothing.
    assert Alert.objects.filter(station__identity=identity, kind="SecurityEvent").count() == 1

    # The same critical type again updates its alert instead of raising a second one.
    station.call("SecurityEventNotification", {
        "type": "TamperDetectionActivated", "timestamp": "2026-03-01T11:00:00Z"})
    assert Alert.objects.get(station__identity=identity, kind="SecurityEvent").raise_count == 2
    alerts = api.get("/alerts/", params={"station": identity, "kind": "SecurityEvent"}).json()
    assert alerts["count"] == 1


def test_api_filters_the_network_security_log(api, connect_station, identity):
    station = connect_station(identity, "2.0.1")
    for event_type, at in [("SettingSystemTime", "2026-03-02T08:00:00Z"),
                           ("InvalidTLSVersion", "2026-03-02T09:00:00Z"),
                           ("ResetOrReboot", "2026-03-02T10:00:00Z")]:
        station.call("SecurityEventNotification", {"type": event_type, "timestamp": at})
    everything = api.get("/security-events/", params={"station": identity}).json()
    assert [e["type"] for e in everything["results"]] == [
        "ResetOrReboot", "InvalidTLSVersion", "SettingSystemTime"]
    critical = api.get("/security-events/", params={"station": identity, "critical": "true"}).json()
    assert {e["type"] for e in critical["results"]} == {"ResetOrReboot", "SettingSystemTime"}
    window = api.get("/security-events/", params={
        "station": identity, "since": "2026-03-02T08:30:00Z", "until": "2026-03-02T09:30:00Z"}).json()
    assert [e["type"] for e in window["results"]] == ["InvalidTLSVersion"]
    by_type = api.get("/security-events/", params={"type": "InvalidTLSVersion", "station": identity})
    assert by_type.json()["count"] == 1
    detail = api.get(f"/security-events/{everything['results'][0]['id']}/")
    assert detail.status_code == 200 and detail.json()["station"] == identity
    assert api.get("/security-events/", params={"since": "yesterday"}).status_code == 400


def test_an_invalid_notification_is_refused_and_not_stored(connect_station, identity):
    from tests.station import CallFailed

    station = connect_station(identity, "2.0.1")
    with pytest.raises(CallFailed) as refused:
        station.call("SecurityEventNotification", {"type": "X" * 51, "timestamp": "2026-03-01T10:00:00Z"})
    assert refused.value.code == "PropertyConstraintViolation"
    assert not SecurityEvent.objects.filter(station__identity=identity).exists()
