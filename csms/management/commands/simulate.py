"""Run simulated OCPP stations against this CSMS or any other (see simulator/)."""

from django.core.management.base import BaseCommand

from simulator import cli


class Command(BaseCommand):
    help = (
        "Run N simulated OCPP 2.0.1 / 1.6 charging stations against a CSMS "
        "(default ws://127.0.0.1:8000/ocpp): boot, heartbeats, sessions, commands."
    )
    # The simulator is a client of any CSMS: it needs neither this project's checks nor its DB.
    requires_system_checks = []

    def add_arguments(self, parser):
        cli.add_arguments(parser)

    def handle(self, *args, **options):
        cli.run(options, out=self.stdout)
