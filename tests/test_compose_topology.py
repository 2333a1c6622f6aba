"""docker-compose.yml, the Dockerfile and the nginx config stay equivalent to what the tests run.

Docker does not run here: these tests read the files and check them against the code.
"""
import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import crossplane
import dj_database_url
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from tests.conftest import CELERY_COMMANDS, free_port

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("migrate", "csms", "api", "worker", "beat")
SHARED_WIRING = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY")
INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(?::?[-?])([^}]*))?\}")
SAMPLE_INTERPOLATION = {"CSMS_HOSTNAME": "csms.example.com", "POSTGRES_PASSWORD": "secret",
                        "SECRET_KEY": "key"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose):
    return compose["services"]


@pytest.fixture(scope="module")
def dockerfile():
    return DockerfileParser(str(ROOT / "Dockerfile"))


@pytest.fixture(scope="module")
def proxy_config():
    parsed = crossplane.parse(str(ROOT / "deploy/nginx/csms.conf"), single=True,
                              check_ctx=False, comments=False)
    assert parsed["status"] == "ok", parsed["errors"]
    return parsed["config"][0]["parsed"]


def settings_variables():
    """Names of the environment variables csms/settings.py reads."""
    tree = ast.parse((ROOT / "csms/settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and node.args):
            continue
        first = node.args[0]
        if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
            continue
        function = node.func
        reads_helper = isinstance(function, ast.Name) and function.id.startswith("env_")
        reads_environ = (isinstance(function, ast.Attribute) and function.attr == "get"
                         and ast.unparse(function.value) == "os.environ")
        if reads_helper or reads_environ:
            names.add(first.value)
    return names


def interpolate(value):
    return INTERPOLATION.sub(lambda match: SAMPLE_INTERPOLATION[match.group(1)], value)


def server_command_of_the_tests():
    """The argv (sys.executable dropped, non-literal items as None) ServerProcess starts."""
    tree = ast.parse((ROOT / "tests/conftest.py").read_text())
    server = next(node for node in tree.body
                  if isinstance(node, ast.ClassDef) and node.name == "ServerProcess")
    popen = next(node for node in ast.walk(server) if isinstance(node, ast.Call)
                 and ast.unparse(node.func) == "subprocess.Popen")
    items = popen.args[0].elts
    assert ast.unparse(items[0]) == "sys.executable"
    return [item.value if isinstance(item, ast.Constant) else None for item in items[1:]]


def celery_command_of_the_tests(name):
    """What tests/conftest.py start_celery() runs on the services backend (`python` for
    sys.executable, the run's own queue left out)."""
    return ["python", "-m", "celery", "-A", "csms", *CELERY_COMMANDS[name], "--loglevel", "INFO"]


def env_file_variables(path):
    """Variables a KEY=value file sets or documents (commented out at their default)."""
    names = []
    for line in path.read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]*)=", line.strip())
        if match:
            names.append(match.group(1))
    return names


def celery_accepts(argv):
    """Celery's own CLI parses argv (ending in --help, so nothing starts)."""
    result = subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr


def directives(block, name):
    return [directive for directive in block if directive["directive"] == name]


def location(server, path):
    return next(d["block"] for d in directives(server, "location") if d["args"] == [path])


def nginx_seconds(value):
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    number, unit = re.fullmatch(r"(\d+)([smhdw]?)", value).groups()
    return int(number) * units[unit]


def test_every_process_of_the_topology_is_a_service(services):
    assert set(services) == {"postgres", "redis", "migrate", "csms", "api", "worker", "beat",
                             "proxy"}
    # One image for every CSMS process, built from this repository.
    assert {services[name]["build"] for name in APP_SERVICES} == {"."}
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert services["proxy"]["image"].startswith("nginx:")


def test_migrate_runs_once_before_every_other_csms_process(services):
    assert services["migrate"]["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("csms", "api", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully")


