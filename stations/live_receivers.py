"""Pushes to the dashboard when a command is created, sent or answered, and when message-log rows
are written: the station page shows them without polling (connected in StationsConfig.ready)."""
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from csms.models import Command, MessageLogEntry
from csms.ocpp.signals import command_finished, command_sent, message_log_written

from . import live


def command_event(command):
    return {
        "command": command.pk, "action": command.action, "status": command.status,
        "finished": command.is_finished, "answer_status": _answer_status(command),
        "error_code": command.error_code, "error_description": command.error_description,
        "text": outcome_text(command),
    }, command.identity


def _answer_status(command):
    response = command.response
    return response.get("status") if isinstance(response, dict) else None


def outcome_text(command):
    """One line saying how a command ended (or where it is), as the page that sent it shows it."""
    text = f"{command.action} #{command.pk}: {command.status}"
    answer = _answer_status(command)
    if answer:
        return f"{text} (the station answered {answer})"
    detail = " ".join(part for part in (command.error_code, command.error_description) if part)
    return f"{text} ({detail})" if detail else text


def _publish_command(command):
    # A command is created, sent and answered within milliseconds: pages need its latest state.
    snapshot = command_event(command)
    live.publish_soon("command", command.pk, lambda: snapshot)


@receiver(post_save, sender=Command, dispatch_uid="live-command-created")
def command_created(sender, instance, created, **kwargs):
    if created:
        transaction.on_commit(lambda: _publish_command(instance))


@receiver(command_sent, sender=Command, dispatch_uid="live-command-sent")
def command_was_sent(sender, command, **kwargs):
    _publish_command(command)


@receiver(command_finished, sender=Command, dispatch_uid="live-command-finished")
def command_was_finished(sender, command, **kwargs):
    _publish_command(command)


@receiver(message_log_written, sender=MessageLogEntry, dispatch_uid="live-message-log")
def message_log_rows_written(sender, identities, **kwargs):
    # One event per batch; each page reads its own station's new rows.
    live.publish("log", {"stations": sorted(identities)})
