"""Live dashboard updates: each logged-in browser joins one group and receives station changes."""
from urllib.parse import urlsplit

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .actions import DASHBOARD_GROUP


def same_origin(scope):
    """Browsers send Origin on WebSocket upgrades: refuse pages of other sites riding the cookie."""
    headers = dict(scope.get("headers") or [])
    origin = headers.get(b"origin", b"").decode("latin-1")
    host = headers.get(b"host", b"").decode("latin-1")
    return not origin or urlsplit(origin).netloc == host


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not same_origin(self.scope):
            await self.close()
            return
        await self.channel_layer.group_add(DASHBOARD_GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(DASHBOARD_GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        pass  # the dashboard only listens

    async def station_update(self, event):
        await self.send_json({"kind": "station", "station": event["station"]})

    async def site_update(self, event):
        # Sent after every reallocation of a site; the site page re-reads itself.
        await self.send_json({"kind": "site", "site": event["site"]})

    async def dashboard_event(self, event):
        # stations.live.publish: one generic event kind per thing a page may show.
        await self.send_json({"kind": event["kind"], "station": event.get("station"),
                              **event["data"]})