def test_server_is_runcsms_as_the_tests_start_it(services, dockerfile):
    from django.core.management import load_command_class

    command = services["csms"]["command"]
    assert command[0] == "python"
    tested = server_command_of_the_tests()
    assert tested[:2] == command[1:3] == ["manage.py", "runcsms"]
    parser = load_command_class("csms", "runcsms").create_parser("manage.py", "runcsms")
    options = parser.parse_args(command[3:])
    assert (options.host, options.port, options.proxy_headers) == ("0.0.0.0", 8000, True)
    # Station-facing replicas run several server processes each (more than one needs Redis).
    assert options.workers == "2"
    one_process = command[:command.index("--workers")] + command[command.index("--workers") + 2:]
    # The image's default command is the same server, in one process.
    assert json.loads(dockerfile.structure[-1]["value"]) == one_process
    assert services["csms"]["deploy"]["replicas"] >= 2
    # API servers are the same server; only the proxy's routing sets them apart.
    assert services["api"]["command"] == one_process
    assert services["api"]["healthcheck"] == services["csms"]["healthcheck"]


def test_worker_is_the_worker_the_services_backend_starts(services):
    command = services["worker"]["command"]
    assert command == celery_command_of_the_tests("celery-worker")
    celery_accepts(command[1:])


def test_exactly_one_beat_is_the_beat_the_services_backend_starts(services):
    command = services["beat"]["command"]
    assert services["beat"]["deploy"]["replicas"] == 1
    # Beat writes its schedule state: only /data is writable for the image's user.
    schedule = command[command.index("--schedule") + 1]
    assert schedule.startswith("/data/")
    tested = celery_command_of_the_tests("celery-beat")
    tested[tested.index("--schedule") + 1] = schedule
    assert command == tested
    assert any(volume.endswith(":/data") for volume in services["beat"]["volumes"])
    celery_accepts(command[1:])


def test_every_variable_the_services_set_is_a_setting(services, dockerfile):
    known = settings_variables()
    for name in APP_SERVICES:
        assert set(services[name]["environment"]) <= known, name
        assert services[name]["env_file"] == "deploy/csms.env"
    assert set(env_file_variables(ROOT / "deploy/csms.env")) <= known
    image_settings = {name for name in dockerfile.envs if not name.startswith(("PYTHON", "PIP_"))}
    assert image_settings <= known


