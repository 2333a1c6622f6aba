"""Station certificates: the verdict on a CSR, the rows of signed, installed and reported
certificates, the station's answers to CertificateSigned / InstallCertificate /
DeleteCertificate / GetInstalledCertificateIds, and which certificates are due for renewal."""
import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from csms.models import Command

from ..models import CertificateSigningRequest, Station, StationCertificate
from ..models.certificates import CertificateType, SIGNED_TYPES
from ..security import x509 as certs

logger = logging.getLogger(__name__)
Status = StationCertificate.Status
Origin = StationCertificate.Origin
CsrStatus = CertificateSigningRequest.Status
# A station asked to renew that sent no new CSR is asked again after this long.
RENEWAL_RETRY = timedelta(days=1)
# 1.6 security extension spells the CSMS root certificate its own way.
TYPES_16 = {CertificateType.CSMS_ROOT: "CentralSystemRootCertificate",
            CertificateType.MANUFACTURER_ROOT: "ManufacturerRootCertificate"}
TYPES_FROM_16 = {value: key for key, value in TYPES_16.items()}
# GetInstalledCertificateIds reports a V2G certificate as part of its chain.
REPORT_SCOPES = {CertificateType.V2G_CHAIN: [CertificateType.V2G_CHAIN, CertificateType.V2G]}
REPORTABLE_TYPES = [CertificateType.V2G_ROOT, CertificateType.MO_ROOT, CertificateType.CSMS_ROOT,
                    CertificateType.V2G_CHAIN, CertificateType.MANUFACTURER_ROOT]


def review_csr(station_pk, identity, csr_pem, certificate_type):
    """Check a SignCertificate's CSR and record it: the CertificateSigningRequest row, Accepted
    (the caller has it signed after answering) or Refused with the reason."""
    try:
        certs.check_csr(csr_pem, identity, settings.CERTIFICATE_ORGANIZATION)
        status, reason_code, reason = CsrStatus.ACCEPTED, "", ""
    except certs.CsrRefused as refusal:
        status, reason_code, reason = CsrStatus.REFUSED, refusal.reason_code, refusal.reason[:512]
        logger.warning("SignCertificate from %s refused: %s", identity, reason)
    return CertificateSigningRequest.objects.create(
        station_id=station_pk, certificate_type=certificate_type, csr=csr_pem, status=status,
        reason_code=reason_code, reason=reason)


def signing_failed(signing_request, reason):
    signing_request.status, signing_request.reason = CsrStatus.FAILED, reason[:512]
    signing_request.save(update_fields=["status", "reason", "updated_at"])


def _hash_fields(hash_data):
    return {"hash_algorithm": hash_data.hash_algorithm,
            "issuer_name_hash": hash_data.issuer_name_hash,
            "issuer_key_hash": hash_data.issuer_key_hash,
            "hash_serial_number": hash_data.serial_number}


def record_signed(signing_request, certificate, issuer_public_key):
    """The signed leaf, about to go out in CertificateSigned."""
    signing_request.status = CsrStatus.SIGNED
    signing_request.save(update_fields=["status", "updated_at"])
    return StationCertificate.objects.create(
        station_id=signing_request.station_id, certificate_type=signing_request.certificate_type,
        origin=Origin.SIGNED, status=Status.SENDING, signing_request=signing_request,
        **certs.summary(certificate), **_hash_fields(certs.hash_data(certificate, issuer_public_key)))


def record_install(station, certificate_type, certificate):
    return StationCertificate.objects.create(
        station=station, certificate_type=certificate_type, origin=Origin.INSTALLED,
        status=Status.SENDING, **certs.summary(certificate), **_hash_fields(certs.hash_data(certificate)))


def attach_install_command(row, command):
    StationCertificate.objects.filter(pk=row.pk).update(install_command=command)


def find_by_hash_data(station, hash_data, exclude_statuses=(Status.DELETED,)):
    """The station's certificate row named by `hash_data` (a HashData), or None."""
    candidates = station.certificates.filter(hash_serial_number=hash_data.serial_number).exclude(
        status__in=exclude_statuses)
    for row in candidates:
        if row.hash_algorithm == hash_data.hash_algorithm:
            if (row.issuer_name_hash == hash_data.issuer_name_hash
                    and row.issuer_key_hash in ("", hash_data.issuer_key_hash)):
                return row
        elif row.pem:  # hashed with another algorithm: compare the issuer name's hash
            certificate = certs.load_certificates(row.pem)[0]
            name_hash = certs.HASH_ALGORITHMS[hash_data.hash_algorithm](
                certificate.issuer.public_bytes()).hexdigest()
            if name_hash == hash_data.issuer_name_hash:
                return row
    return None


def mark_deleting(station, hash_data):
    """The row DeleteCertificate is about to name, now Deleting; None when the CSMS does not
    know that certificate (the command alone then records the answer)."""
    row = find_by_hash_data(station, hash_data)
    if row is not None:
        row.status = Status.DELETING
        row.save(update_fields=["status", "updated_at"])
    return row


def attach_delete_command(row, command):
    if row is not None:
        StationCertificate.objects.filter(pk=row.pk).update(delete_command=command)


def _answer_status(command):
    return ((command.response or {}).get("status") or command.error_code or command.status)[:20]


