"""Display messages of a simulated 2.0.1 station (block O): stored by id, listed in
NotifyDisplayMessages parts, cleared, and the one on the display now by OCPP's priority rules."""

import time
from datetime import UTC, datetime

from .logs import parse_time

PRIORITY_ORDER = {"AlwaysFront": 0, "InFront": 1, "NormalCycle": 2}


class DisplayMessages:
    def __init__(self, station):
        self.station = station
        self.messages = {}  # id -> MessageInfo as the CSMS set it
        self._order = {}  # id -> when it was set (the newest AlwaysFront/InFront wins)
        self._started = time.monotonic()

    def state(self):
        """The station's state as a message's `state` names it."""
        evses = self.station.evses
        if evses and not any(evse.operative for evse in evses):
            return "Unavailable"
        if any(evse.session is not None and evse.session.charging for evse in evses):
            return "Charging"
        return "Idle"

    def set(self, message):
        """The SetDisplayMessage status for `message`; stored when Accepted."""
        profile = self.station.profile
        if message["message"]["format"] not in profile.display_formats:
            return "NotSupportedMessageFormat"
        if message["priority"] not in profile.display_priorities:
            return "NotSupportedPriority"
        if message.get("state") is not None and message["state"] not in profile.display_states:
            return "NotSupportedState"
        transaction_id = message.get("transactionId")
        if transaction_id is not None and not any(
            session.transaction_id == transaction_id for session in self.station.sessions()
        ):
            return "UnknownTransaction"
        self.messages[message["id"]] = message
        self._order[message["id"]] = time.monotonic()
        return "Accepted"

    def clear(self, message_id):
        self._order.pop(message_id, None)
        return self.messages.pop(message_id, None) is not None

    def forget_expired(self):
        """O01: a message goes after its endDateTime, or when its transaction has ended."""
        now = datetime.now(UTC)
        running = {session.transaction_id for session in self.station.sessions()}
        for message_id, message in list(self.messages.items()):
            end = parse_time(message.get("endDateTime"))
            transaction_id = message.get("transactionId")
            if (end is not None and end <= now) or (transaction_id is not None and transaction_id not in running):
                self.clear(message_id)

    def listed(self, ids=None, priority=None, state=None):
        """The stored messages a GetDisplayMessages asks for (every criterion given must match)."""
        self.forget_expired()
        return [
            message
            for message_id, message in sorted(self.messages.items())
            if (not ids or message_id in ids)
            and (priority is None or message["priority"] == priority)
            and (state is None or message.get("state") == state)
        ]

    def showable(self):
        """The messages that may be on the display now: in their time window, for the station's
        state if they name one."""
        self.forget_expired()
        now, state = datetime.now(UTC), self.state()
        return [
            message
            for message in self.messages.values()
            if (parse_time(message.get("startDateTime")) or now) <= now
            and message.get("state") in (None, state)
        ]

    def shown(self):
        """The message on the display now, or None: the newest AlwaysFront, else the newest
        InFront, else the NormalCycle messages in turn (display_cycle_seconds each)."""
        showable = self.showable()
        if not showable:
            return None
        best = min(PRIORITY_ORDER[m["priority"]] for m in showable)
        candidates = [m for m in showable if PRIORITY_ORDER[m["priority"]] == best]
        if best < PRIORITY_ORDER["NormalCycle"]:
            return max(candidates, key=lambda m: self._order[m["id"]])
        candidates.sort(key=lambda m: m["id"])
        period = max(0.1, self.station.profile.display_cycle_seconds)
        turn = int((time.monotonic() - self._started) / period)
        return candidates[turn % len(candidates)]


class DisplayCalls:
    """SetDisplayMessage, GetDisplayMessages, ClearDisplayMessage (2.0.1)."""

    def on_SetDisplayMessage(self, payload):
        return {"status": self.station.display.set(payload["message"])}, None

    def on_ClearDisplayMessage(self, payload):
        return {"status": "Accepted" if self.station.display.clear(payload["id"]) else "Unknown"}, None

    def on_GetDisplayMessages(self, payload):
        messages = self.station.display.listed(payload.get("id"), payload.get("priority"), payload.get("state"))
        if not messages:
            return {"status": "Unknown"}, None
        return {"status": "Accepted"}, self.notify_display_messages(payload["requestId"], messages)

    async def notify_display_messages(self, request_id, messages):
        size = max(1, self.station.profile.report_items_per_part)
        parts = [messages[i : i + size] for i in range(0, len(messages), size)]
        for number, part in enumerate(parts):
            await self.station.call(
                "NotifyDisplayMessages",
                {"requestId": request_id, "tbc": number < len(parts) - 1, "messageInfo": part},
            )
