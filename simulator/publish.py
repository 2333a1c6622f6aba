"""A simulated 2.0.1 station acting as a local controller (L03/L04): PublishFirmware downloads an
image, checks its MD5 and publishes it at local URLs; UnpublishFirmware withdraws it."""

import asyncio
import logging

import httpx

from .calls import CallFailed, NotConnected
from .firmware import fetch

logger = logging.getLogger(__name__)


class FirmwarePublications:
    def __init__(self, station):
        self.station = station
        self.published = {}  # MD5 checksum -> the local URLs it is published at
        self.history = []  # (requestId, status) as reported, for tests
        self._downloads = {}  # checksum -> task of a publication still downloading

    def locations(self, checksum):
        # Where stations behind this controller fetch it (the controller's own web server).
        return [f"http://{self.station.identity.lower()}.local/firmware/{checksum}.bin"]

    def start(self, request_id, location, checksum, retries, retry_interval):
        task = self.station.spawn(
            self._publish(request_id, location, checksum.lower(), max(0, retries or 0), max(0, retry_interval or 0))
        )
        self._downloads[checksum.lower()] = task
        task.add_done_callback(lambda _: self._downloads.pop(checksum.lower(), None))

    def unpublish(self, checksum):
        checksum = checksum.lower()
        if checksum in self._downloads:
            return "DownloadOngoing"
        return "Unpublished" if self.published.pop(checksum, None) is not None else "NoFirmware"

    async def notify(self, request_id, status, locations=None):
        self.history.append((request_id, status))
        payload = {"status": status, "requestId": request_id}
        if locations:
            payload["location"] = locations
        for _ in range(20):
            await self.station.online.wait()
            try:
                await self.station.call("PublishFirmwareStatusNotification", payload)
                return
            except NotConnected:
                await asyncio.sleep(0.2)
            except CallFailed as error:
                logger.info("%s: PublishFirmwareStatusNotification refused: %s", self.station.identity, error)
                return

    async def _publish(self, request_id, location, checksum, retries, retry_interval):
        md5 = None
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(retry_interval)
            await self.notify(request_id, "Downloading")
            try:
                _size, _sha256, md5, _headers = await fetch(location)
                break
            except (OSError, httpx.HTTPError) as error:
                logger.info("%s: publication download from %s failed: %s", self.station.identity, location, error)
        if md5 is None:
            await self.notify(request_id, "DownloadFailed")
            return
        await self.notify(request_id, "Downloaded")
        if md5 != checksum:
            await self.notify(request_id, "InvalidChecksum")
            return
        await self.notify(request_id, "ChecksumVerified")
        self.published[checksum] = self.locations(checksum)
        await self.notify(request_id, "Published", self.published[checksum])


class PublishCalls:
    def on_PublishFirmware(self, payload):
        self.station.publications.start(
            payload["requestId"], payload["location"], payload["checksum"], payload.get("retries"),
            payload.get("retryInterval"),
        )
        return {"status": "Accepted"}, None

    def on_UnpublishFirmware(self, payload):
        return {"status": self.station.publications.unpublish(payload["checksum"])}, None
