"""The questions other apps ask when a station connects, boots or changes status are answered
in one query compiled once per process (stations/standing.py): each station gets its own
answers, a yes sends the receiver to do its work, and an unasked question is a yes."""
import uuid

from stations import standing
from stations.actions import alerts
from stations.models import Alert, Station
from transactions.models import Transaction


def station():
    return Station.objects.create(identity=f"CS-standing-{uuid.uuid4().hex[:8]}")


def test_each_station_gets_its_own_answers_from_the_one_compiled_query():
    quiet, offline, charging = station(), station(), station()
    alerts.raise_alert(Alert.Kind.STATION_OFFLINE, offline.pk, message="offline")
    Transaction.objects.create(station=charging, transaction_id=f"tx-{uuid.uuid4().hex[:8]}",
                               state=Transaction.State.ACTIVE)
    answers = {row.pk: standing.answers_at_connect(row.pk) for row in (quiet, offline, charging)}
    assert not any(answers[quiet.pk][name] for name in (
        "offline_alert", "running_transactions", "commands_queued"))
    assert answers[offline.pk]["offline_alert"] and not answers[offline.pk]["running_transactions"]
    assert answers[charging.pk]["running_transactions"] and not answers[charging.pk]["offline_alert"]
    # The same questions at boot, on the station the receivers get.
    booted = standing.station_at_boot(charging.pk)
    assert booted.identity == charging.identity
    assert standing.may_have(booted, "running_transactions")
    assert not standing.may_have(standing.station_at_boot(quiet.pk), "running_transactions")
    # A cleared alert is a no again: the answers are read, not remembered.
    Alert.objects.filter(station=offline).update(state=Alert.State.CLEARED)
    assert not standing.answers_at_connect(offline.pk)["offline_alert"]


def test_a_question_not_asked_is_a_yes():
    assert standing.may_have(None, "running_transactions")
    assert standing.may_have({}, "running_transactions")
    assert standing.may_have(Station(identity="CS-plain"), "running_transactions")
    assert not standing.may_have({"running_transactions": False}, "running_transactions")


def test_a_replacing_socket_still_gets_the_commands_queued_for_its_station(api, connect_station,
                                                                          identity):
    # The old socket leaves its first call unanswered, so the second command stays queued; the
    # socket that replaces it finds it at its connect (the connect question said yes).
    old = connect_station(identity, "2.0.1", auto_answer=False)
    first = api.post(f"/stations/{identity}/reset/", json={"type": "Hard"})
    assert first.status_code in (200, 201, 202), first.text
    assert old.next_call()[1] == "Reset"
    second = api.post(f"/stations/{identity}/trigger-message/",
                      json={"requested_message": "Heartbeat"})
    assert second.status_code in (200, 201, 202), second.text
    new = connect_station(identity, "2.0.1", boot=False, auto_answer=False)
    # At once, not at the sweep's next nudge of commands left queued (5 s and more).
    _, action, payload = new.next_call(timeout=3)
    assert (action, payload) == ("TriggerMessage", {"requestedMessage": "Heartbeat"})
