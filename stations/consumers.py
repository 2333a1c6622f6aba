"""Live dashboard updates: each logged-in browser joins one group; what it receives is filtered
here to what its page shows (the subscription the page sends when its socket opens)."""
import asyncio
from urllib.parse import urlsplit

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .actions import DASHBOARD_GROUP
from .live import Subscription

# A station list hears of changes outside its rows (its counts, rows that may now belong on it)
# at most this often, however busy the network.
LIST_NOTICE_SECONDS = 1.0


def same_origin(scope):
    """Browsers send Origin on WebSocket upgrades: refuse pages of other sites riding the cookie."""
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    return not origin or urlsplit(origin).netloc == host


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    subscription = None  # None: every event (pages that never subscribe)
    list_notice = None  # the pending station-list notice: {"rows": bool}
    list_notice_timer = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not same_origin(self.scope):
            await self.close()
            return
        await self.channel_layer.group_add(DASHBOARD_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.list_notice_timer is not None:
            self.list_notice_timer.cancel()
        await self.channel_layer.group_discard(DASHBOARD_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # The only message a page sends: what it shows. A later one replaces the former.
        if isinstance(content, dict) and isinstance(content.get("subscribe"), dict):
            self.subscription = Subscription(content["subscribe"])
            await self.send_json({"kind": "subscribed", "page": self.subscription.page})

    async def station_update(self, event):
        station = event["station"]
        subscription = self.subscription
        if subscription is None:
            await self.send_json({"kind": "station", "station": station})
            return
        if not subscription.wants("station"):
            return
        if subscription.shows_station(station["identity"]):
            await self.send_json({"kind": "station", "station": station})
        elif subscription.page == "station-list":
            self.notice_list(rows=subscription.may_enter(station))

    def notice_list(self, rows):
        """Tell a station list that something outside its rows changed, throttled: it re-reads its
        counts, and its rows when a station may now belong on the page."""
        if self.list_notice is not None:
            self.list_notice["rows"] |= rows
            return
        self.list_notice = {"rows": rows}
        self.list_notice_timer = asyncio.get_running_loop().call_later(
            LIST_NOTICE_SECONDS, lambda: asyncio.ensure_future(self.send_list_notice()))

    async def send_list_notice(self):
        notice, self.list_notice, self.list_notice_timer = self.list_notice, None, None
        if notice is not None:
            await self.send_json({"kind": "station-list", **notice})

    async def site_update(self, event):
        # Sent after every reallocation of a site; the site page re-reads itself.
        if self.subscription is None or self.subscription.wants("site"):
            await self.send_json({"kind": "site", "site": event["site"]})

    async def dashboard_event(self, event):
        # stations.live.publish: one generic event kind per thing a page may show.
        kind, station, data = event["kind"], event.get("station"), event["data"]
        subscription = self.subscription
        if subscription is not None:
            if not subscription.wants(kind):
                return
            if station is not None and not subscription.shows_station(station):
                return
            if isinstance(data.get("stations"), list) and not subscription.shows_any(data["stations"]):
                return
            if kind == "transaction" and not subscription.shows_transaction(data):
                return
        await self.send_json({"kind": kind, "station": station, **data})
