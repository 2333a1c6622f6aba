"""Live dashboard events: anything a page may show, pushed to the dashboard sockets as
{"kind": <kind>, ...data}, and what a page subscribes to. Best effort (bridge): never fails the caller."""
from functools import lru_cache

from csms.ocpp import bridge, runtime

from .actions import DASHBOARD_GROUP

# Sort keys of the station list (stations.views): "identity" is the only one whose order a
# station's state change cannot alter.
STATION_SORTS = {"identity", "-identity", "last_seen", "-last_seen", "status", "-status"}
MAX_SUBSCRIBED_STATIONS = 1000


def publish(kind, data, station=None):
    """Push one event. `kind` names what changed ("command", "transaction", "alert", ...);
    `station` (identity), when the event belongs to one, lets the consumer send it only to the
    pages that show that station. `data` may hold "stations" (identities) for an event of several."""
    return bridge.group_send(DASHBOARD_GROUP, {"type": "dashboard.event", "kind": kind,
                                               "station": station, "data": data})


def publish_soon(kind, key, build):
    """Gather events that repeat quickly (meter readings every few seconds per transaction) and
    push the latest of each `key` once, a moment later; at once outside a server process."""
    _latest[(kind, key)] = build
    if not runtime.coalesce(_publish_gathered, (kind, key)):
        _publish_gathered({(kind, key)})


_latest = {}


def _publish_gathered(keys):
    for key in keys:
        build = _latest.pop(key, None)
        if build is not None:
            data, station = build()
            publish(key[0], data, station=station)


@lru_cache(maxsize=20000)
def identity_of(station_pk):
    """A station's identity by primary key (identities never change), for events keyed by pk."""
    from .models import Station

    return Station.objects.filter(pk=station_pk).values_list("identity", flat=True).first()


class Subscription:
    """What one dashboard page shows, sent by the page when its socket opens:
    {"subscribe": {"page": "station-list", "stations": [...], "kinds": [...], "filters": {...},
    "sort": "identity", "range": [first, last], "open_end": bool}} or
    {"subscribe": {"page": "station", "station": "<identity>"}}; a page that never subscribes
    gets every event (the pages written before subscriptions)."""

    def __init__(self, message):
        self.page = str(message.get("page") or "")
        kinds = message.get("kinds")
        # Kinds by name ("station", "command", "transaction", "log", "alert", "site", ...).
        self.kinds = {str(k) for k in kinds} if isinstance(kinds, list) else None
        stations = message.get("stations")
        if message.get("station") is not None:
            stations = [message["station"]]
        self.stations = ({str(s) for s in stations[:MAX_SUBSCRIBED_STATIONS]}
                         if isinstance(stations, list) else None)
        transactions = message.get("transactions")
        self.transactions = ({str(t) for t in transactions[:MAX_SUBSCRIBED_STATIONS]}
                             if isinstance(transactions, list) else None)
        self.new_transactions = bool(message.get("new_transactions", True))
        filters = message.get("filters")
        self.filters = {str(k): str(v) for k, v in filters.items() if v not in (None, "")} \
            if isinstance(filters, dict) else {}
        self.sort = message.get("sort") if message.get("sort") in STATION_SORTS else "identity"
        edge = message.get("range")
        self.range = ([str(edge[0]), str(edge[1])]
                      if isinstance(edge, list) and len(edge) == 2 and all(edge) else None)
        self.open_end = bool(message.get("open_end"))

    def wants(self, kind):
        return self.kinds is None or kind in self.kinds

    def shows_station(self, identity):
        return self.stations is None or identity in self.stations

    def shows_any(self, identities):
        return self.stations is None or bool(self.stations.intersection(identities))

    def shows_transaction(self, data):
        if self.transactions is None:
            return True
        if str(data.get("transaction")) in self.transactions:
            return True
        return self.new_transactions and data.get("change") == "started"

    def may_enter(self, summary):
        """Whether a station not on this list page could now belong on it (the page then re-reads
        its rows; it never inserts one itself): it matches the filters and, sorted by identity,
        its identity falls within the page's."""
        if not station_matches(summary, self.filters):
            return False
        if self.sort not in ("identity", "-identity") or self.range is None:
            return True
        low, high = sorted(self.range)
        identity = summary["identity"]
        if low <= identity <= high:
            return True
        # The last page also takes what sorts after its last row.
        return self.open_end and (identity > high if self.sort == "identity" else identity < low)


def station_matches(summary, filters):
    """The station list's filters (stations.forms.StationFilter) on a pushed station summary;
    the search looks at the identity only (the summary has no description)."""
    q = filters.get("q")
    if q and q.lower() not in summary["identity"].lower():
        return False
    state = filters.get("state")
    if state and (state == "online") != bool(summary.get("online")):
        return False
    if filters.get("ocpp_version") and filters["ocpp_version"] != summary.get("ocpp_version"):
        return False
    registration = filters.get("registration_status")
    if registration and registration != summary.get("registration_status"):
        return False
    status = filters.get("connector_status")
    if status and not any(c.get("status") == status for c in summary.get("connectors", ())):
        return False
    return True
