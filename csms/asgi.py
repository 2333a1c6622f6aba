"""ASGI entry point: HTTP goes to Django, /ocpp/<identity> to the OCPP consumer, /ws/ to the dashboard."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from csms.ocpp.consumer import OcppConsumer, unknown_websocket_path  # noqa: E402
from stations.consumers import DashboardConsumer  # noqa: E402

websocket_routes = URLRouter([
    re_path(r"^ocpp/(?P<identity>[^/]+)/?$", OcppConsumer.as_asgi()),
    path("ws/dashboard/", AuthMiddlewareStack(DashboardConsumer.as_asgi())),
    re_path(r"", unknown_websocket_path),
])

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_routes})
