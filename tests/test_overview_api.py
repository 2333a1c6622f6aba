"""/api/v1/overview/: the network's figures agree with a row-by-row count, power and energy
follow the running transactions' meter readings, and the page's query count stays fixed."""
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import httpx
import pytest

from tests.helpers import eventually
from tests.overview_helpers import (
    active_alert_count, ago, iso, naive_counts, new_transaction_id, session, start_network,
)
from transactions.overview import HISTORY_BUCKET_SECONDS, _compute_history


def test_counts_and_attention_agree_with_every_row(api, connect_station, identity):
    _, names = start_network(connect_station, identity)

    def agreed():
        figures = api.get("/overview/").json()
        stations, connectors, attention = naive_counts()
        if (figures["stations"], figures["connectors"]) != (stations, connectors):
            return None
        if figures["alerts"]["active"] != active_alert_count():
            return None
        return figures if figures["attention_total"] == len(attention) else None

    figures = eventually(agreed)
    rows = {row["identity"]: row for row in figures["attention"]}
    assert figures["connectors"]["occupied"] >= 1 and figures["stations"]["faulted"] >= 1
    # Worst first: faulted, then rejected, then offline.
    rank = [0 if any("faulted" in r for r in row["reasons"]) else
            1 if "boot rejected" in row["reasons"] else 2 if not row["online"] else 3
            for row in figures["attention"]]
    assert rank == sorted(rank)
    if names["faulted"] in rows:
        assert rows[names["faulted"]]["reasons"] == ["1 connector faulted"]
    if names["rejected"] in rows:
        assert "boot rejected" in rows[names["rejected"]]["reasons"]
    assert names["mixed"] not in rows
    # The stations' alerts (boot rejected, connector faulted) are among the latest shown.
    alerted = {alert["station"] for alert in figures["alerts"]["latest"] if alert["source"] == "station"}
    assert {names["rejected"], names["faulted"]} <= alerted


def test_power_energy_and_sessions_follow_the_meter_readings(api, connect_station, identity):
    before = api.get("/overview/").json()
    station = connect_station(identity)
    phaseless, phased = new_transaction_id(), new_transaction_id()
    session(station, phaseless, 0, "Started", ago(minutes=10), 1000)
    session(station, phaseless, 1, "Updated", ago(minutes=1), 4000, power=7.2)
    session(station, phased, 0, "Started", ago(minutes=5), 500, power=[1.0, 1.0, 1.0])
    session(station, phased, 1, "Updated", ago(seconds=5), 1500, power=[2.0, 2.0, 2.0])

    def moved(sessions, power_kw, energy_kwh):
        figures = api.get("/overview/").json()
        return (figures["sessions_running"] - before["sessions_running"] == sessions
                and figures["power_kw"] - before["power_kw"] == pytest.approx(power_kw)
                and figures["energy_today_kwh"] - before["energy_today_kwh"]
                == pytest.approx(energy_kwh)) and figures

    figures = eventually(lambda: moved(2, 7.2 + 6.0, 3.0 + 1.0))
    history = figures["history"]
    assert history["bucket_seconds"] == 900 and len(history["points"]) == 96
    starts = [point["start"] for point in history["points"]]
    assert starts == sorted(starts)

    # The phase-less session ends: its power leaves the total, its energy stays today's.
    session(station, phaseless, 2, "Ended", ago(seconds=1), 4200)
    eventually(lambda: moved(1, 6.0, 3.2 + 1.0))


def test_history_buckets_hold_the_power_and_sessions(connect_station, identity):
    station = connect_station(identity)
    transaction_id = new_transaction_id()
    moment = datetime.now(dt_timezone.utc) - timedelta(seconds=2)
    session(station, transaction_id, 0, "Started", iso(moment - timedelta(seconds=1)), 100, power=11.0)
    session(station, transaction_id, 1, "Updated", iso(moment), 200, power=[3.0, 3.0, 3.0])
    # Computed here, not through the server's cache of a minute.
    current = int(moment.timestamp()) // HISTORY_BUCKET_SECONDS
    history = _compute_history(current, HISTORY_BUCKET_SECONDS)
    last = history["points"][-1]
    # Its phase-less 11 kW wins over its phases; 9 kW when the start fell in the bucket before.
    assert last["power_kw"] >= 9.0
    assert last["sessions"] >= 1


def test_overview_needs_a_token(csms):
    answer = httpx.get(f"{csms.base_url}/api/v1/overview/")
    assert answer.status_code in (401, 403)
    assert answer.headers["content-type"].startswith("application/json")


def test_overview_page_query_count_is_fixed(operator_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        answer = operator_client.get("/")
    assert answer.status_code == 200
    assert b'id="history-chart"' in answer.content
