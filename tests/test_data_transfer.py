"""DataTransfer from a station, both versions: vendor handlers by vendorId/messageId, and the
protocol's answers when no handler exists (BRIEF §8); a malformed call gets its constraint error."""
import pytest

from tests.conftest import ServerProcess
from tests.data_transfer_vendors import VENDOR_ID
from tests.station import CallFailed

VERSIONS = ["2.0.1", "1.6"]


@pytest.fixture(scope="module")
def vendor_server(csms):
    server = ServerProcess("server-data-transfer",
                           {"OCPP_DATA_TRANSFER_MODULES": "tests.data_transfer_vendors"}).start()
    yield server
    server.stop()


@pytest.mark.parametrize("version", VERSIONS)
def test_unknown_vendor_is_answered_unknown_vendor_id(connect_station, identity, version):
    station = connect_station(identity, version)
    answer = station.call("DataTransfer", {"vendorId": "com.nobody", "messageId": "Hello",
                                           "data": "x"})
    assert answer == {"status": "UnknownVendorId"}


@pytest.mark.parametrize("version", VERSIONS)
def test_vendor_handler_answers(connect_station, vendor_server, identity, version):
    station = connect_station(identity, version, server=vendor_server)
    answer = station.call("DataTransfer", {"vendorId": VENDOR_ID, "messageId": "Echo",
                                           "data": "ping"})
    assert answer == {"status": "Accepted", "data": "ping"}


@pytest.mark.parametrize("version", VERSIONS)
def test_known_vendor_unknown_message_is_answered_unknown_message_id(connect_station, vendor_server,
                                                                    identity, version):
    station = connect_station(identity, version, server=vendor_server)
    assert station.call("DataTransfer", {"vendorId": VENDOR_ID, "messageId": "Nope"}) == {
        "status": "UnknownMessageId"}
    assert station.call("DataTransfer", {"vendorId": VENDOR_ID}) == {"status": "UnknownMessageId"}
    assert station.call("DataTransfer", {"vendorId": "com.other", "messageId": "Echo"}) == {
        "status": "UnknownVendorId"}


@pytest.mark.parametrize("version,code", [("2.0.1", "OccurrenceConstraintViolation"),
                                          ("1.6", "OccurenceConstraintViolation")])
def test_malformed_data_transfer_gets_its_constraint_error(connect_station, identity, version, code):
    station = connect_station(identity, version)
    with pytest.raises(CallFailed) as failure:
        station.call("DataTransfer", {"messageId": "Hello"})  # vendorId is required
    assert failure.value.code == code
    with pytest.raises(CallFailed) as failure:
        station.call("DataTransfer", {"vendorId": "v" * 256})
    assert failure.value.code == "PropertyConstraintViolation"


@pytest.mark.parametrize("version,action,payload,code", [
    ("2.0.1", "Reset", {"type": "Sometime"}, "PropertyConstraintViolation"),
    ("1.6", "RemoteStopTransaction", {"transactionId": "one"}, "TypeConstraintViolation"),
])
def test_schema_is_checked_before_not_supported(connect_station, identity, version, action,
                                                payload, code):
    # Nothing handles these here (they are CSMS -> station): a valid one is NotSupported
    # (test_framing_errors.py), a malformed one its constraint error.
    station = connect_station(identity, version)
    with pytest.raises(CallFailed) as failure:
        station.call(action, payload)
    assert failure.value.code == code
