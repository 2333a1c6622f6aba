"""LOG_FORMAT=json: one JSON object per log line (time, level, logger, message, exception, and the
station a line is about when a station's session logged it)."""
import contextvars
import json
import logging
from datetime import datetime, timezone

# Set by the consumer for its session's task; threads running the session's database work copy
# the task's context (asgiref), so handler log lines carry it too.
station_identity = contextvars.ContextVar("station_identity", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        station = getattr(record, "station", None) or station_identity.get()
        if station:
            entry["station"] = station
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
