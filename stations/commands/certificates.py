"""CSMS -> station certificate operations: CertificateSigned with the chain the CA signed,
InstallCertificate, DeleteCertificate, GetInstalledCertificateIds and the renewal trigger
(2.0.1 and the 1.6 security extension)."""
import logging

from django.conf import settings
from django.db import transaction

from csms.ocpp import outbound
from csms.ocpp.framing import OCPP16

from ..actions import certificates as actions
from ..models import CertificateSigningRequest, StationCertificate
from ..models.certificates import CertificateType, ROOT_TYPES
from ..security import ca
from ..security import x509 as certs
from . import StationNotReady, _version

__all__ = ["StationNotReady", "send_signed_certificate", "install_certificate",
           "delete_certificate", "get_installed_certificate_ids", "request_new_certificate",
           "renew_due_certificates"]
logger = logging.getLogger(__name__)
# TriggerMessage asking for a new CSR, per certificate type (1.6: ExtendedTriggerMessage).
TRIGGERS = {CertificateType.CHARGING_STATION: "SignChargingStationCertificate",
            CertificateType.V2G: "SignV2GCertificate"}
TRIGGER_16 = "SignChargePointCertificate"


def send_signed_certificate(signing_request_pk, source="csms:sign-certificate"):
    """Sign an accepted CSR and send CertificateSigned with the leaf and the issuing CAs (not
    the root). Returns the certificate row (None when the CA could not sign)."""
    signing_request = CertificateSigningRequest.objects.select_related("station").get(
        pk=signing_request_pk)
    if signing_request.status != CertificateSigningRequest.Status.ACCEPTED:
        return None
    station = signing_request.station
    try:
        authority = ca.authority()
        csr = certs.check_csr(signing_request.csr, station.identity,
                              settings.CERTIFICATE_ORGANIZATION)
        leaf = authority.sign(csr, signing_request.certificate_type,
                              settings.CERTIFICATE_VALIDITY_DAYS)
    except (ca.CaUnavailable, certs.CsrRefused) as error:
        logger.error("Signing the CSR of %s failed: %s", station.identity, error)
        actions.signing_failed(signing_request, str(error))
        return None
    chain = certs.pem_of(leaf) + "".join(
        certs.pem_of(issuer) for issuer in authority.chain_without_duplicates()
        if issuer.issuer != issuer.subject)
    version = _version(station)
    payload = {"certificateChain": chain}
    if version != OCPP16:
        payload["certificateType"] = signing_request.certificate_type
    with transaction.atomic():
        row = actions.record_signed(signing_request, leaf, authority.issuer_key.public_key())
        command = outbound.send_call(station.identity, version, "CertificateSigned", payload,
                                     source=source)
        actions.attach_install_command(row, command)
    return row


def install_certificate(station, certificate_type, pem, source=""):
    """InstallCertificate of a root certificate: (row, command). InvalidCommand when the type
    is not a root type of the station's version or the PEM holds no certificate."""
    version = _version(station)
    errors = []
    if certificate_type not in ROOT_TYPES:
        errors.append(f"certificate_type must be one of {', '.join(ROOT_TYPES)}")
    elif version == OCPP16 and certificate_type not in actions.TYPES_16:
        errors.append(f"OCPP 1.6 installs only {', '.join(actions.TYPES_16)}")
    try:
        certificate = certs.load_certificates(pem)[0]
    except (ValueError, TypeError):
        certificate = None
        errors.append("certificate is not a PEM certificate")
    if errors:
        raise outbound.InvalidCommand(errors)
    wire_type = actions.TYPES_16[certificate_type] if version == OCPP16 else certificate_type
    with transaction.atomic():
        row = actions.record_install(station, certificate_type, certificate)
        command = outbound.send_call(station.identity, version, "InstallCertificate",
                                     {"certificateType": wire_type,
                                      "certificate": certs.pem_of(certificate)}, source=source)
        actions.attach_install_command(row, command)
    return _fresh(row, command)


def delete_certificate(station, hash_data, source=""):
    """DeleteCertificate of the certificate `hash_data` (a HashData) names: (row, command); row
    is None when the CSMS does not know the certificate."""
    version = _version(station)
    with transaction.atomic():
        row = actions.mark_deleting(station, hash_data)
        command = outbound.send_call(station.identity, version, "DeleteCertificate",
                                     {"certificateHashData": hash_data.as_ocpp()}, source=source)
        actions.attach_delete_command(row, command)
    return _fresh(row, command)


def get_installed_certificate_ids(station, certificate_types=None, source=""):
    """GetInstalledCertificateIds; the answer updates the station's certificates. 1.6 asks for
    one type at a time (default the CSMS root)."""
    version = _version(station)
    certificate_types = list(certificate_types or [])
    unknown = [kind for kind in certificate_types if kind not in actions.REPORTABLE_TYPES]
    if unknown:
        raise outbound.InvalidCommand([f"unknown certificate type(s) {', '.join(unknown)}; "
                                       f"choose from {', '.join(actions.REPORTABLE_TYPES)}"])
    if version == OCPP16:
        kind = certificate_types[0] if certificate_types else CertificateType.CSMS_ROOT
        if len(certificate_types) > 1 or kind not in actions.TYPES_16:
            raise outbound.InvalidCommand([f"OCPP 1.6 asks for one of {', '.join(actions.TYPES_16)}"])
        payload = {"certificateType": actions.TYPES_16[kind]}
    else:
        payload = {"certificateType": certificate_types} if certificate_types else {}
    command = outbound.send_call(station.identity, version, "GetInstalledCertificateIds", payload,
                                 source=source)
    command.refresh_from_db()
    return command


def request_new_certificate(station, certificate_type=CertificateType.CHARGING_STATION, source=""):
    """Ask the station for a new CSR (TriggerMessage; 1.6 ExtendedTriggerMessage)."""
    version = _version(station)
    if version == OCPP16:
        if certificate_type != CertificateType.CHARGING_STATION:
            raise outbound.InvalidCommand(["OCPP 1.6 renews only its charge point certificate"])
        return outbound.send_call(station.identity, version, "ExtendedTriggerMessage",
                                  {"requestedMessage": TRIGGER_16}, source=source)
    if certificate_type not in TRIGGERS:
        raise outbound.InvalidCommand([f"certificate_type must be one of {', '.join(TRIGGERS)}"])
    return outbound.send_call(station.identity, version, "TriggerMessage",
                              {"requestedMessage": TRIGGERS[certificate_type]}, source=source)


def renew_due_certificates():
    """The beat's pass: every signed certificate expiring within CERTIFICATE_RENEWAL_DAYS gets
    its station asked for a new CSR (once a day at most). Returns how many were asked."""
    asked = 0
    for row in actions.due_for_renewal():
        try:
            request_new_certificate(row.station, row.certificate_type, source="beat:certificate-renewal")
        except (StationNotReady, outbound.InvalidCommand) as error:
            logger.warning("Renewal of %s not requested: %s", row, error)
            continue
        actions.mark_renewal_requested(row)
        asked += 1
    return asked


def _fresh(row, command):
    command.refresh_from_db()  # on the embedded default the answer may already be in
    return (StationCertificate.objects.get(pk=row.pk) if row else None), command
