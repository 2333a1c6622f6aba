from django.apps import AppConfig


class CsmsConfig(AppConfig):
    name = "csms"
    verbose_name = "OCPP core"

    def ready(self):
        from .webhooks import receivers  # noqa: F401  (turns domain signals into webhook events)
