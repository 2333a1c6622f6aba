"""Bulk operations: one command sent to many stations through the ordinary command path, at most
BULK_OPERATION_CONCURRENCY awaiting an answer at once, each station's outcome recorded and pushed.

Actions come from a registry: Reset and ChangeAvailability are registered here; other apps add
theirs in a `bulk_actions` module (found like admin modules), so this app imports none of them."""
import logging
from dataclasses import dataclass, field
from typing import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.dispatch import receiver
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from csms.models import Command
from csms.ocpp.signals import command_finished

from .. import commands
from ..models import BulkOperation, BulkTarget, Station

logger = logging.getLogger(__name__)
Outcome = BulkTarget.Outcome
SOURCE_PREFIX = "bulk:"
# CALLERROR codes meaning the station does not do this action.
UNSUPPORTED_ERRORS = {"NotSupported", "NotImplemented"}


class NotSupported(Exception):
    """The action has no form for this station's OCPP version (outcome not_supported)."""


@dataclass(frozen=True)
class BulkAction:
    """One kind of bulk operation. `options` maps each option's name to its allowed values (the
    first is the default); `send(station, options, source)` returns the Command it queued."""

    name: str
    label: str
    send: Callable
    options: dict = field(default_factory=dict)

    def clean_options(self, given):
        """The options completed with defaults; ValidationError for unknown names or values."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.options))
        if unknown:
            raise ValidationError({"parameters": f"{self.name} takes no option "
                                                 f"{', '.join(unknown)}; it takes "
                                                 f"{', '.join(self.options) or 'none'}."})
        cleaned = {}
        for name, allowed in self.options.items():
            value = given.get(name, allowed[0])
            if value not in allowed:
                raise ValidationError({"parameters": f"{name} must be one of "
                                                     f"{', '.join(allowed)}, not {value!r}."})
            cleaned[name] = value
        return cleaned

    def describe(self, options):
        chosen = ", ".join(str(value) for value in options.values())
        return f"{self.label} ({chosen})" if chosen else self.label


_actions = {}
_discovered = False


def register(action):
    _actions[action.name] = action
    return action


def registered():
    """Every bulk action by name, once other apps' `bulk_actions` modules are loaded."""
    global _discovered
    if not _discovered:
        autodiscover_modules("bulk_actions")
        _discovered = True
    return dict(_actions)


def get_action(name):
    action = registered().get(name)
    if action is None:
        raise ValidationError({"action": f"Unknown bulk action {name!r}; one of "
                                         f"{', '.join(sorted(registered()))}."})
    return action


register(BulkAction(
    "reset", "Reset", options={"type": ("Immediate", "OnIdle")},
    send=lambda station, options, source: commands.reset(station, options["type"], source=source)))
register(BulkAction(
    "change_availability", "Change availability",
    options={"operational_status": ("Operative", "Inoperative")},
    send=lambda station, options, source: commands.change_availability(
        station, options["operational_status"], source=source)))


# --- choosing the stations --------------------------------------------------------------------

def filter_fields():
    from ..forms import StationFilter  # the station list's own filter: "all N matching" = the list

    return list(StationFilter.base_filters)


def stations_matching(filter_data, strict=True):
    """Stations the station list's filter chooses. `strict`: unknown or invalid values raise
    ValidationError (API); otherwise unknown keys (page, sorting) are ignored."""
    from ..forms import StationFilter

    known = set(filter_fields())
    unknown = sorted(set(filter_data) - known)
    if unknown and strict:
        raise ValidationError({"filter": f"Unknown filter {', '.join(unknown)}; filters are "
                                         f"{', '.join(sorted(known))}."})
    data = {key: value for key, value in filter_data.items() if key in known and value != ""}
    station_filter = StationFilter(data, queryset=Station.objects.all())
    if not station_filter.is_valid():
        raise ValidationError({"filter": [f"{name}: {' '.join(errors)}"
                                          for name, errors in station_filter.errors.items()]})
    return station_filter.qs.order_by("identity"), data


