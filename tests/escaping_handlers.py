"""A handler module for one fault test (loaded through OCPP_HANDLER_MODULES on its own server):
a handler whose failure is not an Exception, so it gets past every `except Exception` guard."""
from csms.ocpp.framing import OCPP201
from csms.ocpp.router import router


class Escape(BaseException):
    pass


@router.register(OCPP201, "NotifyDisplayMessages", replace=True)
async def escaping_handler(session, payload):
    raise Escape("escapes the consumer's guards on purpose")
