"""Posting a command to a held station costs a bounded number of queries, and its nudge reaches the
holder's channel straight from the API call (no Celery task on the way)."""
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from csms.models import Command, ServerProcess, StationPresence
from stations.actions import register_station

# Authentication (token + user), the station, the presence lookup, the command INSERT, and the
# audit entry (INSERT, then its status). The nudge reuses the presence just read: it needs none.
POST_QUERY_BUDGET = 6


@pytest.fixture
def held_station():
    """A station whose socket a (pretend) server process holds on a channel this test reads."""
    identity = f"CS-post-{uuid.uuid4().hex[:8]}"
    station = register_station(identity)
    station.ocpp_version = "2.0.1"
    station.save(update_fields=["ocpp_version"])
    layer = get_channel_layer()
    channel_name = async_to_sync(layer.new_channel)()
    now = timezone.now()
    server = ServerProcess.objects.create(server_id=uuid.uuid4().hex, hostname="test", pid=1,
                                          started_at=now, last_beat_at=now)
    StationPresence.objects.create(identity=identity, server=server, channel_name=channel_name,
                                   connection_id=str(uuid.uuid4()), ocpp_version="2.0.1",
                                   connected_at=now)
    return station, channel_name


@pytest.fixture
def client():
    # Its own user, so the budget counts a token lookup like any integrator's.
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    user = User.objects.create_superuser(f"poster-{uuid.uuid4().hex[:8]}", "poster@example.com", "x")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


def test_command_post_stays_within_its_query_budget_and_nudges_the_holder(held_station, client):
    station, channel_name = held_station
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/stations/{station.identity}/commands/",
                               {"action": "ClearCache", "payload": {}, "wait": 0}, format="json")
    assert response.status_code == 202, response.content
    command = Command.objects.get(pk=response.json()["id"])
    assert command.status == Command.Status.QUEUED
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) <= POST_QUERY_BUDGET, "\n".join(statements)

    nudge = async_to_sync(get_channel_layer().receive)(channel_name)
    assert nudge == {"type": "ocpp.command_ready"}


def test_command_for_a_station_nobody_holds_is_offline_at_once(held_station, client):
    station, _ = held_station
    StationPresence.objects.filter(identity=station.identity).delete()
    response = client.post(f"/api/v1/stations/{station.identity}/commands/",
                           {"action": "ClearCache", "payload": {}, "wait": 0}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "offline"
