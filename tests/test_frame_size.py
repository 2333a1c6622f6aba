"""Frames above OCPP_MAX_FRAME_BYTES (default 1 MiB) close the socket with 1009 and a log line
naming the station; anything below is handled as usual."""
import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.helpers import eventually

LIMIT = 1024 * 1024


def data_transfer_of_size(size, message_id="big"):
    frame = [2, message_id, "DataTransfer", {"vendorId": "com.nobody", "data": ""}]
    padding = size - len(json.dumps(frame))
    frame[3]["data"] = "x" * padding
    text = json.dumps(frame)
    assert len(text) == size
    return text


@pytest.mark.parametrize("version", ["2.0.1", "1.6"])
def test_frame_at_the_limit_is_answered(connect_station, identity, version):
    station = connect_station(identity, version)
    answer = station.send_frame(data_transfer_of_size(LIMIT), "big", timeout=30)
    assert answer == {"status": "UnknownVendorId"}
    assert "currentTime" in station.call("Heartbeat", {})


# Compressed, the limit applies to the inflated message: a small deflated bomb is refused too.
@pytest.mark.parametrize("compression", ["deflate", None])
def test_frame_over_the_limit_closes_with_1009_and_a_log_line(csms, connect_station, identity,
                                                              compression):
    connect_station(identity).close()  # booted once: may reconnect and speak without a boot
    with connect(f"{csms.ws_url}/ocpp/{identity}", subprotocols=["ocpp2.0.1"],
                 compression=compression, max_size=None) as socket:
        socket.send(data_transfer_of_size(LIMIT + 1))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=30)
    assert closed.value.rcvd is not None, "the socket was dropped without a close frame"
    assert closed.value.rcvd.code == 1009
    eventually(lambda: f"/ocpp/{identity} with 1009" in csms.log_path.read_text(errors="replace"))
    assert "currentTime" in connect_station(identity, boot=False).call("Heartbeat", {})
