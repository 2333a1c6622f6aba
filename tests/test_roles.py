"""Roles: a viewer changes nothing anywhere (every state-changing API operation of the OpenAPI
schema, every dashboard URL, the admin); an operator sends commands but manages no users."""
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.helpers import send_command
from tests.role_helpers import (  # noqa: F401  (fixtures)
    api_client, dashboard_as, make_user, operator_api, operator_user, viewer, viewer_api,
)

WRITE_METHODS = ("post", "put", "patch", "delete")
# A viewer may hold API tokens of its own (they read only), and /token/ is a login (username and
# password for a key): those are the exceptions.
VIEWER_WRITABLE_API = {"/api/v1/api-tokens/", "/api/v1/api-tokens/{id}/", "/api/v1/token/"}
# Logging in and out and one's own API tokens are the dashboard's only viewer-writable URLs; the
# admin and the API check their own permissions (below and above).
VIEWER_WRITABLE_PAGES = ("/accounts/login/", "/accounts/logout/", "/accounts/tokens/",
                         "/admin/", "/api/")


def state_changing_operations(api):
    schema = api.get("/schema/", params={"format": "json"})
    assert schema.status_code == 200
    operations = []
    for path, item in schema.json()["paths"].items():
        for method in WRITE_METHODS:
            if method in item:
                operations.append((method, path))
    return operations


def concrete(path):
    # 0 names nothing: a viewer-writable DELETE (its own tokens) must not revoke a real one.
    return re.sub(r"\{[^}]+\}", "0", path)


def test_viewer_gets_403_on_every_state_changing_api_operation(api, viewer_api):
    operations = state_changing_operations(api)
    assert len(operations) > 50  # the whole API, not a handful
    refused = []
    for method, path in operations:
        url = concrete(path).removeprefix("/api/v1")
        answer = viewer_api.request(method.upper(), url, json={})
        if path in VIEWER_WRITABLE_API:
            assert answer.status_code != 403, (method, path)
            continue
        assert answer.status_code == 403, (method, path, answer.status_code, answer.text[:200])
        assert "your role is viewer" in answer.json()["detail"]
        refused.append((method, path))
    assert len(refused) == len(operations) - sum(
        1 for _, path in operations if path in VIEWER_WRITABLE_API)
    # Reading is allowed.
    assert viewer_api.get("/stations/").status_code == 200


def dashboard_routes(resolver=None, prefix=""):
    """Every dashboard URL of the resolver as a concrete path (parameters filled in)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from dashboard_routes(pattern, prefix + route)
        elif isinstance(pattern, URLPattern):
            full = prefix + route
            if full.startswith("^") or "(?P" in full:
                continue  # regex routes belong to the admin
            yield "/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int"
                               else "CS-viewer-test", full)


def test_viewer_gets_403_posting_to_every_dashboard_url(csms, viewer):
    paths = sorted({path for path in dashboard_routes()
                    if not path.startswith(VIEWER_WRITABLE_PAGES)})
    assert len(paths) > 40 and "/stations/CS-viewer-test/reset/" in paths
    with dashboard_as(csms, viewer) as client:
        token = client.csrf_token("/")
        for path in paths:
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                answer = client.request(method, path, headers={"X-CSRFToken": token},
                                        data={"csrfmiddlewaretoken": token})
                assert answer.status_code == 403, (method, path, answer.status_code)
        assert "your role is viewer" in client.post(
            "/stations/CS-viewer-test/reset/", data={"csrfmiddlewaretoken": token}).text
        # Pages still read.
        assert client.get("/stations/").status_code == 200


def test_admin_is_view_only_for_viewers_and_without_users_for_operators(csms, viewer,
                                                                         operator_user):
    with dashboard_as(csms, viewer) as client:
        assert client.get("/admin/").status_code == 200
        assert client.get("/admin/transactions/tariff/").status_code == 200
        assert client.get("/admin/transactions/tariff/add/").status_code == 403
        token = client.csrf_token("/")
        assert client.post("/admin/transactions/tariff/add/",
                           data={"csrfmiddlewaretoken": token, "name": "x"}).status_code == 403
        assert client.get("/admin/auth/user/").status_code == 403
    with dashboard_as(csms, operator_user) as client:
        assert client.get("/admin/transactions/tariff/add/").status_code == 200
        assert client.get("/admin/auth/user/").status_code == 403
        assert client.get("/admin/auth/group/").status_code == 403


def test_operator_sends_commands_but_cannot_manage_users(csms, api, operator_api, operator_user,
                                                         connect_station, identity):
    station = connect_station(identity, "2.0.1")
    answer = send_command(operator_api, identity, "Reset", {"type": "Immediate"})
    assert answer.status_code in (200, 201), answer.text
    assert station.next_call()[1] == "Reset"
    assert answer.json()["source"] == f"api:{operator_user['username']}"
    with dashboard_as(csms, operator_user) as client:
        sent = client.submit(f"/stations/{identity}/reset/", {"type": "Immediate"},
                             form_page=f"/stations/{identity}/")
        assert sent.status_code == 200 and station.next_call()[1] == "Reset"
    # User management is the administrators'.
    assert operator_api.get("/users/").status_code == 403
    someone = make_user("viewer")
    refused = operator_api.patch(f"/users/{someone['user'].pk}/", json={"role": "operator"})
    assert refused.status_code == 403 and "administrators" in refused.json()["detail"]
    # Webhooks (settings, with signing secrets) too.
    assert operator_api.post("/webhooks/", json={}).status_code == 403
    # The administrator (the superuser behind `api`) gives the role.
    granted = api.patch(f"/users/{someone['user'].pk}/", json={"role": "operator"})
    assert granted.status_code == 200 and granted.json()["role"] == "operator"
    with api_client(csms, someone["key"]) as promoted:
        assert send_command(promoted, identity, "Reset",
                            {"type": "Immediate"}).status_code in (200, 201)
    assert api.patch(f"/users/{someone['user'].pk}/",
                     json={"role": "king"}).status_code == 400


def test_a_user_in_no_group_is_a_viewer(csms):
    from django.contrib.auth.models import User

    from csms.accounts.models import ApiToken

    user = User.objects.create_user("nogroup-" + identity_suffix(), password="x")
    _, key = ApiToken.issue(user, "t")
    with api_client(csms, key) as client:
        assert client.get("/users/me/").status_code in (403, 404)
        assert client.post("/stations/", json={"identity": "CS-nogroup"}).status_code == 403


def identity_suffix():
    import uuid

    return uuid.uuid4().hex[:6]


@pytest.mark.parametrize("path", ["/api/v1/stations/", "/api/v1/audit/"])
def test_anonymous_api_is_401(csms, path):
    import httpx

    assert httpx.get(f"{csms.base_url}{path}").status_code == 401


def test_administrator_cannot_demote_or_deactivate_itself_nor_staff(api, operator):
    me = operator["user"].pk
    refused = api.patch(f"/users/{me}/", json={"role": "viewer"})
    assert refused.status_code == 400 and "yourself" in refused.text
    assert api.patch(f"/users/{me}/", json={"is_active": False}).status_code == 400
    assert api.get(f"/users/{me}/").json()["role"] == "administrator"


def test_pages_name_the_role_and_hide_registration_from_viewers(csms, viewer, dashboard):
    with dashboard_as(csms, viewer) as client:
        page = client.get("/")
        assert '<span class="muted" id="user-role" title="Your role">viewer</span>' in page.text
        assert 'href="/register-station/"' not in page.text
    page = dashboard.get("/")
    assert 'id="user-role" title="Your role">administrator</span>' in page.text
    assert 'href="/register-station/"' in page.text