def settle_install(command):
    """CertificateSigned / InstallCertificate answered: Accepted installs it (a signed
    certificate replaces the station's older one of its type); otherwise the station's word."""
    with transaction.atomic():
        row = StationCertificate.objects.select_for_update().filter(
            install_command_id=command.pk, status=Status.SENDING).first()
        if row is None:
            return None
        if command.status == Command.Status.ACCEPTED:
            row.status, row.station_status = Status.INSTALLED, ""
            if row.origin == Origin.SIGNED:
                StationCertificate.objects.filter(
                    station_id=row.station_id, certificate_type=row.certificate_type,
                    origin=Origin.SIGNED, status=Status.INSTALLED).exclude(pk=row.pk).update(
                    status=Status.REPLACED, updated_at=timezone.now())
        elif command.status == Command.Status.REJECTED:
            row.status = Status.REJECTED
        else:
            row.status = Status.NOT_DELIVERED
        row.station_status = "" if row.status == Status.INSTALLED else _answer_status(command)
        row.save(update_fields=["status", "station_status", "updated_at"])
    return row


def settle_delete(command):
    """DeleteCertificate answered: Accepted or NotFound: gone; Failed or no answer: still held."""
    with transaction.atomic():
        row = StationCertificate.objects.select_for_update().filter(
            delete_command_id=command.pk, status=Status.DELETING).first()
        if row is None:
            return None
        answer = (command.response or {}).get("status", "")
        row.status = Status.DELETED if answer in ("Accepted", "NotFound") else Status.INSTALLED
        row.station_status = "" if answer == "Accepted" else _answer_status(command)
        row.save(update_fields=["status", "station_status", "updated_at"])
    return row


def _reported(command):
    """[(certificate_type, HashData, children)] of a GetInstalledCertificateIds answer."""
    response = command.response or {}
    if command.ocpp_version == "1.6":
        requested = TYPES_FROM_16.get(command.payload.get("certificateType"), CertificateType.CSMS_ROOT)
        return [(requested, certs.HashData.from_ocpp(item), [])
                for item in response.get("certificateHashData") or []]
    return [(item["certificateType"], certs.HashData.from_ocpp(item["certificateHashData"]),
             item.get("childCertificateHashData") or [])
            for item in response.get("certificateHashDataChain") or []]


def requested_types(command):
    if command.ocpp_version == "1.6":
        return [TYPES_FROM_16.get(command.payload.get("certificateType"), CertificateType.CSMS_ROOT)]
    return command.payload.get("certificateType") or REPORTABLE_TYPES


def apply_installed_ids(command):
    """GetInstalledCertificateIds answered (Accepted or NotFound): what the station reports is
    Installed (known rows updated, unknown ones recorded as Reported); certificates of the asked
    types it no longer reports are Deleted. Returns the station's reported rows."""
    if command.status not in (Command.Status.ACCEPTED, Command.Status.REJECTED):
        return None
    station = Station.objects.filter(identity=command.identity).first()
    if station is None:
        return None
    scope = [kind for requested in requested_types(command)
             for kind in REPORT_SCOPES.get(requested, [requested])]
    seen = []
    with transaction.atomic():
        for certificate_type, hash_data, children in _reported(command):
            row = find_by_hash_data(station, hash_data, exclude_statuses=(Status.DELETED, Status.DELETING))
            if row is None:
                row = StationCertificate(station=station, certificate_type=certificate_type,
                                         origin=Origin.REPORTED, **_hash_fields(hash_data))
            row.status, row.station_status, row.child_hash_data = Status.INSTALLED, "", children
            row.save()
            seen.append(row.pk)
        station.certificates.filter(certificate_type__in=scope, status=Status.INSTALLED).exclude(
            pk__in=seen).update(status=Status.DELETED, station_status="NotReported",
                                updated_at=timezone.now())
    return list(StationCertificate.objects.filter(pk__in=seen))


def apply_answer(command):
    """Apply a finished certificate command's answer (the command_finished receiver: once per
    command)."""
    if command.action == "GetInstalledCertificateIds":
        return apply_installed_ids(command)
    return settle_row(command)


def settle_row(command):
    """The certificate row a finished Install/CertificateSigned/DeleteCertificate settles; safe
    to call again (only a row still waiting changes), so a caller that waited for the outcome
    may apply it before the receiver has run."""
    if command.action in ("CertificateSigned", "InstallCertificate"):
        return settle_install(command)
    if command.action == "DeleteCertificate":
        return settle_delete(command)
    return None


def due_for_renewal(now=None):
    """Installed certificates the CSMS signed that expire within CERTIFICATE_RENEWAL_DAYS, of
    online stations not asked (or asked over a day ago)."""
    now = now or timezone.now()
    return (StationCertificate.objects
            .filter(origin=Origin.SIGNED, status=Status.INSTALLED, certificate_type__in=SIGNED_TYPES,
                    not_after__lte=now + timedelta(days=settings.CERTIFICATE_RENEWAL_DAYS),
                    station__online=True)
            .exclude(station__ocpp_version="")
            .filter(Q(renewal_requested_at__isnull=True) | Q(renewal_requested_at__lt=now - RENEWAL_RETRY))
            .select_related("station"))


def mark_renewal_requested(row):
    row.renewal_requested_at = timezone.now()
    row.save(update_fields=["renewal_requested_at", "updated_at"])
