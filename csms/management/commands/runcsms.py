"""Serve the CSMS (dashboard, API and OCPP WebSockets) with daphne, in one process or several."""
import argparse
import gc
import logging
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the dashboard, the API and OCPP (ws://HOST:PORT/ocpp/<identity>) with daphne."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--fd", type=int, default=None, help="serve on an inherited socket")
        parser.add_argument("--backlog", type=int, default=4096,
                            help="listen backlog: connections waiting to be accepted (a reconnect "
                                 "storm overflows the default of 50 and stations retry late)")
        parser.add_argument("--proxy-headers", action="store_true",
                            help="trust X-Forwarded-* from a TLS proxy in front (from the "
                                 "addresses in OCPP_TRUSTED_PROXIES only)")
        parser.add_argument("--tls-port", type=int, default=None,
                            help="also serve https/wss on this port (default TLS_PORT; 0: none) "
                                 "with TLS_CERTIFICATE_FILE and TLS_PRIVATE_KEY_FILE")
        parser.add_argument("--workers", default=None,
                            help="server processes on the port(s), one core each (default "
                                 "SERVER_WORKERS, 1; 0 or 'auto': one per CPU); more than one "
                                 "needs REDIS_URL")
        # Set by the parent of several workers on each of them: which one it is.
        parser.add_argument("--worker-slot", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, host, port, fd, backlog, proxy_headers, tls_port, workers,
               worker_slot, **options):
        from csms.ocpp import tls, workers as server_workers

        tls_port = settings.TLS_PORT if tls_port is None else tls_port
        if tls_port:
            try:
                tls.context_factory()  # a missing or unreadable certificate stops here, said plainly
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from None
        try:
            count = server_workers.worker_count(settings.SERVER_WORKERS if workers is None else workers)
        except ValueError as error:
            raise CommandError(f"--workers / SERVER_WORKERS: {error}") from None
        if worker_slot is None and count > 1:
            self.supervise(count, host, port, fd, backlog, proxy_headers, tls_port, options["verbosity"])
            return
        self.serve(host, port, fd, backlog, proxy_headers, tls_port, worker_slot, options["verbosity"])

    def supervise(self, count, host, port, fd, backlog, proxy_headers, tls_port, verbosity):
        from csms.ocpp import workers as server_workers

        if fd is not None:
            raise CommandError("--fd serves one process: use --workers 1 with an inherited socket")
        if not settings.REDIS_URL:
            raise CommandError(
                f"--workers {count} needs REDIS_URL: with the in-memory channel layer a command "
                "could not reach a station whose socket another worker holds (use --workers 1)")
        for checked in filter(None, (port, tls_port)):
            try:
                server_workers.check_port_free(checked, host)
            except OSError as error:
                raise CommandError(f"cannot listen on {host}:{checked}: {error.strerror}") from None
        self.announce(host, port, tls_port, f"  ({count} workers)")

        def worker_argv(slot):
            argv = ["runcsms", "--host", host, "--port", str(port), "--backlog", str(backlog),
                    "--tls-port", str(tls_port or 0), "--verbosity", str(verbosity),
                    "--worker-slot", str(slot)]
            return argv + (["--proxy-headers"] if proxy_headers else [])

        # What Django loaded lives until exit: frozen, the exit skips collecting it (seconds
        # of a stop on a loaded machine, while the workers were gone within a fraction of one).
        gc.freeze()
        if server_workers.run_workers(count, worker_argv, settings.BASE_DIR):
            raise CommandError("server workers keep failing to start (see the log above)")

    def announce(self, host, port, tls_port, suffix=""):
        listening = f"CSMS on http://{host}:{port}/  OCPP on ws://{host}:{port}/ocpp/<identity>"
        if tls_port:
            listening += f"  and on https://{host}:{tls_port}/ wss://{host}:{tls_port}/ocpp/<identity>"
        listening += suffix
        if settings.LOG_FORMAT == "json":  # a bare line would break the stream of JSON objects
            logging.getLogger("csms.server").info(listening)
        else:
            self.stdout.write(listening)

    def serve(self, host, port, fd, backlog, proxy_headers, tls_port, worker_slot, verbosity):
        from csms.asgi import application
        from csms.ocpp import runtime, server, tls, workers as server_workers

        sys.setswitchinterval(settings.SERVER_GIL_SWITCH_MS / 1000)
        # What is loaded by now (Django, the apps, URL and model machinery) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise stall every
        # socket for 100-150 ms each time (benchmarks/README.md, "garbage collector").
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)

        if worker_slot is not None:
            # One of several workers: its own sockets, shared with its siblings (SO_REUSEPORT).
            endpoints = [server_workers.endpoint_description(port, host, backlog)]
            if tls_port:
                endpoints.append(server_workers.endpoint_description(tls_port, host, backlog, tls=True))
            # Tasks run in-process without a broker: the periodic ones in one worker only.
            runtime.runs_beat_schedule = worker_slot == 0
        else:
            endpoint = f"fd:fileno={fd}" if fd is not None else f"tcp:port={port}:interface={host}:backlog={backlog}"
            endpoints = [endpoint]
            if tls_port:
                endpoints.append(tls.endpoint_description(tls_port, host, backlog))
            self.announce(host, port, tls_port)
        server.run(application, endpoints, ping_interval=settings.OCPP_PING_INTERVAL,
                   verbosity=verbosity, proxy_headers=proxy_headers)
        leave_after_stop()


def leave_after_stop():
    """The server has stopped: write the frames still buffered for the message log, then exit
    without waiting for the database threads. One of them may be handing a dashboard push to the
    event loop that no longer runs, and would wait for it for ever: a worker asked to stop stayed
    alive, orphaned, after its supervisor had gone."""
    import os

    from csms.ocpp import messagelog

    try:
        messagelog.flush()
    except Exception:
        logging.getLogger(__name__).exception("The message log's last frames were not written")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
