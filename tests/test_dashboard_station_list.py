"""The station list page: search and filters, online/total counts, and a bounded query count."""
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stations import actions
from stations.models import Station

# Session, user, counts, page count, stations, their connectors (with EVSEs).
LIST_QUERY_BUDGET = 6


@pytest.fixture
def fleet():
    """Stations of both versions, some online, with connectors; identities share a fresh prefix."""
    prefix = f"FL-{uuid.uuid4().hex[:6]}"
    for number in range(30):
        station = actions.register_station(f"{prefix}-{number:02}")
        version = "2.0.1" if number % 2 else "1.6"
        Station.objects.filter(pk=station.pk).update(
            online=number % 3 == 0, ocpp_version=version,
            registration_status="Pending" if number == 7 else "Accepted",
        )
        for connector_id in (1, 2):
            actions.record_connector_status(
                station.pk, 1 if version == "2.0.1" else None, connector_id, "Available")
    return prefix


def identities(answer):
    return [station.identity for station in answer.context["page"]]


def test_search_and_filters(operator_client, fleet):
    assert len(identities(operator_client.get("/stations/", {"q": fleet}))) == 30
    assert identities(operator_client.get("/stations/", {"q": f"{fleet}-07"})) == [f"{fleet}-07"]
    online = identities(operator_client.get("/stations/", {"q": fleet, "state": "online"}))
    assert online == [f"{fleet}-{n:02}" for n in range(0, 30, 3)]
    offline_16 = identities(operator_client.get("/stations/", {"q": fleet, "state": "offline", "ocpp_version": "1.6"}))
    assert offline_16 == [f"{fleet}-{n:02}" for n in range(30) if n % 2 == 0 and n % 3]
    pending = identities(operator_client.get("/stations/", {"q": fleet, "registration_status": "Pending"}))
    assert pending == [f"{fleet}-07"]


def test_invalid_filter_is_reported_not_applied(operator_client, fleet):
    answer = operator_client.get("/stations/", {"q": fleet, "ocpp_version": "3.0"})
    assert answer.status_code == 200
    assert len(identities(answer)) == 30
    assert "Ignored: ocpp_version" in answer.content.decode()


def test_counts_cover_every_station(operator_client, fleet):
    expected = {
        "total": Station.objects.count(),
        "online": Station.objects.filter(online=True).count(),
        "pending": Station.objects.filter(registration_status="Pending").count(),
    }
    assert operator_client.get("/counts/").json() == expected
    page = operator_client.get("/stations/", {"q": f"{fleet}-01"})
    assert page.context["counts"] == expected
    html = page.content.decode()
    assert f'<span data-count="online">{expected["online"]}</span>' in html
    assert f'<span data-count="total">{expected["total"]}</span>' in html


def test_rows_show_connectors_and_state(operator_client, fleet):
    html = operator_client.get("/stations/", {"q": f"{fleet}-03"}).content.decode()
    assert f'data-identity="{fleet}-03"' in html
    assert '<span class="badge ok">online</span>' in html
    assert "1/1 Available" in html and "1/2 Available" in html


def test_query_count_does_not_grow_with_stations(operator_client, fleet):
    with CaptureQueriesContext(connection) as one:
        assert operator_client.get("/stations/", {"q": f"{fleet}-01"}).status_code == 200
    with CaptureQueriesContext(connection) as thirty:
        assert operator_client.get("/stations/", {"q": fleet}).status_code == 200
    assert len(thirty) <= LIST_QUERY_BUDGET, [q["sql"] for q in thirty.captured_queries]
    assert len(thirty) == len(one)


def test_pages_of_a_large_list(operator_client, fleet, monkeypatch):
    from stations import views

    first = operator_client.get("/stations/", {"q": fleet})
    assert first.context["page"].paginator.num_pages == 1
    monkeypatch.setattr(views, "STATIONS_PER_PAGE", 20)
    second = operator_client.get("/stations/", {"q": fleet, "page": 2})
    assert identities(second) == [f"{fleet}-{n:02}" for n in range(20, 30)]
    # Pushes never add rows: the page subscribes to its own rows (and re-reads itself when a
    # station sorting within or after them may belong on it).
    live = second.context["live"]
    assert live["stations"] == identities(second)
    assert live["range"] == [f"{fleet}-20", f"{fleet}-29"] and live["open_end"] is True
    assert f"?q={fleet}&amp;page=1" in second.content.decode()
