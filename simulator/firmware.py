"""Firmware updates of a simulated station (OCPP 2.0.1 block L, 1.6 UpdateFirmware and the security
extension's SignedUpdateFirmware): download over HTTP(S), SHA-256 check, install, reboot."""

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import re
import tempfile
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import httpx

from .calls import notify_when_online

logger = logging.getLogger(__name__)

# What a plain 1.6 FirmwareStatusNotification can say; the other steps are not reported there.
STATUSES_16 = {"Downloaded", "DownloadFailed", "Downloading", "Idle", "InstallationFailed", "Installing", "Installed"}
VERSION_IN_NAME = re.compile(r"(\d+(?:\.\d+)+)")
DOWNLOAD_TIMEOUT = 60.0


def applies(setting, identity):
    """A per-station option: True (every station), or the identities it applies to."""
    if isinstance(setting, bool):
        return setting
    return identity in (setting or ())


def seconds_until(timestamp):
    if not timestamp:
        return 0.0
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return 0.0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def expected_digest(url, headers, override):
    """The SHA-256 (hex) the image must have: the option, a `#sha256=<hex>` fragment of the URL,
    or what the server says (X-Checksum-SHA256, or Digest: sha-256=<base64>); None: no check."""
    if override:
        return override.lower()
    fragment = urlsplit(url).fragment
    if fragment.startswith("sha256="):
        return fragment[len("sha256=") :].lower()
    if headers.get("x-checksum-sha256"):
        return headers["x-checksum-sha256"].strip().lower()
    for part in headers.get("digest", "").split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "sha-256" and value:
            with contextlib.suppress(ValueError):
                return base64.b64decode(value).hex()
    return None


def next_version(current, url, headers, override):
    """The version the image brings: the server's X-Firmware-Version, the option, a version in
    the file name (`sim-2.5.0.bin`), or the current one with its last number raised."""
    if headers.get("x-firmware-version"):
        return headers["x-firmware-version"].strip()
    if override:
        return override
    match = VERSION_IN_NAME.search(unquote(urlsplit(url).path.rsplit("/", 1)[-1]))
    if match:
        return match.group(1)
    head, _, last = current.rpartition(".")
    return f"{head}.{int(last) + 1}" if last.isdigit() else f"{current}.1"


async def fetch(url, file=None):
    """GET `url` (without its fragment), streamed into `file` if given; (size, SHA-256 hex, MD5
    hex, response headers). OSError for an answer other than 200."""
    sha256, md5, size = hashlib.sha256(), hashlib.md5(), 0
    async with (
        httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as client,
        client.stream("GET", url.split("#", 1)[0]) as response,
    ):
        if response.status_code != 200:
            raise OSError(f"HTTP {response.status_code}")
        async for chunk in response.aiter_bytes():
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
            if file is not None:
                file.write(chunk)
        return size, sha256.hexdigest(), md5.hexdigest(), response.headers


