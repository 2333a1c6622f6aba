"""A station that stays silent keeps its socket and still receives commands (any channel layer)."""
import time


def test_silent_station_still_receives_commands(api, connect_station, identity):
    station = connect_station(identity)
    # Longer than the channel layer's blocking-read window (5 s), which once killed idle consumers.
    time.sleep(8)
    assert not station.closed.is_set()
    command = api.post(f"/stations/{identity}/commands/",
                       json={"action": "ClearCache", "payload": {}, "wait": 5}).json()
    assert command["status"] == "accepted"
