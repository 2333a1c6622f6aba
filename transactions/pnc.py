"""Plug & Charge contract checks (C07/C08): an Authorize's contract certificate or its hash data
judged against the trusted MO roots and, when PNC_OCSP_ENABLED, the OCSP responders."""
import hashlib
import logging
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.utils import timezone

from stations.security import ocsp
from stations.security.x509 import HASH_ALGORITHMS, public_key_bits, serial_hex

from .models_pnc import TrustedRoot

logger = logging.getLogger(__name__)

ACCEPTED = "Accepted"
SIGNATURE_ERROR = "SignatureError"
CERTIFICATE_EXPIRED = "CertificateExpired"
CERTIFICATE_REVOKED = "CertificateRevoked"
NO_CERTIFICATE_AVAILABLE = "NoCertificateAvailable"
CERT_CHAIN_ERROR = "CertChainError"
CONTRACT_CANCELLED = "ContractCancelled"
# The token statuses of a contract the operator ended (answered ContractCancelled).
CANCELLED_TOKEN_STATUSES = ("Blocked", "Invalid")
# A contract chain longer than this (leaf, sub-CAs, root) is not followed.
MAX_CHAIN_LENGTH = 5


@dataclass(frozen=True)
class Verdict:
    """An AuthorizeCertificateStatusEnumType value and why (for the log)."""

    status: str
    reason: str = ""


def describe_root(pem):
    """TrustedRoot field values for a PEM root certificate (ValueError saying what is wrong)."""
    try:
        certificate = x509.load_pem_x509_certificate((pem or "").strip().encode())
    except ValueError:
        raise ValueError("Not a PEM X.509 certificate.") from None
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise ValueError("Not a CA certificate (basicConstraints CA:TRUE is required).")
    der = certificate.public_bytes(serialization.Encoding.DER)
    return {"subject": certificate.subject.rfc4514_string()[:255],
            "serial_number": serial_hex(certificate.serial_number),
            "not_before": certificate.not_valid_before_utc,
            "not_after": certificate.not_valid_after_utc,
            "fingerprint": hashlib.sha256(der).hexdigest(),
            "pem": certificate.public_bytes(serialization.Encoding.PEM).decode()}


def trusted_roots():
    return [x509.load_pem_x509_certificate(pem.encode())
            for pem in TrustedRoot.objects.values_list("pem", flat=True)]


def _issuer_among(certificate, candidates):
    return [candidate for candidate in candidates
            if candidate.subject == certificate.issuer and candidate != certificate]


def _chain_to_root(leaf, intermediates, roots):
    """[leaf, sub-CAs..., root] with every signature checked, or a Verdict saying why not."""
    chain = [leaf]
    while len(chain) <= MAX_CHAIN_LENGTH:
        current = chain[-1]
        for root in _issuer_among(current, roots):
            try:
                current.verify_directly_issued_by(root)
            except (ValueError, TypeError, InvalidSignature):
                continue
            return chain + [root]
        issuers = _issuer_among(current, [c for c in intermediates if c not in chain])
        if not issuers:
            if _issuer_among(current, roots):
                return Verdict(SIGNATURE_ERROR, f"{current.subject.rfc4514_string()} is not signed "
                               "by the trusted root of its issuer's name")
            return Verdict(CERT_CHAIN_ERROR, f"{current.subject.rfc4514_string()}: no trusted MO "
                           "root issued this chain")
        try:
            current.verify_directly_issued_by(issuers[0])
        except (ValueError, TypeError, InvalidSignature):
            return Verdict(SIGNATURE_ERROR, f"{current.subject.rfc4514_string()} is not signed by "
                           f"{issuers[0].subject.rfc4514_string()}")
        chain.append(issuers[0])
    return Verdict(CERT_CHAIN_ERROR, f"the chain is longer than {MAX_CHAIN_LENGTH} certificates")


def _revocation(answer, subject):
    if answer is None or answer.status == ocsp.GOOD:
        return None
    if answer.status == ocsp.REVOKED:
        return Verdict(CERTIFICATE_REVOKED, f"{subject} is revoked (OCSP)")
    return Verdict(CERT_CHAIN_ERROR, f"the OCSP responder does not know {subject}")


def check_certificate(pem):
    """C07: the contract certificate (PEM: the leaf first, then any sub-CAs the EV sent)."""
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode())
    except ValueError:
        certificates = []
    if not certificates:
        return Verdict(NO_CERTIFICATE_AVAILABLE, "no readable PEM certificate in `certificate`")
    chain = _chain_to_root(certificates[0], certificates[1:], trusted_roots())
    if isinstance(chain, Verdict):
        return chain
    now = timezone.now()
    for certificate in chain:
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return Verdict(CERTIFICATE_EXPIRED,
                           f"{certificate.subject.rfc4514_string()} is valid from "
                           f"{certificate.not_valid_before_utc} to "
                           f"{certificate.not_valid_after_utc}")
    if settings.PNC_OCSP_ENABLED:
        for certificate, issuer in zip(chain[:-1], chain[1:]):
            subject = certificate.subject.rfc4514_string()
            try:
                answer = ocsp.check_certificate(certificate, issuer, settings.PNC_OCSP_TIMEOUT)
            except ocsp.OcspUnavailable as error:
                # Soft-fail: an unreachable responder does not refuse a valid chain (logged).
                logger.warning("OCSP for %s gave no answer: %s", subject, error)
                continue
            revoked = _revocation(answer, subject)
            if revoked:
                return revoked
    return Verdict(ACCEPTED)


def _root_issuing(hash_data, roots):
    """The trusted root whose name and key hashes are this hash data's issuer hashes (or None)."""
    digest = HASH_ALGORITHMS.get(hash_data["hashAlgorithm"])
    for root in roots:
        if (digest(root.subject.public_bytes()).hexdigest() == hash_data["issuerNameHash"].lower()
                and digest(public_key_bits(root.public_key())).hexdigest()
                == hash_data["issuerKeyHash"].lower()):
            return root
    return None


def check_hash_data(items):
    """C08: the chain's OCSPRequestData (leaf first); one must be issued by a trusted root."""
    roots = trusted_roots()
    issuers = [_root_issuing(item, roots) for item in items]
    if not any(issuers):
        return Verdict(CERT_CHAIN_ERROR, "no certificate of the hash data is issued by a trusted "
                       "MO root")
    if settings.PNC_OCSP_ENABLED:
        for item, issuer in zip(items, issuers):
            subject = f"serial {item['serialNumber']}"
            try:
                # The response's signature is checked where the issuer is a root the CSMS holds.
                answer = ocsp.check_hash_data(item, settings.PNC_OCSP_TIMEOUT, issuer)
            except ValueError as error:
                return Verdict(CERT_CHAIN_ERROR, f"{subject}: {error}")
            except ocsp.OcspUnavailable as error:
                logger.warning("OCSP for %s gave no answer: %s", subject, error)
                continue
            revoked = _revocation(answer, subject)
            if revoked:
                return revoked
    return Verdict(ACCEPTED)


def check_contract(payload):
    """The Verdict for an AuthorizeRequest carrying a contract certificate or its hash data, or
    None when it carries neither (the station checked the contract itself)."""
    if payload.get("certificate") is not None:
        verdict = check_certificate(payload["certificate"])
    elif payload.get("iso15118CertificateHashData"):
        verdict = check_hash_data(payload["iso15118CertificateHashData"])
    else:
        return None
    if verdict.status != ACCEPTED:
        logger.info("Contract of %s refused: %s (%s)", payload["idToken"]["idToken"],
                    verdict.status, verdict.reason)
    return verdict
