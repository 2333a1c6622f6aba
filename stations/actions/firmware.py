"""Firmware state changes: images stored, updates started and driven by the station's answers,
notifications and next boot, downloads counted, publications on local controllers."""
import hashlib
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone

from csms.models import Command
from csms.ocpp import outbound

from ..commands import StationNotReady
from ..commands import firmware as firmware_commands
from ..models import FirmwareImage, FirmwarePublication, FirmwareUpdate, Station
from ..signals import firmware_update_changed

logger = logging.getLogger(__name__)
Status = FirmwareUpdate.Status
PublicationStatus = FirmwarePublication.Status

__all__ = ["InvalidFirmware", "ImageNotApplicable", "ImageInUse", "StationNotReady",
           "create_image", "delete_image", "start_update", "settle_command",
           "apply_status_notification", "confirm_version_at_boot", "find_download",
           "count_download", "start_publication", "unpublish", "apply_publish_notification"]

# The station took the request on; the other answers refuse it (2.0.1 UpdateFirmwareStatusEnum).
ACCEPTED_ANSWERS = {"Accepted", "AcceptedCanceled"}
# States a 1.6 FirmwareStatusNotification (no requestId) can still speak about.
OPEN_STATES = {Status.SENT, Status.ACCEPTED} | {
    value for value in Status.values if value[0].isupper()} - FirmwareUpdate.FINAL
# Notifications no longer move these: confirmed, refused by the station, or replaced.
SETTLED = {Status.INSTALLED_CONFIRMED, Status.REJECTED, Status.CANCELED}
# A boot with another version fails the update only once the station said it installed it;
# earlier, the boot may be the reboot that starts the installation.
AWAITING_BOOT = {Status.INSTALLED, Status.INSTALL_REBOOTING, Status.INSTALLING, Status.DOWNLOADED,
                 Status.SIGNATURE_VERIFIED, Status.INSTALL_SCHEDULED}


