"""Local authorization lists: what a station holds, what to send, and the answers."""
from django.db import transaction as db_transaction
from django.utils import timezone

from ..live_panels import panel_changed
from ..models import IdToken, LocalList, LocalListUpdate
from .authorization import id_tag_info, id_token_info
from .common import OCPP16


def _entry_key(token):
    return f"{token.id_token}|{token.type}"


def local_list_content(station, version, selection=None):
    """{key: idTokenInfo or idTagInfo} of the tokens a station's list holds (all, or the selected
    pks); tokens not allowed at the station are left out. Status without concurrency or credit:
    the list says whether a token is valid, not whether it is charging now."""
    tokens = IdToken.objects.select_related("group").prefetch_related("allowed_stations")
    if selection is not None:
        tokens = tokens.filter(pk__in=selection)
    content = {}
    now = timezone.now()
    for token in tokens:
        allowed = [s.pk for s in token.allowed_stations.all()]
        if allowed and station.pk not in allowed:
            continue
        if version == OCPP16 and len(token.id_token) > 20:
            continue  # a 1.6 idTag has at most 20 characters
        if token.status != IdToken.Status.ACCEPTED:
            status = token.status
        elif token.expires_at and token.expires_at <= now:
            status = "Expired"
        else:
            status = "Accepted"
        if version == OCPP16:
            key = token.id_token
            info = id_tag_info(token, status, with_cache_expiry=False)
        else:
            key = _entry_key(token)
            info = id_token_info(token, status, with_cache_expiry=False)
        content[key] = info
    return content


def local_list_of(station):
    local_list, _ = LocalList.objects.get_or_create(station=station)
    return local_list


def plan_local_list(station, update_type, selection=None):
    """What to send: (LocalListUpdate row, payload). A Differential is only possible from a list
    the CSMS knows the station holds; otherwise (never sent, a VersionMismatch, or the station
    reporting another version) a Full list is sent instead."""
    version = station.ocpp_version
    local_list = local_list_of(station)
    if selection is None and update_type == "Differential":
        selection = local_list.selection
    desired = local_list_content(station, version, selection)
    knows_station_list = local_list.entries is not None and (
        local_list.reported_version is None or local_list.reported_version == local_list.version_number)
    if update_type == "Differential" and not knows_station_list:
        update_type = "Full"
    number = max(local_list.version_number, local_list.reported_version or 0) + 1
    if update_type == "Full":
        changes = desired
    else:
        current = local_list.entries
        changes = {key: info for key, info in desired.items() if current.get(key) != info}
        # An entry without info removes the token from the station's list.
        changes.update({key: None for key in current if key not in desired})
    update = LocalListUpdate.objects.create(
        local_list=local_list, kind=LocalListUpdate.Kind.SEND, update_type=update_type,
        version_number=number, resulting_entries=desired, selection=selection,
    )
    return update, _local_list_payload(version, number, update_type, changes)


def _local_list_payload(version, number, update_type, changes):
    entries = []
    for key, info in sorted(changes.items()):
        if version == OCPP16:
            entry = {"idTag": key}
            if info is not None:
                entry["idTagInfo"] = info
        else:
            value, token_type = key.rsplit("|", 1)
            entry = {"idToken": {"idToken": value, "type": token_type}}
            if info is not None:
                entry["idTokenInfo"] = info
        entries.append(entry)
    if version == OCPP16:
        return {"listVersion": number, "updateType": update_type, "localAuthorizationList": entries}
    payload = {"versionNumber": number, "updateType": update_type}
    if entries:
        payload["localAuthorizationList"] = entries
    return payload


def settle_local_list_update(update):
    with db_transaction.atomic():
        update = LocalListUpdate.objects.select_for_update(of=("self",)).select_related("command").get(pk=update.pk)
        command = update.command
        if update.settled or (command is not None and not command.is_finished):
            return update
        response = (command.response or {}) if command else {}
        local_list = LocalList.objects.select_for_update().get(pk=update.local_list_id)
        if update.kind == LocalListUpdate.Kind.GET_VERSION:
            reported = response.get("versionNumber", response.get("listVersion"))
            update.outcome = "Reported" if reported is not None else (command.status if command else "")
            if reported is not None:
                local_list.reported_version = reported
                local_list.reported_at = timezone.now()
                if reported != local_list.version_number:
                    local_list.entries = None  # the station holds another list: next one is Full
        else:
            update.outcome = response.get("status") or (command.status if command else "")
            if update.outcome == "Accepted":
                local_list.version_number = update.version_number
                local_list.entries = update.resulting_entries
                local_list.selection = update.selection
                local_list.reported_version = update.version_number
            elif update.outcome == "VersionMismatch":
                local_list.entries = None
        local_list.save()
        update.settled = True
        update.save(update_fields=["outcome", "settled"])
        panel_changed(local_list.station_id, "local-list")
    return update


