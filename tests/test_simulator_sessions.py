"""Charging sessions of simulated stations: the CSMS records the energy the simulator metered."""

import uuid
from decimal import Decimal

import pytest

from tests.helpers import eventually, send_command

VERSIONS = ["2.0.1", "1.6"]


@pytest.fixture
def id_token(api):
    token = f"SIM{uuid.uuid4().hex[:12].upper()}"
    created = api.post("/id-tokens/", json={"id_token": token, "type": "ISO14443"})
    assert created.status_code == 201, created.text
    return token


def transaction_row(api, identity, transaction_id, state):
    """The CSMS's row of the transaction once it is in `state`, else None."""
    rows = api.get("/transactions/", params={"station": identity, "transaction_id": str(transaction_id)}).json()[
        "results"
    ]
    assert len(rows) <= 1, rows
    return rows[0] if rows and rows[0]["state"] == state else None


@pytest.mark.parametrize("version", VERSIONS)
def test_session_energy_matches_what_the_simulator_metered(simulator, simulated_station, api, identity, id_token,
                                                           version):
    station = simulated_station(
        identity,
        version,
        online=False,
        charges=True,
        charging_share=1,
        session_seconds=(2.5, 2.5),
        idle_seconds=(0.1, 0.2),
        meter_interval=0.5,
        max_power_w=22_000,
        id_tokens=(id_token,),
    )
    eventually(lambda: len(simulator.call(lambda: station.stats.sessions)) >= 2, timeout=60)
    simulator.stop(station)
    sessions = simulator.call(lambda: list(station.stats.sessions))
    assert simulator.call(lambda: dict(station.stats.errors)) == {}
    for session in sessions:
        transaction_id = session["transaction_id"]
        row = eventually(lambda: transaction_row(api, identity, transaction_id, "Ended"))  # noqa: B023
        assert session["energy_wh"] > 0
        assert Decimal(row["meter_start_wh"]) == session["meter_start"]
        assert Decimal(row["meter_stop_wh"]) == session["meter_stop"]
        assert Decimal(row["energy_wh"]) == session["energy_wh"], (row, session)
        assert row["id_token_value"] == id_token


@pytest.mark.parametrize("version", VERSIONS)
def test_remote_start_and_stop_drive_a_session(simulator, simulated_station, api, identity, id_token, version):
    station = simulated_station(identity, version, session_seconds=(60, 60), meter_interval=0.5)
    if version == "2.0.1":
        start = {
            "action": "RequestStartTransaction",
            "payload": {"idToken": {"idToken": id_token, "type": "ISO14443"}, "remoteStartId": 42, "evseId": 1},
        }
    else:
        start = {"action": "RemoteStartTransaction", "payload": {"idTag": id_token, "connectorId": 1}}
    answer = send_command(api, identity, **start).json()
    assert answer["response"]["status"] == "Accepted", answer
    transaction_id = eventually(
        lambda: simulator.call(lambda: [s.transaction_id for s in station.sessions() if s.transaction_id is not None])
    )[0]
    eventually(lambda: transaction_row(api, identity, transaction_id, "Active"))
    stop = (
        {"action": "RequestStopTransaction", "payload": {"transactionId": transaction_id}}
        if version == "2.0.1"
        else {"action": "RemoteStopTransaction", "payload": {"transactionId": transaction_id}}
    )
    answer = send_command(api, identity, **stop).json()
    assert answer["response"]["status"] == "Accepted", answer
    row = eventually(lambda: transaction_row(api, identity, transaction_id, "Ended"))
    assert row["stopped_reason"] == "Remote"
    session = eventually(lambda: simulator.call(lambda: list(station.stats.sessions)))[-1]
    assert Decimal(row["energy_wh"]) == session["energy_wh"]
    if version == "2.0.1":
        assert row["remote_start_id"] == 42
