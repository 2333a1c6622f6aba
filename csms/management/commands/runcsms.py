"""Serve the CSMS (dashboard, API and OCPP WebSockets) with daphne."""
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

    def handle(self, *args, host, port, fd, backlog, proxy_headers, tls_port, **options):
        from csms.asgi import application
        from csms.ocpp import server, tls

        sys.setswitchinterval(settings.SERVER_GIL_SWITCH_MS / 1000)
        # What is loaded by now (Django, the apps, URL and model machinery) lives as long as the
        # process: keep it out of the collector's full passes, which otherwise stall every
        # socket for 100-150 ms each time (benchmarks/README.md, "garbage collector").
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 10, 10)

        endpoint = f"fd:fileno={fd}" if fd is not None else f"tcp:port={port}:interface={host}:backlog={backlog}"
        endpoints = [endpoint]
        listening = f"CSMS on http://{host}:{port}/  OCPP on ws://{host}:{port}/ocpp/<identity>"
        tls_port = settings.TLS_PORT if tls_port is None else tls_port
        if tls_port:
            try:
                tls.context_factory()  # a missing or unreadable certificate stops here, said plainly
            except ImproperlyConfigured as error:
                raise CommandError(str(error)) from None
            endpoints.append(tls.endpoint_description(tls_port, host, backlog))
            listening += f"  and on https://{host}:{tls_port}/ wss://{host}:{tls_port}/ocpp/<identity>"
        if settings.LOG_FORMAT == "json":  # a bare line would break the stream of JSON objects
            logging.getLogger("csms.server").info(listening)
        else:
            self.stdout.write(listening)
        server.run(application, endpoints, ping_interval=settings.OCPP_PING_INTERVAL,
                   verbosity=options["verbosity"], proxy_headers=proxy_headers)
