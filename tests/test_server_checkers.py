"""The server's periodic walks over its connections (timeouts and pings, reaping finished
application instances) keep running when one connection's check raises: daphne re-arms them
only at their end, so one failure would stop them for the life of the process."""
from daphne import server as daphne_server
from twisted.internet.task import Clock

from csms.ocpp.server import APPLICATION_CHECK_EVERY, StationServer


class Checked:
    def __init__(self, fails=False):
        self.fails, self.checks = fails, 0

    def check_timeouts(self):
        self.checks += 1
        if self.fails:
            raise RuntimeError("a broken connection")


def walking_server(monkeypatch, connections):
    clock = Clock()  # Twisted's deterministic reactor: the walks' timers fire on advance()
    monkeypatch.setattr(daphne_server, "reactor", clock)
    server = StationServer.__new__(StationServer)  # the walks need no listening port
    server.ping_interval, server.connections = 10, connections  # 10 s: a timeout walk every 2 s
    return server, clock


def test_a_failing_timeout_check_stops_neither_the_walk_nor_the_other_connections(
        monkeypatch, caplog):
    broken, healthy = Checked(fails=True), Checked()
    server, clock = walking_server(monkeypatch, {broken: {}, healthy: {}})
    server.timeout_checker()
    for _ in range(3):
        clock.advance(2)
    assert (broken.checks, healthy.checks) == (4, 4)
    assert caplog.text.count("Checking the timeouts of a connection failed") == 4


def test_a_failing_reaping_walk_is_tried_again(monkeypatch, caplog):
    # A connection entry daphne cannot read makes its reaping walk raise.
    server, clock = walking_server(monkeypatch, {Checked(): None})
    server.application_checker()
    for _ in range(2 * APPLICATION_CHECK_EVERY):
        clock.advance(1)
    assert server.application_checks == 2 * APPLICATION_CHECK_EVERY + 1
    assert caplog.text.count("Reaping finished connections failed") == 2
