"""A vendor handler module for the tests (loaded through OCPP_HANDLER_MODULES): a handler that
fails, to prove a failing handler is answered InternalError and the connection stays up."""
from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router

# 1.6 SignCertificate has a real handler: only a truncated CSR (no END line) reaches the failure.
_sign_certificate_16 = router.lookup(OCPP16, "SignCertificate")


# GetCertificateStatus has a real handler: only the responder ocsp.example reaches the failure.
_get_certificate_status = router.lookup(OCPP201, "GetCertificateStatus")


@router.register(OCPP201, "GetCertificateStatus", replace=True)
async def failing_handler(session, payload):
    responder = payload["ocspRequestData"]["responderURL"]
    if _get_certificate_status is None or responder == "http://ocsp.example":
        raise RuntimeError("this handler fails on purpose")
    return await _get_certificate_status[0](session, payload)


@router.register(OCPP16, "SignCertificate", replace=True)
def failing_sign_certificate_16(session, payload):
    if _sign_certificate_16 is None or "END CERTIFICATE REQUEST" not in payload["csr"]:
        raise RuntimeError("this handler fails on purpose")
    return _sign_certificate_16[0](session, payload)
