"""Trusted MO roots over real HTTP: installed from PEM, refused when not a CA certificate or
already trusted, listed and removed through the API (administrators only) and the admin."""
import uuid

import httpx
import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token

from csms import roles
from tests.pnc_helpers import Authority, pem
from transactions.models import TrustedRoot


@pytest.fixture
def client_as(csms):
    opened = []

    def open_client(role):
        user = User.objects.create_user(f"{role}-{uuid.uuid4().hex[:8]}", password="pw-123456789")
        roles.set_role(user, role)
        token = Token.objects.create(user=user).key
        client = httpx.Client(base_url=f"{csms.base_url}/api/v1", timeout=30,
                              headers={"Authorization": f"Token {token}"})
        opened.append(client)
        return client

    yield open_client
    for client in opened:
        client.close()


def test_install_list_read_and_remove(api):
    root = Authority.root(f"Installed Root {uuid.uuid4().hex[:6]}").certificate
    created = api.post("/trusted-roots/", json={"name": "Hubject test", "pem": pem(root)})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "Hubject test"
    assert body["subject"] == root.subject.rfc4514_string()
    assert body["serial_number"] == format(root.serial_number, "x")
    assert body["fingerprint"] and body["not_after"]

    listed = api.get("/trusted-roots/", params={"fingerprint": body["fingerprint"]}).json()
    assert [item["id"] for item in listed["results"]] == [body["id"]]
    assert api.get(f"/trusted-roots/{body['id']}/").json()["pem"] == pem(root)

    assert api.delete(f"/trusted-roots/{body['id']}/").status_code == 204
    assert not TrustedRoot.objects.filter(pk=body["id"]).exists()


@pytest.mark.parametrize("case", ["duplicate", "not_a_ca", "garbage", "missing"])
def test_bad_roots_are_refused_with_a_reason(api, case):
    root = Authority.root(f"Root {uuid.uuid4().hex[:6]}")
    payload = {"pem": pem(root.certificate)}
    if case == "duplicate":
        assert api.post("/trusted-roots/", json=payload).status_code == 201
    elif case == "not_a_ca":
        payload = {"pem": pem(root.issue("a contract").certificate)}
    elif case == "garbage":
        payload = {"pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}
    else:
        payload = {"name": "no pem"}
    answer = api.post("/trusted-roots/", json=payload)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"]["pem"]


@pytest.mark.parametrize("role", [roles.VIEWER, roles.OPERATOR])
def test_only_administrators_change_the_trust(client_as, api, role):
    existing = api.post("/trusted-roots/", json={"pem": pem(Authority.root("Kept").certificate)})
    client = client_as(role)
    assert client.get("/trusted-roots/").status_code == 200
    refused = client.post("/trusted-roots/", json={"pem": pem(Authority.root("New").certificate)})
    assert refused.status_code == 403
    assert client.delete(f"/trusted-roots/{existing.json()['id']}/").status_code == 403
    assert client_as(roles.ADMINISTRATOR).delete(
        f"/trusted-roots/{existing.json()['id']}/").status_code == 204


def test_admin_installs_a_root(csms, operator):
    root = Authority.root(f"Admin Root {uuid.uuid4().hex[:6]}").certificate
    with httpx.Client(base_url=csms.base_url, timeout=30, follow_redirects=True) as browser:
        login = browser.get("/admin/login/")
        token = browser.cookies["csrftoken"]
        browser.post("/admin/login/", data={"username": operator["user"].username,
                                            "password": operator["password"],
                                            "csrfmiddlewaretoken": token, "next": "/admin/"},
                     headers={"Referer": str(login.url)})
        form = browser.get("/admin/transactions/trustedroot/add/")
        assert form.status_code == 200
        refused = browser.post("/admin/transactions/trustedroot/add/", data={
            "name": "bad", "pem": "not a certificate",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": str(form.url)})
        assert "Not a PEM X.509 certificate." in refused.text
        browser.post("/admin/transactions/trustedroot/add/", data={
            "name": "From the admin", "pem": pem(root),
            "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
            headers={"Referer": str(form.url)})
    saved = TrustedRoot.objects.get(name="From the admin")
    assert saved.subject == root.subject.rfc4514_string()