def test_all_processes_share_one_database_channel_layer_and_broker(services):
    environments = [services[name]["environment"] for name in APP_SERVICES]
    for variable in SHARED_WIRING:
        assert len({environment[variable] for environment in environments}) == 1, variable
    environment = environments[0]
    database = dj_database_url.parse(interpolate(environment["DATABASE_URL"]))
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["HOST"] == "postgres"
    postgres = services["postgres"]["environment"]
    assert (database["NAME"], database["USER"]) == (postgres["POSTGRES_DB"],
                                                     postgres["POSTGRES_USER"])
    assert environment["REDIS_URL"].startswith("redis://redis:6379/")
    assert environment["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert environment["REDIS_URL"] != environment["CELERY_BROKER_URL"]
    assert environment["DEBUG"] == "false"


def test_every_compose_variable_is_in_the_env_example():
    text = (ROOT / "docker-compose.yml").read_text()
    used = {match.group(1) for match in INTERPOLATION.finditer(text)}
    assert used == set(env_file_variables(ROOT / "deploy/env.example"))


def test_image_runs_as_a_user_with_a_healthcheck(dockerfile, services):
    assert dockerfile.baseimage == "python:3.11-slim"
    users = [item["value"] for item in dockerfile.structure if item["instruction"] == "USER"]
    assert users and users[-1] not in ("root", "0")
    healthcheck = next(item["value"] for item in dockerfile.structure
                       if item["instruction"] == "HEALTHCHECK")
    assert "/app/deploy/healthcheck.py" in healthcheck
    assert services["csms"]["healthcheck"]["test"][-1] == "/app/deploy/healthcheck.py"
    assert services["proxy"]["depends_on"]["csms"]["condition"] == "service_healthy"


def test_healthcheck_passes_on_a_running_server_and_fails_without_one(csms):
    script = ROOT / "deploy/healthcheck.py"
    healthy = subprocess.run([sys.executable, script, str(csms.port)], capture_output=True,
                             timeout=30, check=False)
    assert healthy.returncode == 0, healthy.stdout
    unhealthy = subprocess.run([sys.executable, script, str(free_port())], capture_output=True,
                               text=True, timeout=30, check=False)
    assert unhealthy.returncode == 1 and "unhealthy" in unhealthy.stdout


def test_proxy_forwards_station_and_dashboard_sockets_without_cutting_them(proxy_config,
                                                                           services):
    mounts = services["proxy"]["volumes"]
    assert "./deploy/nginx/csms.conf:/etc/nginx/conf.d/default.conf:ro" in mounts
    upstream = next(d["block"] for d in directives(proxy_config, "upstream")
                    if d["args"] == ["csms"])
    assert directives(upstream, "server")[0]["args"][0] == "csms:8000"
    tls_server = next(d["block"] for d in directives(proxy_config, "server")
                      if any("443" in listen["args"] and "ssl" in listen["args"]
                             for listen in directives(d["block"], "listen")))
    assert directives(tls_server, "ssl_certificate")
    for path in ("/ocpp/", "/ws/"):
        block = location(tls_server, path)
        headers = {tuple(d["args"]) for d in directives(block, "proxy_set_header")}
        assert directives(block, "proxy_pass")[0]["args"] == ["http://csms"], path
        assert directives(block, "proxy_http_version")[0]["args"] == ["1.1"], path
        assert ("Upgrade", "$http_upgrade") in headers, path
        assert ("Connection", "$connection_upgrade") in headers, path
        # Overwritten, not appended: daphne trusts the first X-Forwarded-For address.
        assert ("X-Forwarded-For", "$remote_addr") in headers, path
        assert ("X-Forwarded-Proto", "$scheme") in headers, path
    # The REST API goes to the API servers; everything else stays with the socket holders.
    api_upstream = next(d["block"] for d in directives(proxy_config, "upstream")
                        if d["args"] == ["csms_api"])
    assert directives(api_upstream, "server")[0]["args"][0] == "api:8000"
    assert directives(location(tls_server, "/api/"), "proxy_pass")[0]["args"] == ["http://csms_api"]
    assert directives(location(tls_server, "/"), "proxy_pass")[0]["args"] == ["http://csms"]
    assert services["proxy"]["depends_on"]["api"]["condition"] == "service_healthy"
    # A silent station (heartbeat interval, 300 s by default) keeps its socket for hours at least.
    read_timeout = directives(location(tls_server, "/ocpp/"), "proxy_read_timeout")[0]["args"][0]
    assert nginx_seconds(read_timeout) >= 86400


def test_profile3_server_requires_a_client_certificate_named_for_the_identity():
    parsed = crossplane.parse(str(ROOT / "deploy/nginx/csms-profile3.conf"), single=True,
                              check_ctx=False, comments=False)
    assert parsed["status"] == "ok", parsed["errors"]
    server = directives(parsed["config"][0]["parsed"], "server")[0]["block"]
    assert directives(server, "ssl_verify_client")[0]["args"] == ["on"]
    assert directives(server, "ssl_client_certificate")
    ocpp = next(d["block"] for d in directives(server, "location") if "/ocpp/" in d["args"][-1])
    refusal = directives(ocpp, "if")[0]
    assert refusal["args"] == ["$ssl_client_cn", "!=", "$station_identity"]
    assert directives(refusal["block"], "return")[0]["args"] == ["403"]
    headers = {tuple(d["args"]) for d in directives(ocpp, "proxy_set_header")}
    assert {("Upgrade", "$http_upgrade"), ("X-Forwarded-For", "$remote_addr")} <= headers


def test_operations_guide_documents_every_setting():
    guide = (ROOT / "docs/operations.md").read_text()
    missing = sorted(name for name in settings_variables() if f"`{name}`" not in guide)
    assert not missing, f"docs/operations.md does not document {missing}"
