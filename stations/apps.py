from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "stations"

    def ready(self):
        from csms.ocpp import lifecycle

        from . import handlers  # noqa: F401  (registers the OCPP handlers)
        from . import live_receivers  # noqa: F401  (pushes commands and log rows to dashboards)
        from .actions import campaigns  # noqa: F401  (connects the firmware campaign receivers)
        from .actions import alerts  # noqa: F401  (connects the alert receivers)
        from .actions import bulk  # noqa: F401  (connects the bulk-operation receiver)
        from .directory import StationsDirectory

        lifecycle.install_directory(StationsDirectory())
