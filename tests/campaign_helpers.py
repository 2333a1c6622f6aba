"""Scripted stations for firmware campaign tests: they take UpdateFirmware and, when the test says
so, report the statuses of a good or failed update and boot with the new version."""
import uuid

from tests.helpers import eventually

NEW_VERSION = "2.0"
SUCCESS = ["Downloading", "Downloaded", "Installing", "Installed"]
DOWNLOAD_FAILURE = ["Downloading", "DownloadFailed"]


def firmware_image(version=NEW_VERSION):
    from stations.models import FirmwareImage

    return FirmwareImage.objects.create(name=f"fw-{uuid.uuid4().hex[:6]}", version=version,
                                        external_url="https://firmware.example/fw.bin")


def firmware_station(connect_station, identity, version="2.0.1"):
    """A booted scripted station (firmware 1.0) that accepts UpdateFirmware."""
    client = connect_station(identity, version=version)
    client.answers["UpdateFirmware"] = {"status": "Accepted"} if version == "2.0.1" else {}
    return client


def next_update(client, timeout=60):
    """The next UpdateFirmware the CSMS sent this station (other calls are skipped). Generous: on
    services every command goes through the Celery worker, which may still be starting when a
    session's first test runs."""
    while True:
        _, action, payload = client.next_call(timeout=timeout)
        if action in ("UpdateFirmware", "SignedUpdateFirmware"):
            return payload


def got_update(client):
    """The UpdateFirmware this station received, if any, without waiting."""
    try:
        return next_update(client, timeout=0.01)
    except TimeoutError:
        return None


def report(client, payload, statuses, boot_version=None):
    """Report `statuses` for the update `payload` asked for; then boot with `boot_version`."""
    for status in statuses:
        body = {"status": status}
        if client.version == "2.0.1":
            body["requestId"] = payload["requestId"]
        client.call("FirmwareStatusNotification", body)
    if boot_version is not None:
        if client.version == "2.0.1":
            client.boot(chargingStation={"model": "TestModel", "vendorName": "TestVendor",
                                         "firmwareVersion": boot_version},
                        reason="FirmwareUpdate")
        else:
            client.boot(firmwareVersion=boot_version)


def install(client, payload, version=NEW_VERSION):
    report(client, payload, SUCCESS, boot_version=version)


def campaign_state(api, pk, state, timeout=60):
    return eventually(lambda: (lambda body: body if body["state"] == state else None)(
        api.get(f"/firmware-campaigns/{pk}/").json()), timeout=timeout)


def target_states(campaign_pk):
    from stations.models import CampaignTarget

    return dict(CampaignTarget.objects.filter(campaign_id=campaign_pk)
                .values_list("station__identity", "state"))
