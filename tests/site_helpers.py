"""Site tests: scripted stations that answer SetChargingProfile (accept, reject or stay silent)
and a ledger of what every station holds after each profile it accepts, for the whole site."""
import threading
import time

from tests.helpers import eventually
from tests.transactions_helpers import event, new_token, start_16, stop_16

VOLTS, PHASES = 230.0, 3
ANSWERS = {"GetChargingProfiles": {"status": "NoProfiles"},
           "ClearChargingProfile": {"status": "Accepted"}}


def watts(limit, unit):
    return limit if unit == "W" else limit * VOLTS * PHASES


def profile_of(payload):
    """(evse_id, purpose, limit, unit, charging_profile_id) of a SetChargingProfile request."""
    if "csChargingProfiles" in payload:  # 1.6
        body, evse_id = payload["csChargingProfiles"], payload["connectorId"]
        schedule, profile_id = body["chargingSchedule"], body["chargingProfileId"]
    else:
        body, evse_id = payload["chargingProfile"], payload["evseId"]
        schedule, profile_id = body["chargingSchedule"][0], body["id"]
    purpose = body["chargingProfilePurpose"]
    purpose = "TxDefaultProfile" if purpose == "TxDefaultProfile" else purpose
    return (evse_id, purpose, schedule["chargingSchedulePeriod"][0]["limit"],
            schedule["chargingRateUnit"], profile_id)


class SiteLedger:
    """Every SetChargingProfile the site's stations receive, in arrival order, and the sum of
    what they hold (per EVSE: its TxProfile while a session runs, else its TxDefaultProfile,
    else its maximum) after each one they accept."""

    def __init__(self):
        self.lock = threading.Lock()
        self.frames = []        # (time, identity, evse_id, purpose, W, unit, limit, answer)
        self.stations = {}      # identity -> {evses: [...], max: W}
        self.default = {}       # (identity, evse) -> W of its TxDefaultProfile (0: every EVSE)
        self.tx = {}            # (identity, evse) -> W of its TxProfile
        self.running = set()    # (identity, evse)
        self.sums = []          # (time, sum) after each accepted profile
        self.checking = False

    def attach(self, client, evses=(1,), maximum=22080.0, answer="Accepted"):
        """Answer the station's SetChargingProfile with `answer` (None: never answer)."""
        self.stations[client.identity] = {"evses": list(evses), "max": maximum}
        client.answers.update(ANSWERS)

        def on_set(payload):
            evse_id, purpose, limit, unit, _ = profile_of(payload)
            with self.lock:
                if answer == "Accepted":
                    if purpose == "TxDefaultProfile":
                        self.default[(client.identity, evse_id)] = watts(limit, unit)
                    else:
                        self.tx[(client.identity, evse_id)] = watts(limit, unit)
                self.frames.append((time.monotonic(), client.identity, evse_id, purpose,
                                    watts(limit, unit), unit, limit, answer))
                if answer == "Accepted":
                    self.sums.append((time.monotonic(), self.total()))
            return {"status": answer}

        if answer is None:
            client.answers.pop("SetChargingProfile", None)
        else:
            client.answers["SetChargingProfile"] = on_set
        return client

    def held(self, identity, evse):
        station = self.stations[identity]
        if (identity, evse) in self.running and (identity, evse) in self.tx:
            return self.tx[(identity, evse)]
        # An EVSE's own TxDefaultProfile replaces the station-wide one for that EVSE.
        default = self.default.get((identity, evse), self.default.get((identity, 0)))
        return station["max"] if default is None else min(default, station["max"])

    def total(self):
        return sum(self.held(identity, evse) for identity, station in self.stations.items()
                   for evse in station["evses"])

    def start(self, identity, evse=1):
        with self.lock:
            self.running.add((identity, evse))
            self.tx.pop((identity, evse), None)
            self.sums.append((time.monotonic(), self.total()))

    def stop(self, identity, evse=1):
        with self.lock:
            self.running.discard((identity, evse))
            self.tx.pop((identity, evse), None)
            self.sums.append((time.monotonic(), self.total()))

    def mark(self):
        """From here on, sums are checked (before it, the stations held no fallback yet)."""
        with self.lock:
            start = len(self.frames)
            self.sums.clear()
            return start

    def since(self, mark, purpose=None):
        with self.lock:
            return [frame for frame in self.frames[mark:] if purpose in (None, frame[3])]

    def highest_sum(self):
        with self.lock:
            return max((value for _, value in self.sums), default=0.0)


def create_site(api, limit, unit="W", **fields):
    response = api.post("/sites/", json={"name": f"site-{time.monotonic_ns()}", "limit_unit": unit,
                                         "limit_periods": [{"startPeriod": 0, "limit": limit}],
                                         **fields})
    assert response.status_code == 201, response.text
    return response.json()


def add_member(api, site, identity, **fields):
    response = api.post(f"/sites/{site['id']}/members/", json={"station": identity, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def live(api, site):
    response = api.get(f"/sites/{site['id']}/allocation/")
    assert response.status_code == 200, response.text
    return response.json()


def allocation_of(api, site, identity, evse_id=1):
    return next(row for row in live(api, site)["allocations"]
                if row["station"] == identity and row["evse_id"] == evse_id)


def wait_rounds(api, site, at_least, timeout=30):
    return eventually(lambda: live(api, site)["rounds"] >= at_least and live(api, site),
                      timeout=timeout)


def quiet(api, site):
    """Wait until no round runs or is due within 10 s (a site left over its limit by refusing
    stations asks them again 30 s later)."""
    from datetime import timedelta

    from django.utils import timezone

    from smartcharging.models import Site

    def settled():
        row = Site.objects.get(pk=site["id"])
        return row.round_lease_until is None and (
            row.reallocation_due_at is None
            or row.reallocation_due_at > timezone.now() + timedelta(seconds=10))
    eventually(settled)


def start_session(ledger, client, evse=1, token=None, seconds=0):
    """Start a session on the station's EVSE (2.0.1 TransactionEvent Started, 1.6
    StartTransaction); its transaction id."""
    token = token or new_token()
    ledger.start(client.identity, evse)
    if client.version == "1.6":
        answer = client.call("StartTransaction", start_16(evse, token, 1000, seconds))
        return answer["transactionId"]
    transaction_id = f"T-{client.identity}-{evse}"
    client.call("TransactionEvent", event("Started", 0, seconds, transaction_id, trigger="Authorized",
                                          token=token, charging_state="Charging", meter_wh=0,
                                          evse=evse))
    return transaction_id


def stop_session(ledger, client, transaction_id, evse=1, seconds=600):
    if client.version == "1.6":
        client.call("StopTransaction", stop_16(transaction_id, 2000, seconds))
    else:
        client.call("TransactionEvent", event("Ended", 1, seconds, transaction_id,
                                              trigger="EVDeparted", meter_wh=1000,
                                              stoppedReason="EVDisconnected"))
    ledger.stop(client.identity, evse)
