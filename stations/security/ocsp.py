"""OCSP (RFC 6960) client: requests built with `cryptography` from a certificate and its issuer
or from OCPP hash data, POSTed to the responder, and the answer read (good/revoked/unknown)."""
import logging
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID
from django.conf import settings

logger = logging.getLogger(__name__)

HASHES = {"SHA256": hashes.SHA256, "SHA384": hashes.SHA384, "SHA512": hashes.SHA512}
GOOD, REVOKED, UNKNOWN = "good", "revoked", "unknown"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A responder's redirect would lead the CSMS past PNC_OCSP_ALLOWED_HOSTS: not followed.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


class OcspUnavailable(Exception):
    """No usable answer: the responder was unreachable, refused, or sent something unreadable."""


@dataclass(frozen=True)
class OcspAnswer:
    status: str  # good, revoked or unknown
    der: bytes  # the whole OCSPResponse as received (relayed to stations as ocspResult)


def responder_url(certificate):
    """The OCSP responder named in the certificate's Authority Information Access (or "")."""
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return ""
    for description in access.value:
        if (description.access_method == AuthorityInformationAccessOID.OCSP
                and isinstance(description.access_location, x509.UniformResourceIdentifier)):
            return description.access_location.value
    return ""


def request_for_certificate(certificate, issuer, algorithm="SHA256"):
    builder = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, HASHES[algorithm]())
    return builder.build().public_bytes(serialization.Encoding.DER)


def request_for_hash_data(hash_data):
    """The DER OCSPRequest for an OCPP OCSPRequestDataType / CertificateHashDataType (ValueError
    when its hashes or serial are not hexadecimal of the right size)."""
    algorithm = HASHES[hash_data["hashAlgorithm"]]()
    try:
        name_hash = bytes.fromhex(hash_data["issuerNameHash"])
        key_hash = bytes.fromhex(hash_data["issuerKeyHash"])
        serial = int(hash_data["serialNumber"], 16)
    except ValueError:
        raise ValueError("issuerNameHash, issuerKeyHash and serialNumber must be hexadecimal"
                         ) from None
    builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(name_hash, key_hash, serial,
                                                               algorithm)
    return builder.build().public_bytes(serialization.Encoding.DER)


def fetch(url, request_der, timeout):
    """POST the request to the responder: the DER OCSPResponse answered (else OcspUnavailable)."""
    if not url.lower().startswith(("http://", "https://")):
        raise OcspUnavailable(f"responder URL {url!r} is not http(s)")
    # The URL comes from a station or a certificate: only the allowed responders are contacted.
    host = (urllib.parse.urlsplit(url).hostname or "").lower()
    allowed = [name.lower() for name in settings.PNC_OCSP_ALLOWED_HOSTS]
    if allowed and host not in allowed:
        raise OcspUnavailable(f"responder host {host!r} is not in PNC_OCSP_ALLOWED_HOSTS")
    http_request = urllib.request.Request(url, data=request_der, method="POST",
                                          headers={"Content-Type": "application/ocsp-request",
                                                   "Accept": "application/ocsp-response"})
    try:
        with _opener.open(http_request, timeout=timeout) as answer:
            return answer.read(64 * 1024)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise OcspUnavailable(f"responder {url} unreachable: {error}") from None


def _verify_signature(response, public_key):
    signature, data = response.signature, response.tbs_response_bytes
    algorithm = response.signature_hash_algorithm
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(algorithm))
    else:
        public_key.verify(signature, data)


def _check_signer(response, issuer):
    """RFC 6960 §4.2.2.2: signed by the issuer itself, or by a responder certificate it issued."""
    signer = issuer
    for delegate in response.certificates:
        try:
            delegate.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            continue
        signer = delegate
        break
    try:
        _verify_signature(response, signer.public_key())
    except (InvalidSignature, TypeError, ValueError):
        raise OcspUnavailable("the OCSP response is not signed by the certificate's issuer"
                              ) from None


def read(response_der, serial_number, issuer=None):
    """The status the response gives the certificate with `serial_number` (an int). With the issuer
    known, the response's signature is checked too; without it (hash data of an issuer the CSMS
    does not hold) the answer is taken as the responder's word."""
    try:
        response = ocsp.load_der_ocsp_response(response_der)
    except ValueError as error:
        raise OcspUnavailable(f"unreadable OCSP response: {error}") from None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise OcspUnavailable(f"the responder answered {response.response_status.name}")
    if issuer is not None:
        _check_signer(response, issuer)
    for single in response.responses:
        if single.serial_number == serial_number:
            return {ocsp.OCSPCertStatus.GOOD: GOOD, ocsp.OCSPCertStatus.REVOKED: REVOKED}.get(
                single.certificate_status, UNKNOWN)
    raise OcspUnavailable("the OCSP response does not name the certificate asked about")


def check_certificate(certificate, issuer, timeout, url=None):
    """OcspAnswer for a certificate from the responder in its AIA (or `url`); None when no
    responder is named; OcspUnavailable when it gives no usable answer."""
    url = url or responder_url(certificate)
    if not url:
        return None
    der = fetch(url, request_for_certificate(certificate, issuer), timeout)
    return OcspAnswer(read(der, certificate.serial_number, issuer), der)


def check_hash_data(hash_data, timeout, issuer=None):
    """OcspAnswer for an OCPP OCSPRequestDataType (its responderURL is asked)."""
    der = fetch(hash_data["responderURL"], request_for_hash_data(hash_data), timeout)
    return OcspAnswer(read(der, int(hash_data["serialNumber"], 16), issuer), der)
