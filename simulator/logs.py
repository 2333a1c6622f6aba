"""Log uploads of a simulated station (2.0.1 GetLog, 1.6 GetDiagnostics and the security extension's
GetLog): a real log file of its recent messages, uploaded with HTTP PUT or POST multipart."""

import asyncio
import gzip
import json
import logging
from datetime import UTC, datetime

import httpx

from .calls import notify_when_online, now_iso

logger = logging.getLogger(__name__)

UPLOAD_TIMEOUT = 60.0


def parse_time(timestamp):
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class LogUploads:
    """The one upload a station runs at a time, and the file it builds."""

    def __init__(self, station):
        self.station = station
        self.status = "Idle"
        self.request_id = None
        self.diagnostics = False  # 1.6 GetDiagnostics (DiagnosticsStatusNotification)
        self.history = []  # (requestId, status) as reported, for tests
        self.uploaded = []  # (url, file name, bytes) of each upload the server took
        self.last_error = ""
        self._task = None

    @property
    def busy(self):
        return self._task is not None and not self._task.done()

    def file_name(self, log_type, request_id=None):
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kind = {"DiagnosticsLog": "diagnostics", "SecurityLog": "security"}.get(log_type, log_type.lower())
        number = f"-{request_id}" if request_id is not None else ""
        suffix = ".log.gz" if self.station.profile.log_binary else ".log"
        return f"{self.station.identity}-{kind}{number}-{stamp}{suffix}"

    def content(self, log_type, oldest=None, latest=None):
        """The log: a header, the messages said and heard between `oldest` and `latest`, then
        diagnostics lines up to the profile's size; gzip-compressed when the profile says binary."""
        station = self.station
        lines = [
            f"# {station.identity} {log_type} firmware {station.firmware_version} OCPP {station.ocpp_version}",
            f"# generated {now_iso()}",
        ]
        low, high = parse_time(oldest), parse_time(latest)
        for moment, direction, action, payload in list(station.journal):
            when = parse_time(moment)
            if (low and when < low) or (high and when > high):
                continue
            lines.append(f"{moment} {direction} {action} {json.dumps(payload, separators=(',', ':'))}")
        size = sum(len(line) + 1 for line in lines)
        number = 0
        while size < station.profile.log_size_bytes:
            evse = station.evses[number % len(station.evses)]
            line = (
                f"{now_iso()} diagnostics sample={number} evse={evse.evse_id} "
                f"energy_wh={evse.meter.reading_wh()} power_w={evse.meter.power_w:.1f} "
                f"temperature_c={24 + number % 7} relay=ok"
            )
            lines.append(line)
            size += len(line) + 1
            number += 1
        text = ("\n".join(lines) + "\n").encode()
        return gzip.compress(text, mtime=0) if station.profile.log_binary else text

    def start(self, request_id, log_type, url, retries, retry_interval, oldest=None, latest=None, diagnostics=False):
        """Begin an upload (cancelling the one running); (file name, True when one was cancelled)."""
        cancelled = self.busy
        if cancelled:
            self._task.cancel()
        self.request_id, self.diagnostics = request_id, diagnostics
        name = self.file_name(log_type, request_id)
        body = self.content(log_type, oldest, latest)
        self._task = self.station.spawn(
            self._upload(url, name, body, max(0, retries or 0), max(0, retry_interval or 0))
        )
        return name, cancelled

    async def notify(self, status):
        self.status = status
        self.history.append((self.request_id, status))
        station = self.station
        if self.diagnostics:
            action = "DiagnosticsStatusNotification"
            payload = {"status": "UploadFailed" if status == "UploadFailure" else status}
        else:
            action, payload = "LogStatusNotification", {"status": status}
            if self.request_id is not None:
                payload["requestId"] = self.request_id
        await notify_when_online(station, action, payload)

    async def _upload(self, url, name, body, retries, retry_interval):
        await self.notify("Uploading")
        for attempt in range(retries + 1):
            if attempt:
                await asyncio.sleep(retry_interval)
            if await self._send(url, name, body):
                self.uploaded.append((url, name, body))
                await self.notify("Uploaded")
                break
        else:
            await self.notify("UploadFailure")
        self.status = "Idle"

    async def _send(self, url, name, body):
        kind = "application/gzip" if self.station.profile.log_binary else "text/plain"
        try:
            async with httpx.AsyncClient(timeout=UPLOAD_TIMEOUT, follow_redirects=True) as client:
                if self.station.profile.log_upload_method.upper() == "POST":
                    response = await client.post(url, files={"file": (name, body, kind)})
                else:
                    response = await client.put(
                        url, content=body,
                        headers={"Content-Type": kind, "Content-Disposition": f'attachment; filename="{name}"'},
                    )
        except httpx.HTTPError as error:
            self.last_error = str(error) or type(error).__name__
            return False
        if response.status_code >= 300:
            self.last_error = f"HTTP {response.status_code}: {response.text[:200]}"
            logger.info("%s: log upload to %s refused: %s", self.station.identity, url, self.last_error)
            return False
        return True


class LogCalls:
    """GetLog (both versions) and 1.6 GetDiagnostics, and what TriggerMessage asks."""

    def on_GetLog(self, payload):
        log = payload["log"]
        name, cancelled = self.station.logs.start(
            payload["requestId"], payload["logType"], log["remoteLocation"], payload.get("retries"),
            payload.get("retryInterval"), log.get("oldestTimestamp"), log.get("latestTimestamp"),
        )
        # N01.FR.12: a running upload is cancelled for the new one.
        return {"status": "AcceptedCanceled" if cancelled else "Accepted", "filename": name}, None

    def log_status_payload(self):
        logs = self.station.logs
        if not logs.busy or logs.diagnostics:
            return {"status": "Idle"}
        payload = {"status": logs.status}
        if logs.request_id is not None:
            payload["requestId"] = logs.request_id
        return payload

    def on_GetDiagnostics(self, payload):
        name, _ = self.station.logs.start(
            None, "DiagnosticsLog", payload["location"], payload.get("retries"), payload.get("retryInterval"),
            payload.get("startTime"), payload.get("stopTime"), diagnostics=True,
        )
        return {"fileName": name}, None

    def diagnostics_status_payload(self):
        logs = self.station.logs
        if not logs.busy or not logs.diagnostics:
            return {"status": "Idle"}
        return {"status": "UploadFailed" if logs.status == "UploadFailure" else logs.status}
