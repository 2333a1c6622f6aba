"""Authorize for both versions: accepted, blocked, expired, unknown, no credit, not at this
location, and what the answer carries (group, cache expiry, personal message). ConcurrentTx:
test_transaction_concurrent_tx.py."""
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from stations.models import Station
from tests.transactions_helpers import event, new_token, tariff_for_station


def authorize(station, token):
    value = token if isinstance(token, str) else token.id_token
    if station.version == "1.6":
        return station.call("Authorize", {"idTag": value})["idTagInfo"]
    token_type = "ISO14443" if isinstance(token, str) else token.type
    return station.call("Authorize", {"idToken": {"idToken": value, "type": token_type}})["idTokenInfo"]


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_token_statuses(connect_station, identity, version):
    station = connect_station(identity, version)
    assert authorize(station, new_token())["status"] == "Accepted"
    assert authorize(station, new_token(status="Blocked"))["status"] == "Blocked"
    assert authorize(station, new_token(status="Invalid"))["status"] == "Invalid"
    expired = new_token(expires_at=timezone.now() - timedelta(minutes=1))
    assert authorize(station, expired)["status"] == "Expired"
    unknown = authorize(station, f"NOPE{uuid.uuid4().hex[:8]}")
    assert unknown == {"status": "Unknown" if version == "2.0.1" else "Invalid"}


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_blocked_group_blocks_its_members(connect_station, identity, version):
    group = new_token("GRP", type="Central", status="Blocked")
    station = connect_station(identity, version)
    assert authorize(station, new_token(group=group))["status"] == "Blocked"


def test_answer_carries_group_expiry_and_message_201(connect_station, identity):
    group = new_token("GRP", type="Central")
    expires = timezone.now() + timedelta(days=3)
    token = new_token(group=group, expires_at=expires, language="nl", charging_priority=3,
                      personal_message="Welkom", allowed_evse_ids=[1, 2])
    info = authorize(connect_station(identity), token)
    assert info["status"] == "Accepted"
    assert info["groupIdToken"] == {"idToken": group.id_token, "type": "Central"}
    assert info["cacheExpiryDateTime"] == expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert info["chargingPriority"] == 3 and info["language1"] == "nl" and info["evseId"] == [1, 2]
    assert info["personalMessage"] == {"format": "UTF8", "content": "Welkom", "language": "nl"}


def test_token_without_expiry_gets_a_cache_expiry(connect_station, identity):
    info = authorize(connect_station(identity, "1.6"), new_token())
    assert set(info) == {"status", "expiryDate"}


def test_no_credit_and_not_at_this_location(connect_station, identity):
    tariff_for_station(identity, price_per_session=Decimal("5"))
    broke = new_token(spending_limit=Decimal("4"))
    station = connect_station(identity)
    tx = f"tx-{uuid.uuid4().hex[:8]}"
    station.call("TransactionEvent", event("Started", 0, 0, tx, trigger="Authorized", token=broke))
    station.call("TransactionEvent", event("Ended", 1, 60, tx))
    assert authorize(station, broke)["status"] == "NoCredit"
    elsewhere = Station.objects.create(identity=f"{identity}-elsewhere")
    local = new_token()
    local.allowed_stations.add(elsewhere)
    assert authorize(station, local)["status"] == "NotAtThisLocation"
    assert authorize(connect_station(f"{identity}-16", "1.6"), local)["status"] == "Invalid"


def test_transaction_event_answers_token_status(connect_station, identity):
    station = connect_station(identity)
    answer = station.call("TransactionEvent", event(
        "Started", 0, 0, f"tx-{uuid.uuid4().hex[:8]}", trigger="Authorized",
        token=new_token(status="Blocked")))
    assert answer["idTokenInfo"]["status"] == "Blocked"
