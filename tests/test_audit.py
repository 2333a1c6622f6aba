"""The audit trail after a scripted session: a command sent, an id token edited, a tariff changed,
a station's password set and an API token revoked show who, what (old and new values), when and
from where, in /api/v1/audit/ and on the audit page with its filters; secrets never appear."""
import datetime

from django.utils import timezone

from tests.helpers import send_command
from tests.role_helpers import (  # noqa: F401  (fixtures)
    dashboard_as, make_user, operator_api, operator_user, viewer,
)


def entries(api, **filters):
    answer = api.get("/audit/", params={"limit": 200, **filters})
    assert answer.status_code == 200, answer.text
    return answer.json()["results"]


def test_scripted_session_is_in_the_audit_trail(csms, connect_station, identity, viewer):
    operator = make_user("operator")
    from tests.role_helpers import api_client

    started = timezone.now()
    with api_client(csms, operator["key"]) as api:
        station = connect_station(identity, "2.0.1")
        assert send_command(api, identity, "Reset", {"type": "OnIdle"}).status_code in (200, 201)
        assert station.next_call()[1] == "Reset"
        token = api.post("/id-tokens/", json={"id_token": f"TAG-{identity}", "type": "ISO14443"})
        assert token.status_code == 201
        edited = api.patch(f"/id-tokens/{token.json()['id']}/", json={"status": "Blocked"})
        assert edited.status_code == 200
        tariff = api.post("/tariffs/", json={"name": f"tariff-{identity}", "price_per_kwh": "0.30"})
        assert tariff.status_code == 201
        assert api.patch(f"/tariffs/{tariff.json()['id']}/",
                         json={"price_per_kwh": "0.35"}).status_code == 200
        password = "a-new-station-password-1234"
        assert api.patch(f"/stations/{identity}/", json={"password": password}).status_code == 200
        other = api.post("/api-tokens/", json={"name": "short-lived"}).json()
        assert api.delete(f"/api-tokens/{other['id']}/").status_code == 204
        trail = entries(api, username=operator["username"])
    # Reading is a viewer's right too; the trail is newest first.
    by_kind = {}
    for entry in reversed(trail):
        by_kind.setdefault(entry["kind"], []).append(entry)
    for entry in trail:
        assert entry["username"] == operator["username"]
        assert entry["ip_address"] == "127.0.0.1"
        assert entry["via"] == "API token operator test token"
        assert started <= datetime.datetime.fromisoformat(entry["created_at"]) <= timezone.now()
    command = by_kind["command"][0]
    assert command["identity"] == identity and command["summary"] == f"Reset sent to {identity}"
    assert command["details"]["payload"] == {"type": "OnIdle"}
    assert command["method"] == "POST" and command["status_code"] in (200, 201)
    changes = {(e["details"]["model"], tuple(e["details"]["changes"])): e for e in by_kind["change"]
               if e["details"].get("changes")}
    blocked = next(e for (model, fields), e in changes.items()
                   if model == "transactions.IdToken" and "status" in fields and e["method"] == "PATCH")
    assert blocked["details"]["changes"]["status"] == ["Accepted", "Blocked"]
    priced = next(e for (model, fields), e in changes.items()
                  if model == "transactions.Tariff" and e["method"] == "PATCH")
    assert priced["details"]["changes"]["price_per_kwh"] == ["0.300000", "0.350000"] or \
        [float(v) for v in priced["details"]["changes"]["price_per_kwh"]] == [0.30, 0.35]
    secret = next(e for (model, fields), e in changes.items()
                  if model == "stations.Station" and "password_hash" in fields)
    assert secret["identity"] == identity
    assert secret["details"]["changes"]["password_hash"] == "<redacted>"  # that it changed, only
    summaries = [e["summary"] for e in by_kind["api_token"]]
    assert summaries == ["API token short-lived created", "API token short-lived revoked"]
    # No secret anywhere: not the station password, not the issued key.
    everything = str(trail)
    assert password not in everything and other["key"] not in everything
    # Filters: kind, station, date range.
    with api_client(csms, operator["key"]) as api:
        assert [e["id"] for e in entries(api, username=operator["username"], kind="command")] == \
            [command["id"]]
        assert {e["identity"] for e in entries(api, identity=identity)} == {identity}
        assert entries(api, username=operator["username"],
                       until=started.isoformat()) == []
    # The page shows the same, to a viewer.
    with dashboard_as(csms, viewer) as client:
        page = client.get("/audit/", params={"username": operator["username"], "kind": "command"})
        assert page.status_code == 200
        assert f"Reset sent to {identity}" in page.text and "127.0.0.1" in page.text
        assert "Tariff" not in page.text.split('id="audit-entries"')[1]
        today = timezone.now().date()
        ranged = client.get("/audit/", params={"identity": identity,
                                               "date_from": today.isoformat(),
                                               "date_to": today.isoformat()})
        assert f"Reset sent to {identity}" in ranged.text
        yesterday = (today - datetime.timedelta(days=1)).isoformat()
        empty = client.get("/audit/", params={"identity": identity, "date_to": yesterday})
        assert "Nothing recorded under this filter" in empty.text
        bad = client.get("/audit/", params={"date_from": today.isoformat(), "date_to": yesterday})
        assert bad.status_code == 400 and "The range starts after it ends." in bad.text
        assert client.get("/audit/", params={"date_from": "not-a-date"}).status_code == 400


def test_dashboard_posts_are_audited_with_a_redacted_body(csms, connect_station, identity):
    operator = make_user("operator")
    station = connect_station(identity, "1.6")
    with dashboard_as(csms, operator) as client:
        sent = client.submit(f"/stations/{identity}/reset/", {"type": "Soft"},
                             form_page=f"/stations/{identity}/")
        assert sent.status_code == 200 and station.next_call()[1] == "Reset"
        client.submit("/accounts/tokens/", {"name": "form-made"})
    from csms.audit.models import AuditEntry

    trail = list(AuditEntry.objects.filter(username=operator["username"]).order_by("id"))
    command = next(e for e in trail if e.kind == "command")
    assert (command.identity, command.via, command.details["source"]) == (
        identity, "", f"dashboard:{operator['username']}")
    login = next(e for e in trail if e.path == "/accounts/login/")
    assert login.kind == "request" and login.details["body"]["password"] == "<redacted>"
    assert login.details["body"]["csrfmiddlewaretoken"] == "<redacted>"
    assert operator["password"] not in str([e.details for e in trail])


def test_station_driven_changes_and_reads_are_not_audited(csms, connect_station, identity, api):
    from csms.audit.models import AuditEntry

    before = AuditEntry.objects.count()
    station = connect_station(identity, "2.0.1")  # boots: the station row changes
    station.call("Heartbeat", {})
    api.get("/stations/")
    api.get(f"/stations/{identity}/")
    assert not AuditEntry.objects.filter(identity=identity).exists()
    assert AuditEntry.objects.filter(id__gt=0).count() >= before
