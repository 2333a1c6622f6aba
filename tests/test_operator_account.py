"""The operator account line of `./dev serve`: an existing account is named with the way to
reset its password, and resetoperatorpassword gives one that logs in."""
import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from tests.browser_helpers import DashboardClient


def run(command, *args):
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def test_existing_operator_is_told_how_to_reset_its_password(operator):
    line = run("ensure_operator")
    assert "exists" in line and "manage.py resetoperatorpassword" in line
    assert "password:" not in line  # never printed again


def test_reset_password_logs_in_and_unknown_account_is_an_error(csms):
    from django.contrib.auth.models import User

    username = f"operator-{uuid.uuid4().hex[:6]}"
    User.objects.create_superuser(username, "", "the-forgotten-one")
    printed = run("resetoperatorpassword", "--username", username)
    password = printed.split("password:")[1].split()[0]
    assert password != "the-forgotten-one"
    with DashboardClient(base_url=csms.base_url, timeout=30) as client:
        client.log_in(username, password)
        assert client.get("/").status_code == 200
    with pytest.raises(CommandError, match="No operator account"):
        run("resetoperatorpassword", "--username", "nobody-here")
