"""`runcsms --workers N`: N complete server processes on one port (SO_REUSEPORT), each a socket
holder of its own, and the parent that starts, restarts and stops them."""
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time

from twisted.internet import defer
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.protocols.tls import TLSMemoryBIOFactory
from zope.interface import implementer

logger = logging.getLogger("csms.server")

REUSE_PORT_PREFIX = "csmsreuseport:"
# A worker that dies sooner than this after it was started counts as failing to start.
STARTUP_SECONDS = 30
# Consecutive failed starts of one worker after which the server gives up (exit 1).
MAX_FAILED_STARTS = 5
FIRST_BACKOFF_SECONDS = 1
MAX_BACKOFF_SECONDS = 30
# How long the workers get to close their sockets after SIGTERM before they are killed.
STOP_TIMEOUT_SECONDS = 25
POLL_SECONDS = 0.2
PR_SET_PDEATHSIG = 1


def worker_count(value):
    """`--workers` / SERVER_WORKERS: a positive number, or 0 / "auto" for one per usable CPU."""
    text = str(value).strip().lower()
    if text in ("0", "auto"):
        return len(os.sched_getaffinity(0))
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"workers must be a number or 'auto', not {value!r}") from None
    if count < 0:
        raise ValueError(f"workers must not be negative, not {count}")
    return count


def _family(interface):
    return socket.AF_INET6 if ":" in interface else socket.AF_INET


def _reuse_port_socket(port, interface, backlog=None):
    sock = socket.socket(_family(interface), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Every worker binds its own socket to the port: the kernel spreads new connections
        # over them, and a dead worker's share goes to the others until it is back.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((interface, port))
        if backlog is not None:
            sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return sock


def check_port_free(port, interface):
    """Raise OSError if a process other than our workers holds the port (they share it)."""
    _reuse_port_socket(port, interface).close()


def endpoint_description(port, interface, backlog, tls=False):
    return f"{REUSE_PORT_PREFIX}port={port}:interface={interface}:backlog={backlog}:tls={int(tls)}"


@implementer(IStreamServerEndpoint)
class ReusePortEndpoint:
    """A TCP (or, with a context factory, TLS) server endpoint on a port shared with siblings."""

    def __init__(self, reactor, port, interface, backlog, context_factory=None):
        self.reactor = reactor
        self.port = port
        self.interface = interface
        self.backlog = backlog
        self.context_factory = context_factory

    def listen(self, factory):
        return defer.execute(self._listen, factory)

    def _listen(self, factory):
        if self.context_factory is not None:
            factory = TLSMemoryBIOFactory(self.context_factory, False, factory)
        sock = _reuse_port_socket(self.port, self.interface, self.backlog)
        try:
            sock.setblocking(False)
            return self.reactor.adoptStreamPort(sock.fileno(), _family(self.interface), factory)
        finally:
            sock.close()  # the reactor listens on its own duplicate of the descriptor


def reuse_port_endpoint(reactor, description, tls_context_factory):
    arguments = dict(item.split("=", 1) for item in description[len(REUSE_PORT_PREFIX):].split(":"))
    context_factory = tls_context_factory() if arguments.get("tls") == "1" else None
    return ReusePortEndpoint(reactor, int(arguments["port"]), arguments.get("interface", ""),
                             int(arguments.get("backlog", 50)), context_factory)


def _die_with_parent():
    # A worker must not outlive a supervisor that was killed outright: it would hold the port.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        pass


class Worker:
    def __init__(self, slot):
        self.slot = slot
        self.process = None
        self.started_at = 0.0
        self.failed_starts = 0
        self.restart_at = 0.0  # monotonic time of the next start, while no process runs


class Supervisor:
    """Start `count` workers (`argv_of(slot)`), restart one that dies, forward SIGTERM/SIGINT."""

    def __init__(self, count, argv_of, env):
        self.workers = [Worker(slot) for slot in range(count)]
        self.argv_of = argv_of
        self.env = env
        self.stop_signal = None

    def _ask_to_stop(self, signum, frame):
        self.stop_signal = signum

    def _start(self, worker):
        worker.process = subprocess.Popen(
            self.argv_of(worker.slot), env=self.env, preexec_fn=_die_with_parent,
            # A group of its own: a terminal's Ctrl-C reaches the parent only, which forwards it.
            process_group=0,
        )
        worker.started_at = time.monotonic()
        logger.info("server worker %d started (pid %d)", worker.slot, worker.process.pid)

    def _reap(self, worker, now):
        """The worker's process has ended unexpectedly: schedule its restart; False to give up."""
        code = worker.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        lived = now - worker.started_at
        worker.process = None
        if lived < STARTUP_SECONDS:
            worker.failed_starts += 1
        else:
            worker.failed_starts = 0
        if worker.failed_starts >= MAX_FAILED_STARTS:
            logger.error("server worker %d %s within %d s of starting, %d times in a row: "
                         "stopping", worker.slot, how, STARTUP_SECONDS, worker.failed_starts)
            return False
        backoff = min(MAX_BACKOFF_SECONDS,
                      FIRST_BACKOFF_SECONDS * 2 ** max(0, worker.failed_starts - 1))
        worker.restart_at = now + backoff
        logger.warning("server worker %d %s after %.1f s; restarting it in %g s",
                       worker.slot, how, lived, backoff)
        return True

    def run(self):
        """Supervise until asked to stop (exit status 0) or a worker keeps failing (1)."""
        previous = {signum: signal.signal(signum, self._ask_to_stop)
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        status = 0
        try:
            for worker in self.workers:
                self._start(worker)
            while self.stop_signal is None:
                now = time.monotonic()
                for worker in self.workers:
                    if worker.process is None:
                        if now >= worker.restart_at:
                            self._start(worker)
                    elif worker.process.poll() is not None and self.stop_signal is None:
                        if not self._reap(worker, now):
                            status = 1
                            self.stop_signal = signal.SIGTERM
                            break
                time.sleep(POLL_SECONDS)
            self._stop_all(self.stop_signal)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return status

    def _stop_all(self, signum):
        running = [worker.process for worker in self.workers
                   if worker.process is not None and worker.process.poll() is None]
        for process in running:
            try:
                process.send_signal(signum)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("server worker pid %d did not stop within %d s: killing it",
                             process.pid, STOP_TIMEOUT_SECONDS)
                process.kill()
                process.wait()


def run_workers(count, worker_argv, base_dir):
    """Run `count` copies of `worker_argv(slot)` (a runcsms argv) until stopped; the exit status."""
    env = dict(os.environ)
    # The workers are fresh interpreters (`python -m django`): they find the project as we do.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(base_dir), env.get("PYTHONPATH")]))

    def argv_of(slot):
        return [sys.executable, "-m", "django", *worker_argv(slot)]

    return Supervisor(count, argv_of, env).run()
