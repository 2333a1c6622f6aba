"""Registering a station from the dashboard, and accepting a station whose boot was Pending."""
from stations.models import Station
from tests.station import CallFailed

# The dashboard fixtures, shared by name.


def register(dashboard, **fields):
    data = {"identity": "", "description": "", "password": "", "registration_policy": "Accepted"}
    data.update(fields)
    return dashboard.submit("/register-station/", data)


def test_register_with_password(dashboard, connect_station, identity):
    password = "s3cret-station-password"
    answer = register(dashboard, identity=identity, password=password, description="Depot bay 4")
    assert answer.url.path == f"/stations/{identity}/"
    assert f"Station {identity} registered" in answer.text
    station = Station.objects.get(identity=identity)
    assert station.description == "Depot bay 4"
    assert station.check_password(password)
    assert connect_station(identity, password=password).boot()["status"] == "Accepted"


def test_invalid_registrations_are_explained(dashboard, identity):
    register(dashboard, identity=identity)
    cases = {
        "already registered": {"identity": identity},
        "must not contain path characters": {"identity": "bad/identity"},
        "may contain only letters": {"identity": f" {identity}x"},
        "at least 16 characters": {"identity": f"{identity}-a", "password": "short"},
        "at most 40 characters": {"identity": f"{identity}-b", "password": "x" * 41},
        "not one of the available choices": {"identity": f"{identity}-c",
                                              "registration_policy": "Maybe"},
        "This field is required": {"identity": ""},
    }
    for message, fields in cases.items():
        answer = register(dashboard, **fields)
        assert answer.status_code == 400, message
        assert message in answer.text.replace("&#x27;", "'"), message
    assert not Station.objects.filter(identity__startswith=f"{identity}-").exists()


def test_accepting_a_pending_station_lets_it_boot(dashboard, connect_station, identity):
    register(dashboard, identity=identity, registration_policy="Pending")
    station = connect_station(identity, "2.0.1", boot=False)
    assert station.boot()["status"] == "Pending"
    try:
        station.call("Heartbeat", {})
        raise AssertionError("a Pending station's Heartbeat must be refused")
    except CallFailed as refused:
        assert refused.code == "SecurityError"
    page = dashboard.get(f"/stations/{identity}/").text
    assert 'id="accept-station"' in page

    answer = dashboard.submit(f"/stations/{identity}/registration-policy/",
                              {"registration_policy": "Accepted"}, form_page=f"/stations/{identity}/")
    assert "its next boot will be answered Accepted" in answer.text
    assert "Asked it to send a BootNotification now" in answer.text
    assert Station.objects.get(identity=identity).registration_policy == "Accepted"
    _, action, payload = station.next_call()
    assert (action, payload) == ("TriggerMessage", {"requestedMessage": "BootNotification"})
    assert station.boot()["status"] == "Accepted"
    assert Station.objects.get(identity=identity).registration_status == "Accepted"
    assert 'id="accept-station"' not in dashboard.get(f"/stations/{identity}/").text


def test_registration_policy_must_be_a_known_status(dashboard, identity):
    register(dashboard, identity=identity)
    answer = dashboard.submit(f"/stations/{identity}/registration-policy/",
                              {"registration_policy": "Whenever"}, form_page=f"/stations/{identity}/")
    assert answer.status_code == 400
    assert "Choose Accepted, Pending or Rejected" in answer.text
    assert Station.objects.get(identity=identity).registration_policy == "Accepted"
