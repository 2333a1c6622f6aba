"""CSMS -> station firmware requests for both OCPP versions: UpdateFirmware (1.6 plain or the
security extension's SignedUpdateFirmware), PublishFirmware / UnpublishFirmware (2.0.1)."""
from django.conf import settings
from django.urls import reverse

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16, OCPP201

from . import StationNotReady, _version

__all__ = ["StationNotReady", "download_url", "location_of", "update_action", "update_payload",
           "send_update", "publish_payload", "send_publish", "send_unpublish"]


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def download_url(token, filename):
    """The address a station fetches a CSMS-held image from (no login: the token is the key)."""
    path = reverse("stations:firmware-download", kwargs={"token": token, "filename": filename or "image"})
    return settings.PUBLIC_BASE_URL + path


def location_of(row):
    """Where the station is told to fetch `row.image` (a FirmwareUpdate or FirmwarePublication)."""
    image = row.image
    if image.external_url:
        return image.external_url
    return download_url(row.download_token, image.filename)


def update_action(image, version):
    """1.6 stations get SignedUpdateFirmware for signed images (security extension, L01 in 1.6)."""
    if version == OCPP16 and image.is_signed:
        return "SignedUpdateFirmware"
    return "UpdateFirmware"


def update_payload(update, version):
    image = update.image
    if update_action(image, version) == "UpdateFirmware" and version == OCPP16:
        payload = {"location": location_of(update), "retrieveDate": _iso(update.retrieve_at)}
    else:
        firmware = {"location": location_of(update), "retrieveDateTime": _iso(update.retrieve_at)}
        if update.install_at:
            firmware["installDateTime"] = _iso(update.install_at)
        if image.signing_certificate:
            firmware["signingCertificate"] = image.signing_certificate
        if image.signature:
            firmware["signature"] = image.signature
        payload = {"requestId": update.request_id, "firmware": firmware}
    if update.retries is not None:
        payload["retries"] = update.retries
    if update.retry_interval is not None:
        payload["retryInterval"] = update.retry_interval
    return payload


def send_update(station, update, source=""):
    """Send the UpdateFirmware for `update`; raises InvalidCommand before anything is sent."""
    version = _version(station)
    return outbound.send_call(station.identity, version, update_action(update.image, version),
                              update_payload(update, version), source=source)


def publish_payload(publication):
    payload = {"location": location_of(publication), "checksum": publication.image.md5,
               "requestId": publication.request_id}
    return payload


def _require_201(station, action):
    version = _version(station)
    if version != OCPP201:
        raise outbound.InvalidCommand([f"{action} exists in OCPP 2.0.1 only"])
    return version


def send_publish(station, publication, retries=None, retry_interval=None, source=""):
    version = _require_201(station, "PublishFirmware")
    payload = publish_payload(publication)
    if retries is not None:
        payload["retries"] = retries
    if retry_interval is not None:
        payload["retryInterval"] = retry_interval
    return outbound.send_call(station.identity, version, "PublishFirmware", payload, source=source)


def send_unpublish(station, image, source=""):
    version = _require_201(station, "UnpublishFirmware")
    return outbound.send_call(station.identity, version, "UnpublishFirmware",
                              {"checksum": image.md5}, source=source)
