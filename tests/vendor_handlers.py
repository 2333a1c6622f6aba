"""A vendor handler module for the tests (loaded through OCPP_HANDLER_MODULES): a handler that
fails, to prove a failing handler is answered InternalError and the connection stays up."""
from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router


@router.register(OCPP201, "GetCertificateStatus", replace=True)
@router.register(OCPP16, "SignCertificate", replace=True)
def failing_handler(session, payload):
    raise RuntimeError("this handler fails on purpose")
