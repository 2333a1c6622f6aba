"""Production settings: no start without SECRET_KEY and ALLOWED_HOSTS, `check --deploy` clean on
the compose settings, profile 1 refused unless allowed; the embedded default needs nothing."""
import os
import re
import subprocess
import sys

import pytest
import yaml
from django.test import override_settings

from csms.ocpp.transport import Transport
from stations import security_profiles
from stations.models import Station
from tests.conftest import ROOT, free_port

CONFIGURATION = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "ALLOWED_HOSTS",
                 "PRODUCTION", "DEBUG", "CSRF_TRUSTED_ORIGINS")


def bare_environment(**variables):
    environment = {name: value for name, value in os.environ.items() if name not in CONFIGURATION}
    environment.update(variables)
    return environment


def manage(*arguments, environment):
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_settings_refuse_to_start_without(missing):
    variables = {"DATABASE_URL": "postgres://csms:secret@127.0.0.1:1/csms",
                 "SECRET_KEY": "k" * 60, "ALLOWED_HOSTS": "csms.example.com"}
    del variables[missing]
    result = manage("runcsms", "--port", str(free_port()),
                    environment=bare_environment(**variables))
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} must be set with production settings" in result.stderr


def compose_environment():
    """What the CSMS containers of docker-compose.yml see: deploy/csms.env, then the compose
    environment with deploy/env.example's names filled in."""
    samples = {"CSMS_HOSTNAME": "csms.example.com", "POSTGRES_PASSWORD": "secret",
               "SECRET_KEY": "x7Gv2Qp9LmZr4Tn8Wk3Yb6Hc1Jd5Fs0Ae" * 2}
    environment = {}
    for line in (ROOT / "deploy/csms.env").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            environment[name.strip()] = value.strip()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, value in compose["services"]["csms"]["environment"].items():
        environment[name] = re.sub(r"\$\{([A-Z_]+)[^}]*\}", lambda match: samples[match.group(1)],
                                   str(value))
    return environment


def test_check_deploy_is_clean_on_the_compose_settings(tmp_path):
    environment = bare_environment(**compose_environment(), CSMS_DATA_DIR=str(tmp_path))
    result = manage("check", "--deploy", "--tag", "security", "--fail-level", "WARNING",
                    environment=environment)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_embedded_default_needs_no_configuration(tmp_path):
    result = manage("check", environment=bare_environment(CSMS_DATA_DIR=str(tmp_path)))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("allowed, refused", [(False, True), (True, False)])
def test_profile_1_over_plain_ws_only_where_allowed(allowed, refused):
    station = Station(identity="CS-plain", security_profile=1)
    with override_settings(OCPP_ALLOW_SECURITY_PROFILE_1=allowed):
        refusal = security_profiles.refusal(station, "CS-plain", Transport(), "192.0.2.1")
        assert (refusal is not None) == refused
        if refused:
            assert refusal.http_status == 426
        # Over TLS profile 1 is Basic auth like profile 2: never refused for its transport.
        assert security_profiles.refusal(station, "CS-plain", Transport(tls=True), "") is None
