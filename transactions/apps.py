from django.apps import AppConfig


class TransactionsConfig(AppConfig):
    name = "transactions"

    def ready(self):
        from . import handlers  # noqa: F401  (registers the OCPP handlers)
        from . import handlers_customer  # noqa: F401  (customer information, display-message check)
        from . import receivers  # noqa: F401  (applies stations' answers as they arrive)
        from . import alerts  # noqa: F401  (silent-transaction alerts)
        from . import live_receivers  # noqa: F401  (pushes transactions to dashboards)
        # Registers the periodic tasks in every process, not only in Celery workers (the
        # embedded default runs the beat schedule inside the server).
        from . import tasks  # noqa: F401
