"""Where domain apps register their handler for each action a station sends, per OCPP version.

A handler takes (session, payload) and returns the answer payload. A plain function runs in a
worker thread (it may use the ORM); an `async def` handler runs on the event loop.
"""
import inspect

from . import schemas


class ActionRouter:
    def __init__(self):
        self._handlers = {}

    def register(self, ocpp_version, action, replace=False):
        if action not in schemas.actions(ocpp_version):
            raise ValueError(f"OCPP {ocpp_version} has no action {action!r}")

        def decorator(func):
            key = (ocpp_version, action)
            if key in self._handlers and not replace:
                raise ValueError(f"A handler for {action} ({ocpp_version}) is already registered")
            self._handlers[key] = (func, inspect.iscoroutinefunction(func))
            return func

        return decorator

    def lookup(self, ocpp_version, action):
        """(handler, is_async) or None."""
        return self._handlers.get((ocpp_version, action))

    def registered_actions(self, ocpp_version):
        return sorted(action for version, action in self._handlers if version == ocpp_version)


router = ActionRouter()
