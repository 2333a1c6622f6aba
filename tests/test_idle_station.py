"""A station that stays silent keeps its socket and still receives commands (any channel layer)."""
from tests.helpers import send_command


def test_silent_station_still_receives_commands(api, connect_station, identity):
    station = connect_station(identity)
    # Silent for longer than the channel layer's blocking-read window (5 s), which once killed
    # idle consumers; a close in that time fails at once instead of after the wait.
    assert not station.closed.wait(8), f"the CSMS closed the silent station's socket ({station.close_code})"
    command = send_command(api, identity, "ClearCache").json()
    assert command["status"] == "accepted"