def select_stations(identities=(), filter_data=None, strict=True):
    """(stations in identity order, the filter as applied). Listed identities must all exist."""
    if identities:
        identities = list(dict.fromkeys(identities))
        stations = list(Station.objects.filter(identity__in=identities).order_by("identity"))
        unknown = sorted(set(identities) - {station.identity for station in stations})
        if unknown:
            shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
            raise ValidationError({"stations": f"Unknown stations: {shown}"})
        return stations, {}
    if filter_data is None:
        raise ValidationError({"stations": "List stations, or give a filter."})
    queryset, applied = stations_matching(filter_data, strict=strict)
    return list(queryset), applied


# --- creating and running ---------------------------------------------------------------------

def create_operation(action_name, parameters=None, identities=(), filter_data=None,
                     created_by=None, source="", strict=True):
    """A running operation over the chosen stations, started once the transaction commits.
    ValidationError when the action, its options or the selection are wrong, or choose nobody."""
    action = get_action(action_name)
    options = action.clean_options(parameters)
    stations, applied = select_stations(identities, filter_data, strict=strict)
    if not stations:
        raise ValidationError({"stations": "The selection chooses no station."})
    with transaction.atomic():
        operation = BulkOperation.objects.create(
            action=action.name, parameters=options, selection_identities=list(identities or ()),
            selection_filter=applied, created_by=created_by, source=source[:100])
        BulkTarget.objects.bulk_create(
            (BulkTarget(operation=operation, station=station, identity=station.identity,
                        position=position) for position, station in enumerate(stations)),
            batch_size=500)
        schedule_advance(operation.pk)
    return operation


def schedule_advance(operation_pk):
    """Advance the operation in a worker (in-process on the embedded default) after commit."""
    from .. import tasks

    transaction.on_commit(lambda: tasks.advance_bulk_operation.delay(operation_pk))


def advance_operation(operation_pk):
    """Send to queued targets while fewer than BULK_OPERATION_CONCURRENCY await an answer;
    finish the operation when every target has an outcome. Each round is one transaction
    under the operation's row lock (bounded), repeated while stations answer at once (offline)."""
    while _advance_round(operation_pk):
        pass


def _advance_round(operation_pk):
    """One round; True when another may send more (it filled no slot but left targets queued)."""
    window = max(settings.BULK_OPERATION_CONCURRENCY, 1)
    changed, finished = [], False
    with transaction.atomic():
        operation = BulkOperation.objects.select_for_update().filter(pk=operation_pk).first()
        if operation is None or operation.state != BulkOperation.State.RUNNING:
            return False
        slots = window - operation.targets.filter(outcome=Outcome.SENT).count()
        queued = (operation.targets.filter(outcome=Outcome.QUEUED)
                  .select_related("station").order_by("position"))
        batch = list(queued[:window]) if slots > 0 else []
        action = registered().get(operation.action)
        for target in batch:
            if slots <= 0:
                break
            _send_target(operation, action, target)
            changed.append(target)
            if target.outcome == Outcome.SENT:
                slots -= 1
        if not operation.targets.exclude(outcome__in=BulkTarget.FINAL).exists():
            operation.state = BulkOperation.State.FINISHED
            operation.finished_at = timezone.now()
            operation.save(update_fields=["state", "finished_at"])
            finished = True
        if changed or finished:
            transaction.on_commit(lambda: publish(operation, changed))
    return bool(batch) and slots > 0 and len(batch) == window and not finished


