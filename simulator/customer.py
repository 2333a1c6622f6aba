"""What a simulated station knows of its customers: the local authorization list and cache (both
versions), and 2.0.1 CustomerInformation reporting and clearing them in NotifyCustomerInformation parts."""

import math

from .calls import now_iso

DATA_MAX = 512  # NotifyCustomerInformation.data maxLength


def token_of(entry):
    """The token string of a local-list entry, whatever the version (1.6 idTag, 2.0.1 idToken)."""
    if "idTag" in entry:
        return entry["idTag"]
    return entry["idToken"]["idToken"]


class LocalAuthorization:
    """The local authorization list (SendLocalList) and the cache of tokens the CSMS authorized."""

    def __init__(self):
        self.version = 0
        self.entries = {}  # token -> idTagInfo / idTokenInfo (None: no info, i.e. removed in a diff)
        self.cache = {}  # token -> the Authorize / transaction answer's info

    def apply(self, version, update_type, entries):
        if update_type == "Full":
            self.entries = {}
        for entry in entries or ():
            info = entry.get("idTagInfo", entry.get("idTokenInfo"))
            if info is None:
                # A differential entry without info removes the token (D01/1.6 SendLocalList).
                self.entries.pop(token_of(entry), None)
            else:
                self.entries[token_of(entry)] = info
        self.version = version

    def remember(self, token, info):
        if info is not None:
            self.cache[token] = info

    def forget(self, token):
        """Erase the token's local data; True when there was any."""
        had = token in self.entries or token in self.cache
        self.entries.pop(token, None)
        self.cache.pop(token, None)
        return had


def split_parts(text, parts):
    """`text` in at least `parts` pieces of at most DATA_MAX characters (pieces may be empty)."""
    parts = max(parts, math.ceil(len(text) / DATA_MAX), 1)
    size = max(1, math.ceil(len(text) / parts))
    return [text[i * size : (i + 1) * size] for i in range(parts)]


class CustomerCalls:
    """CustomerInformation (2.0.1, N09/N10)."""

    def on_CustomerInformation(self, payload):
        keys = [key for key in ("idToken", "customerIdentifier", "customerCertificate") if payload.get(key)]
        if len(keys) != 1:
            return {"status": "Invalid", "statusInfo": {"reasonCode": "InvalidValue",
                                                        "additionalInfo": "exactly one customer reference"}}, None
        if not payload["report"] and not payload["clear"]:
            return {"status": "Rejected", "statusInfo": {"reasonCode": "InvalidValue",
                                                         "additionalInfo": "neither report nor clear"}}, None
        return {"status": "Accepted"}, self.notify_customer_information(payload, keys[0])

    def customer_lines(self, key, reference):
        station = self.station
        if key == "customerCertificate":
            return [f"certificate {reference.get('serialNumber', '?')}: no data held"]
        token = reference["idToken"] if key == "idToken" else reference
        auth = station.local_auth
        lines = [f"customer {token} at {station.identity}"]
        if token in auth.entries:
            lines.append(f"local list (version {auth.version}): {auth.entries[token]}")
        if token in auth.cache:
            lines.append(f"authorization cache: {auth.cache[token]}")
        for record in station.stats.sessions:
            if record["identity"] == station.identity and record["id_token"] == token:
                lines.append(
                    f"transaction {record['transaction_id']} on EVSE {record['evse_id']}: "
                    f"{record['energy_wh']} Wh, stopped {record['stop_reason']}"
                )
        for session in station.sessions():
            if session.id_token == token:
                lines.append(f"transaction {session.transaction_id} running on EVSE {session.evse.evse_id}")
        if len(lines) == 1:
            lines.append("no data held")
        return lines

    async def notify_customer_information(self, payload, key):
        station = self.station
        reference = payload[key]
        lines = self.customer_lines(key, reference) if payload["report"] else []
        if payload["clear"] and key != "customerCertificate":
            token = reference["idToken"] if key == "idToken" else reference
            cleared = station.local_auth.forget(token)
            lines.append(f"cleared: {'local list and cache entries' if cleared else 'nothing held'}")
        parts = split_parts("\n".join(lines), station.profile.customer_information_parts)
        generated_at = now_iso()
        for seq_no, data in enumerate(parts):
            await station.call(
                "NotifyCustomerInformation",
                {
                    "data": data,
                    "tbc": seq_no < len(parts) - 1,
                    "seqNo": seq_no,
                    "generatedAt": generated_at,
                    "requestId": payload["requestId"],
                },
            )
