"""Users of each role for the role, token and audit tests: an API client (per-user API token)
and a logged-in dashboard client."""
import contextlib
import uuid

import httpx
import pytest

from tests.browser_helpers import DashboardClient


def make_user(role):
    """A fresh user in `role` ("viewer", "operator", "administrator") with an API token."""
    from django.contrib.auth.models import User

    from csms import roles
    from csms.accounts.models import ApiToken

    password = f"pw-{uuid.uuid4().hex}"
    user = User.objects.create_user(f"{role}-{uuid.uuid4().hex[:6]}", password=password)
    roles.set_role(user, role)
    token, key = ApiToken.issue(user, f"{role} test token")
    return {"user": user, "username": user.username, "password": password, "key": key,
            "token": token}


def api_client(csms, key):
    return httpx.Client(base_url=f"{csms.base_url}/api/v1", timeout=30,
                        headers={"Authorization": f"Token {key}"})


@pytest.fixture(scope="module")
def viewer(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return make_user("viewer")


@pytest.fixture(scope="module")
def operator_user(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        return make_user("operator")


@pytest.fixture
def viewer_api(csms, viewer):
    with api_client(csms, viewer["key"]) as client:
        yield client


@pytest.fixture
def operator_api(csms, operator_user):
    with api_client(csms, operator_user["key"]) as client:
        yield client


@contextlib.contextmanager
def dashboard_as(csms, account):
    with DashboardClient(base_url=csms.base_url, timeout=30) as client:
        client.log_in(account["username"], account["password"])
        yield client
