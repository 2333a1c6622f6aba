"""Model changes and commands made while serving a person's request become audit entries with
what changed (old and new values; secrets redacted). Station-driven changes are not audited."""
import datetime
import decimal
import uuid

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_save

from . import recorder as audit
from .models import AuditEntry

# What the issue calls state changes: stations (registration, passwords, profiles), tokens,
# tariffs, charging profiles and sites, firmware, provisioning policies, webhooks.
AUDITED_MODELS = (
    "stations.Station", "stations.StationTag", "stations.FirmwareImage", "stations.FirmwareCampaign",
    "transactions.IdToken", "transactions.Tariff", "transactions.StationTariff",
    "smartcharging.ChargingProfile", "smartcharging.Site", "smartcharging.SiteMember",
    "devicemodel.ProvisioningPolicy", "csms.WebhookSubscription",
)
_OLD = "_audit_old_values"


def _plain(value):
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time, decimal.Decimal,
                          uuid.UUID)):
        return str(value)
    if isinstance(value, (str, int, float, bool, list, dict)) or value is None:
        return value
    return str(value)


def _values(instance):
    return {field.attname: _plain(getattr(instance, field.attname))
            for field in instance._meta.concrete_fields}


def _station(instance):
    identity = getattr(instance, "identity", None)
    if isinstance(identity, str) and instance._meta.label == "stations.Station":
        return identity
    station = getattr(instance, "station", None) if hasattr(instance, "station_id") else None
    return getattr(station, "identity", "") or ""


def remember_old(sender, instance, **kwargs):
    if audit.current() is None or instance.pk is None:
        return
    setattr(instance, _OLD, sender._default_manager.filter(pk=instance.pk).values().first())


def saved(sender, instance, created, **kwargs):
    if audit.current() is None:
        return
    new = _values(instance)
    old = {k: _plain(v) for k, v in (getattr(instance, _OLD, None) or {}).items()}
    name = f"{sender._meta.verbose_name} {instance}"
    if created or not old:
        changes = {k: [None, v] for k, v in new.items() if k != "id"}
        summary = f"{name} created"
    else:
        changes = {k: [old.get(k), v] for k, v in new.items() if old.get(k) != v}
        if not changes:
            return
        summary = f"{name} changed: {', '.join(changes)}"
    # Secret fields: that they changed is audited, never their values.
    changes = {k: (["<redacted>", "<redacted>"] if audit.SECRET_KEY_PATTERN.search(k) else v)
               for k, v in changes.items()}
    audit.record(AuditEntry.Kind.CHANGE, summary, identity=_station(instance),
                 details={"model": sender._meta.label, "pk": instance.pk, "changes": changes})


def deleted(sender, instance, **kwargs):
    if audit.current() is None:
        return
    audit.record(AuditEntry.Kind.CHANGE, f"{sender._meta.verbose_name} {instance} deleted",
                 identity=_station(instance),
                 details={"model": sender._meta.label, "pk": instance.pk})


def command_created(sender, instance, created, **kwargs):
    if created and audit.current() is not None:
        audit.record(AuditEntry.Kind.COMMAND, f"{instance.action} sent to {instance.identity}",
                     identity=instance.identity,
                     details={"command": instance.pk, "action": instance.action,
                              "payload": instance.payload, "source": instance.source})


def connect():
    for label in AUDITED_MODELS:
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        pre_save.connect(remember_old, sender=model, dispatch_uid=f"audit-old-{label}")
        post_save.connect(saved, sender=model, dispatch_uid=f"audit-saved-{label}")
        post_delete.connect(deleted, sender=model, dispatch_uid=f"audit-deleted-{label}")
    post_save.connect(command_created, sender=apps.get_model("csms.Command"),
                      dispatch_uid="audit-command")
