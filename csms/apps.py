from django.apps import AppConfig


class CsmsConfig(AppConfig):
    name = "csms"
    verbose_name = "OCPP core"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import roles
        from .audit import receivers as audit_receivers
        from .ocpp import ingest
        from .webhooks import delivery, receivers  # noqa: F401  (receivers: domain signals to webhook events)

        audit_receivers.connect()
        ingest.share_per_batch(delivery.active_subscriptions)
        # The role groups get the permissions of every model, those added later too.
        post_migrate.connect(roles.sync_group_permissions, dispatch_uid="csms-role-permissions")