class FirmwareUpdates:
    """The one firmware update a station runs at a time, from the request to the reboot."""

    def __init__(self, station):
        self.station = station
        profile = station.profile
        # Python API: set these to make this station's next downloads / installs fail.
        self.download_fails = applies(profile.firmware_download_fails, station.identity)
        self.install_fails = applies(profile.firmware_install_fails, station.identity)
        self.status = "Idle"
        self.request_id = None
        self.signed = False  # the 1.6 SignedUpdateFirmware flow (SignedFirmwareStatusNotification)
        self.version_16 = station.ocpp_version == "1.6"
        self.history = []  # (requestId, status) as reported, for tests
        self.downloaded = []  # (url, size, sha256 hex, version) of each image fetched
        self.last_error = ""
        self._task = None

    @property
    def busy(self):
        return self._task is not None and not self._task.done()

    def start(self, request_id, firmware, retries, retry_interval, signed, version_16=False):
        """Begin an update (cancelling the one running); True when one was cancelled."""
        cancelled = self.busy
        if cancelled:
            self._task.cancel()
        self.request_id, self.signed, self.version_16 = request_id, signed, version_16
        self._task = self.station.spawn(self._update(firmware, max(0, retries or 0), max(0, retry_interval or 0)))
        return cancelled

    async def notify(self, status):
        """Report a step (waiting while the station is offline or rebooting)."""
        self.status = status
        self.history.append((self.request_id, status))
        station = self.station
        if self.version_16 and not self.signed:
            if status not in STATUSES_16:
                return
            action, payload = "FirmwareStatusNotification", {"status": status}
        else:
            action = "SignedFirmwareStatusNotification" if self.signed else "FirmwareStatusNotification"
            payload = {"status": status}
            if self.request_id is not None:
                payload["requestId"] = self.request_id
        await notify_when_online(station, action, payload)

    async def _update(self, firmware, retries, retry_interval):
        station = self.station
        location = firmware["location"]
        wait = seconds_until(firmware.get("retrieveDateTime") or firmware.get("retrieveDate"))
        if wait > 0:
            await self.notify("DownloadScheduled")
            await asyncio.sleep(wait)
        image = None
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(retry_interval)
            await self.notify("Downloading")
            image = await self._download(location)
            if image is not None:
                break
        if image is None:
            await self.notify("DownloadFailed")
            self.status = "Idle"
            return
        path, version = image
        try:
            await self.notify("Downloaded")
            if firmware.get("signature"):
                # The signature is not checked (no vendor key here); a signed image is reported as verified.
                await self.notify("SignatureVerified")
            wait = seconds_until(firmware.get("installDateTime"))
            if wait > 0:
                await self.notify("InstallScheduled")
                await asyncio.sleep(wait)
            # L01.FR.06: installation waits until no transaction is running.
            while station.sessions():
                await asyncio.sleep(0.2)
            await self.notify("Installing")
            await asyncio.sleep(station.profile.firmware_install_seconds)
            if self.install_fails:
                self.last_error = "install failed (simulated)"
                await self.notify("InstallationFailed")
                self.status = "Idle"
                return
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        await self.notify("InstallRebooting")
        station.firmware_version = version
        await self._reboot()
        await self.notify("Installed")
        self.status = "Idle"

    async def _download(self, url):
        """Fetch the image into a temporary file; (path, version), or None when it failed."""
        if self.download_fails:
            self.last_error = "download failed (simulated)"
            return None
        handle, path = tempfile.mkstemp(prefix="firmware-", suffix=".bin")
        try:
            with os.fdopen(handle, "wb") as file:
                handle = None
                size, actual, _md5, headers = await fetch(url, file)
            expected = expected_digest(url, headers, self.station.profile.firmware_sha256)
            if expected is not None and expected != actual:
                raise OSError(f"SHA-256 mismatch: expected {expected}, got {actual}")
            version = next_version(
                self.station.firmware_version, url, headers, self.station.profile.firmware_next_version
            )
        except (OSError, httpx.HTTPError) as error:
            self.last_error = str(error) or type(error).__name__
            logger.info("%s: firmware download from %s failed: %s", self.station.identity, url, self.last_error)
            if handle is not None:
                os.close(handle)
            with contextlib.suppress(OSError):
                os.unlink(path)
            return None
        self.downloaded.append((url, size, actual, version))
        return path, version

    async def _reboot(self):
        """Restart into the new image: end sessions, drop the connection, boot with reason
        FirmwareUpdate (station.run does the rest)."""
        station = self.station
        await station._end_sessions("Reboot")
        station.online.clear()  # nothing more is said until the reboot's BootNotification
        station._reboot = "FirmwareUpdate"
        if station.ws is not None:
            await station.ws.close()
        await asyncio.sleep(0.05)


class FirmwareCalls:
    """UpdateFirmware in both versions, 1.6 SignedUpdateFirmware, and what TriggerMessage asks."""

    def firmware_status_payload(self):
        firmware = self.station.firmware
        if not firmware.busy:
            return {"status": "Idle"}
        payload = {"status": firmware.status}
        if firmware.request_id is not None and not (firmware.version_16 and not firmware.signed):
            payload["requestId"] = firmware.request_id
        return payload


class Firmware201(FirmwareCalls):
    def on_UpdateFirmware(self, payload):
        cancelled = self.station.firmware.start(
            payload["requestId"], payload["firmware"], payload.get("retries"), payload.get("retryInterval"),
            signed=False,
        )
        # L01.FR.24: a running update is cancelled for the new one.
        return {"status": "AcceptedCanceled" if cancelled else "Accepted"}, None


class Firmware16(FirmwareCalls):
    def on_UpdateFirmware(self, payload):
        firmware = {"location": payload["location"], "retrieveDateTime": payload["retrieveDate"]}
        self.station.firmware.start(
            None, firmware, payload.get("retries"), payload.get("retryInterval"), signed=False, version_16=True
        )
        return {}, None

    def on_SignedUpdateFirmware(self, payload):
        cancelled = self.station.firmware.start(
            payload["requestId"], payload["firmware"], payload.get("retries"), payload.get("retryInterval"),
            signed=True, version_16=True,
        )
        return {"status": "AcceptedCanceled" if cancelled else "Accepted"}, None
