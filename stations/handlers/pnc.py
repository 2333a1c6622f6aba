"""Plug & Charge calls of 2.0.1 stations answered by policy (PNC_EV_CERTIFICATE_POLICY,
PNC_CERTIFICATE_STATUS_POLICY): forwarded to the provider, OCSP asked, or Failed saying why."""
import asyncio
import base64
import logging

from django.conf import settings

from csms.ocpp.framing import OCPP201
from csms.ocpp.router import router
from csms.ocpp.schemas import RESPONSE, describe_errors

from ..security import ocsp
from ..security.provider import ProviderFailed, forward

logger = logging.getLogger(__name__)

# GetCertificateStatusResponse.ocspResult is at most 5500 characters of base64.
OCSP_RESULT_MAX_CHARS = 5500


def _failed(reason_code, reason, **fields):
    return {"status": "Failed", "statusInfo": {"reasonCode": reason_code,
                                              "additionalInfo": reason[:512]}, **fields}


def _relay(action, identity, payload, failed_fields):
    """The provider's answer if it is a valid OCPP response, else Failed saying why."""
    try:
        answer = forward(action, identity, payload)
    except ProviderFailed as failure:
        logger.warning("%s of %s not forwarded: %s", action, identity, failure.reason)
        return _failed(failure.reason_code, failure.reason, **failed_fields)
    errors = describe_errors(OCPP201, action, RESPONSE, answer, limit=1)
    if errors:
        logger.warning("%s of %s: the provider's answer is invalid: %s", action, identity, errors)
        return _failed("ProviderError", f"the provider's answer is not a valid {action}Response: "
                       f"{errors[0]}", **failed_fields)
    return answer


def _policy_failure(setting):
    return ("NotSupported", f"this CSMS does not provide this service ({setting}=fail)")


def ev_certificate(identity, payload):
    """Get15118EVCertificate (M01/M02): the EV's CertificateInstallationReq for the provider."""
    # exiResponse is required even when Failed: an empty one carries nothing.
    if settings.PNC_EV_CERTIFICATE_POLICY == "forward":
        return _relay("Get15118EVCertificate", identity, payload, {"exiResponse": ""})
    return _failed(*_policy_failure("PNC_EV_CERTIFICATE_POLICY"), exiResponse="")


def certificate_status(identity, payload):
    """GetCertificateStatus (M06): the OCSP answer for a certificate the station holds."""
    policy = settings.PNC_CERTIFICATE_STATUS_POLICY
    if policy == "forward":
        return _relay("GetCertificateStatus", identity, payload, {})
    if policy != "ocsp":
        return _failed(*_policy_failure("PNC_CERTIFICATE_STATUS_POLICY"))
    request_data = payload["ocspRequestData"]
    try:
        answer = ocsp.check_hash_data(request_data, settings.PNC_OCSP_TIMEOUT)
    except ValueError as error:
        return _failed("InvalidRequest", str(error))
    except ocsp.OcspUnavailable as error:
        logger.warning("GetCertificateStatus of %s: %s", identity, error)
        return _failed("OCSPUnavailable", str(error))
    result = base64.b64encode(answer.der).decode()
    if len(result) > OCSP_RESULT_MAX_CHARS:
        return _failed("OCSPTooLarge", f"the OCSP response is {len(result)} characters of base64; "
                       f"OCPP allows {OCSP_RESULT_MAX_CHARS}")
    return {"status": "Accepted", "ocspResult": result}


# Both may wait on a remote server: they run on the default executor, not the sessions'
# database pool, and need no database.
@router.register(OCPP201, "Get15118EVCertificate")
async def get_15118_ev_certificate(session, payload):
    return await asyncio.to_thread(ev_certificate, session.identity, payload)


@router.register(OCPP201, "GetCertificateStatus")
async def get_certificate_status(session, payload):
    return await asyncio.to_thread(certificate_status, session.identity, payload)
