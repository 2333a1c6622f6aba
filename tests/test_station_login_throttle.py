"""Failed station logins: throttled per identity and per source address with a backoff, refused
without any password check past the threshold, every failure logged; a correct login leaves no
shortcut for later wrong guesses."""
import base64
import time

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from stations.actions import register_station
from stations.models import LoginFailure, LoginThrottle
from tests.conftest import ServerProcess
from tests.helpers import eventually

PASSWORD = "correct-horse-battery-staple"
IDENTITY_THRESHOLD = 3
ADDRESS_THRESHOLD = 8


@pytest.fixture(scope="module")
def strict_server(csms):
    """A server with small thresholds and a long backoff, so no refusal expires mid-test."""
    server = ServerProcess("server-login-throttle", extra_env={
        "OCPP_LOGIN_THROTTLE_IDENTITY_FAILURES": str(IDENTITY_THRESHOLD),
        "OCPP_LOGIN_THROTTLE_ADDRESS_FAILURES": str(ADDRESS_THRESHOLD),
        "OCPP_LOGIN_THROTTLE_BASE_SECONDS": "120",
    }).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_address_count():
    # Other tests' wrong passwords come from 127.0.0.1 as well.
    LoginThrottle.objects.filter(scope="address").delete()


def attempt(server, identity, password):
    """Status of one upgrade with Basic auth (101 when admitted) and its Retry-After."""
    token = base64.b64encode(f"{identity}:{password}".encode()).decode()
    try:
        with connect(f"{server.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                     additional_headers={"Authorization": f"Basic {token}"}, open_timeout=30):
            return 101, None
    except InvalidStatus as refused:
        return refused.response.status_code, refused.response.headers.get("Retry-After")


def test_wrong_guesses_past_the_threshold_are_refused_without_hashing(strict_server, identity):
    station = register_station(identity, password=PASSWORD)
    started = time.monotonic()
    hashed = [attempt(strict_server, identity, f"wrong-guess-{n:012d}") for n in range(IDENTITY_THRESHOLD)]
    hashed_seconds = time.monotonic() - started
    assert [status for status, _ in hashed] == [401] * IDENTITY_THRESHOLD

    guesses = 30
    started = time.monotonic()
    refused = [attempt(strict_server, identity, f"more-guesses-{n:012d}") for n in range(guesses)]
    refused_seconds = time.monotonic() - started
    assert {status for status, _ in refused} == {429}
    assert all(int(retry_after) > 0 for _, retry_after in refused)
    # The right password is refused too while the identity is blocked: guessing it gains nothing.
    assert attempt(strict_server, identity, PASSWORD)[0] == 429

    # Every hashed failure is logged; the refused ones only counted (no password was checked).
    failures = LoginFailure.objects.filter(station=station)
    assert failures.count() == IDENTITY_THRESHOLD
    assert set(failures.values_list("reason", flat=True)) == {"WrongPassword"}
    assert set(failures.values_list("remote_address", flat=True)) == {"127.0.0.1"}
    throttle = LoginThrottle.objects.get(scope="identity", key=identity)
    assert (throttle.failures, throttle.refused) == (IDENTITY_THRESHOLD, guesses + 1)
    # A refusal costs a fraction of a hashed guess (the hasher's deliberate cost).
    assert refused_seconds / guesses < hashed_seconds / IDENTITY_THRESHOLD / 2, \
        (refused_seconds, hashed_seconds)


def test_the_source_address_is_throttled_across_identities(strict_server, api, identity):
    identities = [f"{identity}-{n}" for n in range(ADDRESS_THRESHOLD)]
    for name in identities:
        register_station(name, password=PASSWORD)
        # Below each identity's own threshold, but the address adds them all up.
        assert attempt(strict_server, name, "not-the-password-123")[0] == 401
    fresh = f"{identity}-fresh"
    register_station(fresh, password=PASSWORD)
    assert attempt(strict_server, fresh, PASSWORD)[0] == 429
    address = LoginThrottle.objects.get(scope="address", key="127.0.0.1")
    assert address.failures == ADDRESS_THRESHOLD and address.refused >= 1


def test_a_correct_login_leaves_no_cheap_check_for_wrong_guesses(strict_server, identity):
    station = register_station(identity, password=PASSWORD)
    assert attempt(strict_server, identity, PASSWORD)[0] == 101
    # The same process has verified the password once; wrong guesses are still full checks,
    # each logged and counted, and the count blocks the identity as for any other.
    statuses = [attempt(strict_server, identity, f"after-success-{n:010d}")[0]
                for n in range(IDENTITY_THRESHOLD + 1)]
    assert statuses == [401] * IDENTITY_THRESHOLD + [429]
    assert LoginFailure.objects.filter(station=station, reason="WrongPassword").count() == IDENTITY_THRESHOLD


def test_a_successful_login_forgives_the_identitys_failures(strict_server, identity):
    register_station(identity, password=PASSWORD)
    for n in range(IDENTITY_THRESHOLD - 1):
        assert attempt(strict_server, identity, f"typo-{n:014d}")[0] == 401
    assert attempt(strict_server, identity, PASSWORD)[0] == 101
    assert LoginThrottle.objects.get(scope="identity", key=identity).failures == 0
    # Below the threshold again: a wrong password is answered 401, not 429.
    assert attempt(strict_server, identity, "typo-again-0000000")[0] == 401


def test_failures_without_credentials_or_with_another_username_are_logged(csms, identity):
    station = register_station(identity, password=PASSWORD)
    with pytest.raises(InvalidStatus) as refused:
        with connect(f"{csms.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"], open_timeout=30):
            pass
    assert refused.value.response.status_code == 401
    token = base64.b64encode(f"someone-else:{PASSWORD}".encode()).decode()
    with pytest.raises(InvalidStatus):
        with connect(f"{csms.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                     additional_headers={"Authorization": f"Basic {token}"}, open_timeout=30):
            pass
    reasons = sorted(LoginFailure.objects.filter(station=station).values_list("reason", flat=True))
    assert reasons == ["NoCredentials", "WrongUsername"]


def test_the_server_log_names_the_failure_but_never_the_password(csms, identity):
    register_station(identity, password=PASSWORD)
    guess = "a-very-recognisable-guess-42"
    assert attempt(csms, identity, guess)[0] == 401
    line = f"Station login refused (WrongPassword) for {identity} from 127.0.0.1"
    log = eventually(lambda: (text := csms.log_path.read_text(errors="replace")) and line in text
                     and text)
    assert guess not in log and PASSWORD not in log
