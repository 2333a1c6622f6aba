from django.apps import AppConfig


class DevicemodelConfig(AppConfig):
    name = "devicemodel"
    verbose_name = "Device model"

    def ready(self):
        from . import handlers  # noqa: F401  (registers the OCPP handlers)
        from . import provisioning  # noqa: F401  (listens to station boots)
        from . import receivers  # noqa: F401  (applies stations' answers as they arrive)
        from . import network_slots  # noqa: F401  (SetNetworkProfile's slot check)