def _send_target(operation, action, target):
    now = timezone.now()
    target.sent_at = now
    station = target.station
    try:
        if action is None:
            raise NotSupported(f"no bulk action {operation.action!r} in this process")
        if station is None:
            raise commands.StationNotReady(f"{target.identity} was deleted")
        with transaction.atomic():
            command = action.send(station, operation.parameters, source_of(operation))
    except commands.StationNotReady as error:
        target.outcome, target.detail = Outcome.OFFLINE, str(error)[:200]
    except (NotSupported, ValueError) as error:
        # InvalidCommand and the apps' InvalidRequest are ValueErrors: this version has no such call.
        target.outcome, target.detail = Outcome.NOT_SUPPORTED, str(error)[:200]
    else:
        target.command = command
        target.outcome, target.detail = outcome_of(command)
    if target.outcome in BulkTarget.FINAL:
        target.finished_at = now
    target.save(update_fields=["command", "outcome", "detail", "sent_at", "finished_at"])


def source_of(operation):
    """The commands' source: who asked, and the operation (its receiver matches on the prefix)."""
    return f"{SOURCE_PREFIX}{operation.pk} {operation.source}".strip()[:100]


def outcome_of(command):
    """(outcome, detail) of a target from its command."""
    status = command.status
    if status in (Command.Status.QUEUED, Command.Status.SENT):
        return Outcome.SENT, ""
    answer = command.response.get("status", "") if isinstance(command.response, dict) else ""
    error = " ".join(part for part in (command.error_code, command.error_description) if part)
    if status == Command.Status.ERROR and command.error_code in UNSUPPORTED_ERRORS:
        return Outcome.NOT_SUPPORTED, error[:200]
    return Outcome(status), (answer or error)[:200]


def apply_command_outcome(command):
    """Record a finished command's outcome on its target and let the operation move on."""
    target = (BulkTarget.objects.select_related("operation").filter(command_id=command.pk)
              .first())
    if target is None or target.is_final:
        return None
    outcome, detail = outcome_of(command)
    now = timezone.now()
    updated = BulkTarget.objects.filter(pk=target.pk, outcome__in=[Outcome.QUEUED, Outcome.SENT]) \
        .update(outcome=outcome, detail=detail, finished_at=now)
    if updated:
        target.outcome, target.detail, target.finished_at = outcome, detail, now
        transaction.on_commit(lambda: publish(target.operation, [target]))
        schedule_advance(target.operation_id)
    return target


@receiver(command_finished, dispatch_uid="stations.bulk_operation_answer")
def _on_command_finished(sender, command, **kwargs):
    if command.source.startswith(SOURCE_PREFIX):
        apply_command_outcome(command)


def advance_running_operations():
    """The beat's pass: outcomes a failed receiver left unapplied, then every running operation
    advanced. Returns the number advanced."""
    pks = list(BulkOperation.objects.filter(state=BulkOperation.State.RUNNING)
               .values_list("pk", flat=True))
    for pk in pks:
        stuck = (BulkTarget.objects.filter(operation_id=pk, outcome=Outcome.SENT)
                 .exclude(command=None).select_related("command"))
        for target in stuck:
            if target.command.is_finished:
                apply_command_outcome(target.command)
        advance_operation(pk)
    return len(pks)


# --- progress ---------------------------------------------------------------------------------

def counts(operation):
    """Targets per outcome, the total and how many have an outcome, in one query."""
    rows = dict(operation.targets.values_list("outcome").annotate(n=Count("id")))
    result = {outcome.value: rows.get(outcome.value, 0) for outcome in Outcome}
    total = sum(result.values())
    done = sum(result[outcome] for outcome in BulkTarget.FINAL)
    result.update(total=total, done=done, percent=round(100 * done / total) if total else 0)
    return result


def describe(operation):
    action = registered().get(operation.action)
    return action.describe(operation.parameters) if action else operation.action


def progress(operation, targets=()):
    return {
        "operation": operation.pk,
        "state": operation.state,
        "counts": counts(operation),
        "targets": [{"identity": target.identity, "outcome": target.outcome,
                     "detail": target.detail} for target in targets],
    }


def publish(operation, targets):
    """Push the operation's progress and the targets that changed to the dashboards."""
    from .. import live

    operation.refresh_from_db(fields=["state", "finished_at"])
    live.publish("bulk", progress(operation, targets))
