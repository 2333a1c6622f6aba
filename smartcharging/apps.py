from django.apps import AppConfig


class SmartchargingConfig(AppConfig):
    name = "smartcharging"
    verbose_name = "Smart charging"

    def ready(self):
        from . import handlers  # noqa: F401  (registers the OCPP handlers)
        from . import receivers  # noqa: F401  (applies stations' answers as they arrive)
