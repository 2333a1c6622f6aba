"""Per-user API tokens: issued with a name and an optional expiry from the API and the dashboard,
the secret shown once and stored hashed; revoked and expired tokens are refused 401."""
import datetime
import re

from django.utils import timezone

from tests.role_helpers import (  # noqa: F401  (fixtures)
    api_client, dashboard_as, operator_api, operator_user, viewer, viewer_api,
)


def test_token_issued_by_the_api_is_shown_once_and_works(csms, operator_api, operator_user):
    from csms.accounts.models import ApiToken, digest

    created = operator_api.post("/api-tokens/", json={"name": "billing export"})
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("csms_") and len(key) > 40
    token = ApiToken.objects.get(pk=created.json()["id"])
    assert token.key_digest == digest(key) and key not in str(token.__dict__)  # only the hash
    listed = operator_api.get("/api-tokens/").json()["results"]
    assert {t["name"] for t in listed} >= {"billing export"}
    assert all("key" not in t for t in listed)
    assert "key" not in operator_api.get(f"/api-tokens/{token.pk}/").json()
    with api_client(csms, key) as client:
        assert client.get("/stations/").status_code == 200
        # Bearer works too.
        assert client.get("/stations/", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_revoked_token_is_refused_401(csms, operator_api):
    created = operator_api.post("/api-tokens/", json={"name": "to revoke"}).json()
    with api_client(csms, created["key"]) as client:
        assert client.get("/stations/").status_code == 200
        assert operator_api.delete(f"/api-tokens/{created['id']}/").status_code == 204
        refused = client.get("/stations/")
        assert refused.status_code == 401 and refused.json()["detail"] == "This API token is revoked."
        assert refused.headers["www-authenticate"] == "Token"
    listed = operator_api.get(f"/api-tokens/{created['id']}/").json()
    assert listed["state"] == "revoked" and listed["revoked_at"]


def test_expired_token_is_refused_401(csms, operator_api):
    from csms.accounts.models import ApiToken

    soon = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    created = operator_api.post("/api-tokens/", json={"name": "short", "expires_at": soon}).json()
    with api_client(csms, created["key"]) as client:
        assert client.get("/stations/").status_code == 200
        ApiToken.objects.filter(pk=created["id"]).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1))
        refused = client.get("/stations/")
        assert refused.status_code == 401 and refused.json()["detail"] == "This API token is expired."
    with api_client(csms, "csms_not-a-real-token") as client:
        assert client.get("/stations/").status_code == 401


def test_bad_token_requests_are_400(operator_api):
    past = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert operator_api.post("/api-tokens/", json={"name": "x", "expires_at": past}).status_code == 400
    assert operator_api.post("/api-tokens/", json={"name": "  "}).status_code == 400
    assert operator_api.post("/api-tokens/", json={}).status_code == 400


def test_tokens_are_private_and_carry_their_owners_role(csms, viewer_api, operator_api):
    mine = operator_api.post("/api-tokens/", json={"name": "operator's"}).json()
    # Someone else's token is not even visible, let alone revocable.
    assert viewer_api.get(f"/api-tokens/{mine['id']}/").status_code == 404
    assert viewer_api.delete(f"/api-tokens/{mine['id']}/").status_code == 404
    issued = viewer_api.post("/api-tokens/", json={"name": "read-only dashboard"})
    assert issued.status_code == 201
    with api_client(csms, issued.json()["key"]) as client:
        assert client.get("/transactions/").status_code == 200
        assert client.post("/tariffs/", json={"name": "nope"}).status_code == 403


def test_older_authtoken_keys_still_work(api):
    assert api.get("/stations/").status_code == 200


def test_dashboard_issues_shows_once_and_revokes(csms, viewer):
    from csms.accounts.models import ApiToken

    with dashboard_as(csms, viewer) as client:
        page = client.submit("/accounts/tokens/", {"name": "grafana", "expires_in_days": "30"})
        assert page.status_code == 200
        key = re.search(r'<code id="issued-key">(csms_[^<]+)</code>', page.text).group(1)
        token = ApiToken.objects.get(user=viewer["user"], name="grafana")
        assert 29 <= (token.expires_at - timezone.now()).days <= 30
        again = client.get("/accounts/tokens/")
        assert key not in again.text and "grafana" in again.text  # never shown again
        with api_client(csms, key) as api:
            assert api.get("/stations/").status_code == 200
            revoked = client.submit(f"/accounts/tokens/{token.pk}/revoke/", {},
                                    form_page="/accounts/tokens/")
            assert revoked.status_code == 200 and "API token grafana revoked." in revoked.text
            assert api.get("/stations/").status_code == 401
        bad = client.submit("/accounts/tokens/", {"name": "", "expires_in_days": "0"})
        assert bad.status_code == 400 and 'class="error"' in bad.text
        # Another user's token cannot be revoked from here.
        other = ApiToken.objects.exclude(user=viewer["user"]).first()
        token_value = client.csrf_token("/accounts/tokens/")
        assert client.post(f"/accounts/tokens/{other.pk}/revoke/",
                           data={"csrfmiddlewaretoken": token_value}).status_code == 404
