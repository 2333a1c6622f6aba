from django.apps import AppConfig


class SmartchargingConfig(AppConfig):
    name = "smartcharging"
    verbose_name = "Smart charging"

    def ready(self):
        from . import handlers  # noqa: F401  (registers the OCPP handlers)
        from . import receivers  # noqa: F401  (applies stations' answers as they arrive)
        from transactions.actions import register_profile_tracker

        from csms.ocpp import ingest

        from .actions import remote_start_profiles, sites
        register_profile_tracker(remote_start_profiles)  # remote starts carrying a TxProfile
        ingest.share_per_batch(sites.allocated_transactions)
