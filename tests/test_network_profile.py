"""SetNetworkProfile (2.0.1 B09): validated before sending (every reason in one 400; the slots
the station's device model offers), sent through the API and the station page, the station's
answer (Accepted / Rejected / Failed) kept and shown."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devicemodel.models import Component, DataType, Variable, VariableCharacteristics
from stations.commands import network
from stations.models import Station

PROFILE = {"ocppVersion": "OCPP20", "ocppTransport": "JSON",
           "ocppCsmsUrl": "wss://new-csms.example.com/ocpp/", "messageTimeout": 30,
           "securityProfile": 2, "ocppInterface": "Wired0"}


def set_profile(api, identity, slot, connection_data=None, wait=10):
    return api.post("/network-profiles/", json={
        "station": identity, "configuration_slot": slot,
        "connection_data": connection_data or PROFILE, "wait": wait})


def offer_slots(identity, values):
    station = Station.objects.get(identity=identity)
    component = Component.objects.create(station=station, name="OCPPCommCtrlr")
    variable = Variable.objects.create(station=station, component=component,
                                       name="NetworkConfigurationPriority")
    VariableCharacteristics.objects.create(variable=variable, data_type=DataType.SEQUENCE_LIST,
                                           values_list=values)


def test_every_reason_in_one_refusal(api, connect_station, identity):
    station = connect_station(identity)
    bad = dict(PROFILE, ocppCsmsUrl="http://csms.example.com/", securityProfile=5,
               messageTimeout=0, ocppTransport="SOAP", ocppInterface="Carrier", apn={"apn": 3})
    response = set_profile(api, identity, -1, bad)
    assert response.status_code == 400, response.text
    errors = " | ".join(response.json()["errors"])
    for reason in ("configurationSlot must be 0 or more", "ws:// or wss://",
                   "securityProfile must be 0, 1, 2 or 3", "messageTimeout must be a positive",
                   "SOAP", "ocppInterface", "apn"):
        assert reason in errors, (reason, errors)

    # TLS profiles need wss://; what is missing is named.
    response = set_profile(api, identity, 1, dict(PROFILE, ocppCsmsUrl="ws://csms.example.com/"))
    assert response.status_code == 400 and "must be wss://" in response.text
    partial = {key: value for key, value in PROFILE.items() if key != "ocppInterface"}
    response = set_profile(api, identity, 1, partial)
    assert response.status_code == 400 and "ocppInterface" in response.text
    assert station.received_calls.empty()  # nothing was sent


def test_slots_the_device_model_offers(api, connect_station, identity):
    station = connect_station(identity)
    station.answers["SetNetworkProfile"] = {"status": "Accepted"}
    offer_slots(identity, "0,1,2")
    response = set_profile(api, identity, 3)
    assert response.status_code == 400
    assert "not one the station offers" in response.text and "0, 1, 2" in response.text
    assert set_profile(api, identity, 2).status_code == 201


@pytest.mark.parametrize("answer", ["Accepted", "Rejected", "Failed"])
def test_answer_is_kept(api, connect_station, identity, answer):
    station = connect_station(identity)
    station.answers["SetNetworkProfile"] = {"status": answer}
    response = set_profile(api, identity, 1)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["action"] == "SetNetworkProfile" and body["response"] == {"status": answer}
    assert body["payload"] == {"configurationSlot": 1, "connectionData": PROFILE}
    assert body["status"] == ("accepted" if answer == "Accepted" else "rejected")


def test_not_for_16_nor_before_connecting(api, connect_station, identity):
    connect_station(identity, "1.6")
    response = set_profile(api, identity, 1)
    assert response.status_code == 400 and "2.0.1 only" in response.text
    assert api.post("/stations/", json={"identity": f"{identity}-new"}).status_code == 201
    assert set_profile(api, f"{identity}-new", 1).status_code == 409


def test_station_page_form(dashboard, connect_station, identity):
    station = connect_station(identity)
    station.answers["SetNetworkProfile"] = {"status": "Rejected"}
    form = {"configuration_slot": "1", "ocpp_csms_url": "wss://new-csms.example.com/ocpp/",
            "security_profile": "2", "ocpp_interface": "Wireless0", "message_timeout": "45",
            "ocpp_version": "OCPP20", "apn": '{"apn": "internet", "apnAuthentication": "AUTO"}',
            "vpn": ""}
    page = dashboard.submit(f"/stations/{identity}/network-profile/", form,
                            form_page=f"/stations/{identity}/")
    assert "SetNetworkProfile slot 1: Rejected" in page.text
    _, action, payload = station.next_call()
    assert action == "SetNetworkProfile"
    assert payload["connectionData"]["apn"] == {"apn": "internet", "apnAuthentication": "AUTO"}
    assert payload["connectionData"]["messageTimeout"] == 45
    refused = dashboard.submit(f"/stations/{identity}/network-profile/",
                               dict(form, ocpp_csms_url="ws://plain.example.com/"),
                               form_page=f"/stations/{identity}/")
    assert "SetNetworkProfile not sent" in refused.text and "wss://" in refused.text


URLS = st.builds(lambda scheme, host: f"{scheme}://{host}/ocpp/",
                 st.sampled_from(["ws", "wss", "http", "https", "ftp"]),
                 st.sampled_from(["csms.example.com", "10.0.0.1:9000", ""]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(slot=st.integers(-3, 5), url=URLS, profile=st.integers(-1, 5), timeout=st.integers(-5, 90),
       transport=st.sampled_from(["JSON", "SOAP"]))
def test_validation_property(offered_station, slot, url, profile, timeout, transport):
    """Each rule is reported exactly when broken, and a profile breaking none has no reason."""
    data = dict(PROFILE, ocppCsmsUrl=url, securityProfile=profile, messageTimeout=timeout,
                ocppTransport=transport)
    reasons = " | ".join(network.validate(offered_station, slot, data))
    scheme, _, rest = url.partition("://")
    broken = {
        "0 or more": slot < 0,
        "not one the station offers": slot > 2,
        "ws:// or wss:// URL": scheme not in ("ws", "wss") or rest.startswith("/"),
        "must be wss://": scheme == "ws" and rest[:1] != "/" and profile in (2, 3),
        "0, 1, 2 or 3": not 0 <= profile <= 3,
        "positive number": timeout <= 0,
        "SOAP": transport == "SOAP",
    }
    for reason, expected in broken.items():
        assert (reason in reasons) == expected, (reason, reasons)
    assert bool(reasons) == any(broken.values())


@pytest.fixture
def offered_station(identity):
    Station.objects.create(identity=identity, ocpp_version="2.0.1")
    offer_slots(identity, "0,1,2")
    return Station.objects.get(identity=identity)