class InvalidFirmware(ValueError):
    """The request cannot be carried out as asked; `errors` says why, one reason each."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


class ImageNotApplicable(InvalidFirmware):
    pass


class ImageInUse(InvalidFirmware):
    pass


# --- images ---------------------------------------------------------------------------------

def create_image(*, name, version, vendor="", model="", upload=None, external_url="",
                 signature="", signing_certificate="", uploaded_by=None):
    """Store an uploaded file (size, SHA-256 and MD5 computed while reading it) or record an
    external URL (handed to stations as it is)."""
    if bool(upload) == bool(external_url):
        raise InvalidFirmware(["Give either a file or an external URL, not both"
                               if upload else "Give a file or an external URL"])
    if bool(signature) != bool(signing_certificate):
        raise InvalidFirmware(["A signature needs its signing certificate, and the other way round"])
    if signing_certificate and "-----BEGIN CERTIFICATE-----" not in signing_certificate:
        raise InvalidFirmware(["The signing certificate must be PEM (-----BEGIN CERTIFICATE-----)"])
    image = FirmwareImage(name=name, version=version, vendor=vendor, model=model,
                          external_url=external_url, signature=signature,
                          signing_certificate=signing_certificate, uploaded_by=uploaded_by)
    if upload:
        sha256, md5, size = hashlib.sha256(), hashlib.md5(), 0
        for chunk in upload.chunks():
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
        upload.seek(0)
        image.sha256, image.md5, image.size = sha256.hexdigest(), md5.hexdigest(), size
        # A directory of its own keeps the file's own name in the station's URL.
        filename = upload.name.rsplit("/", 1)[-1] or "firmware.bin"
        image.file.save(f"{secrets.token_hex(8)}/{filename}", upload, save=False)
    image.save()
    return image


def delete_image(image):
    if image.updates.exists() or image.publications.exists():
        raise ImageInUse([f"{image} was sent to stations; its updates keep it"])
    if image.campaigns.exists():
        raise ImageInUse([f"{image} is the image of a firmware campaign; delete the campaign first"])
    if image.file:
        image.file.delete(save=False)
    image.delete()


# --- updates --------------------------------------------------------------------------------

def _token_and_expiry(image, retrieve_at):
    if image.external_url:
        return "", None
    # Counted from when the station is told to fetch it, so a later retrieveDateTime still works.
    start = max(timezone.now(), retrieve_at)
    return secrets.token_urlsafe(32), start + timedelta(seconds=settings.FIRMWARE_URL_TTL_SECONDS)


def _next_request_id(model, station):
    return (model.objects.filter(station=station).aggregate(top=Max("request_id"))["top"] or 0) + 1


def start_update(station, image, *, retrieve_at=None, install_at=None, retries=None,
                 retry_interval=None, source="", force=False):
    """Record a FirmwareUpdate and send the station its UpdateFirmware now (queued; `offline`
    at once when nobody holds its socket). Raises StationNotReady (version unknown),
    ImageNotApplicable (vendor/model differ, unless force) or InvalidFirmware."""
    if not force and not image.applies_to(station):
        raise ImageNotApplicable([
            f"{image} is for {image.vendor or 'any vendor'} {image.model or 'any model'}; "
            f"{station.identity} is {station.vendor_name or '?'} {station.model or '?'} "
            f"(force to send it anyway)"])
    version = firmware_commands._version(station)
    retrieve_at = retrieve_at or timezone.now()
    if install_at and install_at < retrieve_at:
        raise InvalidFirmware(["install_at must not be before retrieve_at"])
    for attempt in range(5):
        try:
            with transaction.atomic():
                update = _send_update(station, image, version, retrieve_at, install_at, retries,
                                      retry_interval, source)
            break
        except IntegrityError:
            if attempt == 4:  # another writer kept taking the same requestId
                raise
        except outbound.InvalidCommand as error:
            raise InvalidFirmware(error.errors)
    update.refresh_from_db()  # on the embedded default the answer may already be applied
    return update


def _send_update(station, image, version, retrieve_at, install_at, retries, retry_interval,
                 source):
    token, expires_at = _token_and_expiry(image, retrieve_at)
    update = FirmwareUpdate.objects.create(
        station=station, image=image, request_id=_next_request_id(FirmwareUpdate, station),
        action=firmware_commands.update_action(image, version), retrieve_at=retrieve_at,
        install_at=install_at, retries=retries, retry_interval=retry_interval,
        download_token=token, download_expires_at=expires_at, source=source,
        status=Status.QUEUED,
    )
    command = firmware_commands.send_update(station, update, source=source)
    status = Status.OFFLINE if command.status == Command.Status.OFFLINE else Status.SENT
    _set_status(update, status, command=command)
    return update


def _set_status(update, status, only_from=None, **fields):
    """Move `update` to `status` (with history), unless it left `only_from` meanwhile."""
    with transaction.atomic():
        # Locked re-read: an answer and a notification may be applied at the same moment.
        current = FirmwareUpdate.objects.select_for_update().filter(pk=update.pk).values(
            "status", "history").first()
        if current is None or (only_from is not None and current["status"] not in only_from):
            return False
        history = current["history"] + [{"status": status, "at": timezone.now().isoformat()}]
        FirmwareUpdate.objects.filter(pk=update.pk).update(
            status=status, history=history, updated_at=timezone.now(), **fields)
    update.status, update.history = status, history
    for name, value in fields.items():
        setattr(update, name, value)
    _announce(update.pk)
    return True


def _announce(update_pk):
    def send():
        update = FirmwareUpdate.objects.select_related("station", "image").filter(
            pk=update_pk).first()
        if update is not None:
            firmware_update_changed.send(sender=FirmwareUpdate, update=update)
    transaction.on_commit(send)


def settle_command(command):
    """Apply the station's answer (or the call's failure) to the update or publication it
    carried."""
    if command.action in ("UpdateFirmware", "SignedUpdateFirmware"):
        _settle_update(command)
    elif command.action == "PublishFirmware":
        _settle_publication(command)
    elif command.action == "UnpublishFirmware":
        _settle_unpublish(command)


def _answer_of(command):
    if command.response is not None:
        # 1.6 UpdateFirmware is answered with an empty object: the station took it on.
        return command.response.get("status", "Accepted")
    return command.error_code or command.status


def _settle_update(command):
    update = FirmwareUpdate.objects.filter(command=command).first()
    if update is None:
        return
    answer = _answer_of(command)
    waiting = (Status.QUEUED, Status.SENT)
    # A notification may have overtaken the answer: keep its status, record the answer anyway.
    FirmwareUpdate.objects.filter(pk=update.pk).update(answer=answer)
    if command.status == Command.Status.ACCEPTED and answer in ACCEPTED_ANSWERS:
        with transaction.atomic():
            _set_status(update, Status.ACCEPTED, only_from=waiting, answer=answer)
            if answer == "AcceptedCanceled":
                # L01.FR.24: the station stopped the update it was busy with for this one.
                for older in FirmwareUpdate.objects.filter(
                        station_id=update.station_id, status__in=OPEN_STATES,
                        pk__lt=update.pk).exclude(pk=update.pk):
                    _set_status(older, Status.CANCELED)
    elif command.status == Command.Status.OFFLINE:
        _set_status(update, Status.OFFLINE, only_from=waiting, answer="Station not connected")
    elif command.status == Command.Status.REJECTED or command.response is not None:
        _set_status(update, Status.REJECTED, only_from=waiting, answer=answer)
    else:  # error or timeout: the station may never have seen it
        _set_status(update, Status.FAILED, only_from=waiting, answer=answer)


def apply_status_notification(station_pk, status, request_id=None):
    """FirmwareStatusNotification / SignedFirmwareStatusNotification. Without requestId (1.6
    plain) it speaks of the station's newest open update. Returns the update, or None when the
    CSMS knows of none (logged; the station is answered all the same)."""
    updates = FirmwareUpdate.objects.filter(station_id=station_pk).select_related("image", "station")
    if request_id is not None:
        update = updates.filter(request_id=request_id).first()
    else:
        update = updates.filter(status__in=OPEN_STATES).order_by("-id").first()
    if update is None:
        if status != Status.IDLE:
            logger.info("Station %s reports firmware %s for requestId %s, unknown to the CSMS",
                        station_pk, status, request_id)
        return None
    if status == Status.IDLE or update.status in SETTLED:
        return update  # Idle speaks of no update; a settled update stays as it ended
    if status == Status.INSTALLED and _booted_with(update):
        # 1.6 stations report Installed after the reboot whose BootNotification already came.
        _set_status(update, Status.INSTALLED)
        _confirm(update, update.station.firmware_version)
    else:
        _set_status(update, status)
    return update


def _booted_with(update):
    station = update.station
    return (station.last_boot_at is not None and station.last_boot_at > update.created_at
            and station.firmware_version == update.image.version)


def confirm_version_at_boot(station):
    """The BootNotification after an update says which version the station really runs."""
    if not station.firmware_version:
        return  # firmwareVersion is optional (1.6): a boot without it proves nothing either way
    for update in FirmwareUpdate.objects.filter(
            station=station, status__in=AWAITING_BOOT).select_related("image"):
        if station.firmware_version == update.image.version:
            _confirm(update, station.firmware_version)
        elif update.status == Status.INSTALLED:
            _set_status(update, Status.FAILED, answer="booted with another version",
                        reported_version=station.firmware_version)


def _confirm(update, version):
    _set_status(update, Status.INSTALLED_CONFIRMED, version_confirmed=True,
                reported_version=version or "")


# --- downloads ------------------------------------------------------------------------------

def find_download(token):
    """The update or publication whose unexpired download token this is, else None."""
    if not token:
        return None
    now = timezone.now()
    for model in (FirmwareUpdate, FirmwarePublication):
        row = model.objects.select_related("image").filter(
            download_token=token, download_expires_at__gt=now).first()
        if row is not None and row.image.file:
            return row
    return None


def count_download(row):
    type(row).objects.filter(pk=row.pk).update(downloads=F("downloads") + 1)
    if isinstance(row, FirmwareUpdate):
        _announce(row.pk)


# --- publications on local controllers (2.0.1 L03/L04) --------------------------------------

def start_publication(station, image, *, retries=None, retry_interval=None, source=""):
    if not image.md5:
        raise InvalidFirmware(["PublishFirmware needs an image held by the CSMS (MD5 checksum)"])
    firmware_commands._require_201(station, "PublishFirmware")
    try:
        with transaction.atomic():
            token, expires_at = _token_and_expiry(image, timezone.now())
            publication = FirmwarePublication.objects.create(
                station=station, image=image, source=source, download_token=token,
                download_expires_at=expires_at,
                request_id=_next_request_id(FirmwarePublication, station))
            command = firmware_commands.send_publish(station, publication, retries,
                                                     retry_interval, source=source)
            status = (PublicationStatus.OFFLINE if command.status == Command.Status.OFFLINE
                      else PublicationStatus.SENT)
            _set_publication(publication, status, command=command)
    except outbound.InvalidCommand as error:
        raise InvalidFirmware(error.errors)
    publication.refresh_from_db()
    return publication


def unpublish(station, image, source=""):
    try:
        return firmware_commands.send_unpublish(station, image, source=source)
    except outbound.InvalidCommand as error:
        raise InvalidFirmware(error.errors)


def _set_publication(publication, status, only_from=None, **fields):
    rows = FirmwarePublication.objects.filter(pk=publication.pk)
    if only_from is not None:
        rows = rows.filter(status__in=only_from)
    history = list(publication.history) + [{"status": status, "at": timezone.now().isoformat()}]
    if rows.update(status=status, history=history, updated_at=timezone.now(), **fields):
        publication.status, publication.history = status, history


def _settle_publication(command):
    publication = FirmwarePublication.objects.filter(command=command).first()
    if publication is None:
        return
    answer = _answer_of(command)
    waiting = (PublicationStatus.QUEUED, PublicationStatus.SENT)
    if command.status == Command.Status.ACCEPTED:
        status = PublicationStatus.ACCEPTED
    elif command.status == Command.Status.OFFLINE:
        status = PublicationStatus.OFFLINE
    elif command.response is not None:
        status = PublicationStatus.REJECTED
    else:
        status = PublicationStatus.FAILED
    _set_publication(publication, status, only_from=waiting, answer=answer)


def _settle_unpublish(command):
    # Unpublished: every publication of that image on the controller is withdrawn (L04).
    if (command.response or {}).get("status") != "Unpublished":
        return
    station = Station.objects.filter(identity=command.identity).first()
    checksum = command.payload.get("checksum")
    for publication in FirmwarePublication.objects.filter(station=station, image__md5=checksum):
        _set_publication(publication, PublicationStatus.UNPUBLISHED)


def apply_publish_notification(station_pk, status, request_id=None, locations=()):
    publications = FirmwarePublication.objects.filter(station_id=station_pk)
    publication = (publications.filter(request_id=request_id).first() if request_id is not None
                   else None)
    if publication is None:
        if status != PublicationStatus.IDLE:
            logger.info("Station %s reports publication %s for requestId %s, unknown to the CSMS",
                        station_pk, status, request_id)
        return None
    fields = {"published_locations": list(locations)} if locations else {}
    _set_publication(publication, status, **fields)
    return publication
