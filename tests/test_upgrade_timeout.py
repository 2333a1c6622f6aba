"""An upgrade the CSMS cannot admit in time (overloaded: a reconnect storm) is refused 503 with
Retry-After, never 403 "Access denied" (daphne's answer), which a station may take as final."""
import pytest
from django.db import connection, transaction
from websockets.exceptions import InvalidStatus

from stations.models import Station
from tests import environment
from tests.conftest import ServerProcess
from tests.station import StationClient

UPGRADE_TIMEOUT = 2


@pytest.fixture(scope="module")
def impatient_server(csms):
    server = ServerProcess("server-upgrade-timeout",
                           {"OCPP_UPGRADE_TIMEOUT": str(UPGRADE_TIMEOUT)}).start()
    yield server
    server.stop()


@pytest.mark.skipif(environment.BACKEND != "services",
                    reason="holds a PostgreSQL table lock (SQLite's readers never wait)")
def test_an_upgrade_not_admitted_in_time_is_refused_503_with_retry_after(impatient_server,
                                                                         identity):
    table = connection.ops.quote_name(Station._meta.db_table)
    # The admission's station read waits behind this lock past the upgrade timeout (its own
    # database timeout, 15 s, is longer).
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(InvalidStatus) as refused:
            StationClient(impatient_server.ws_url, identity)
    assert refused.value.response.status_code == 503
    assert int(refused.value.response.headers["Retry-After"]) > 0
    assert "busy" in refused.value.response.reason_phrase
    # Once the database answers again the same station is admitted at once.
    station = StationClient(impatient_server.ws_url, identity)
    assert station.boot()["status"] == "Accepted"
    station.close()
