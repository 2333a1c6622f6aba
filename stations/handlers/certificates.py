"""Certificates from the station's side: SignCertificate (2.0.1 and the 1.6 security extension)
answered from the CSR checks, the signed chain sent after the answer; the answers to
CertificateSigned, InstallCertificate, DeleteCertificate and GetInstalledCertificateIds."""
from django.db import transaction
from django.dispatch import receiver

from csms.ocpp.framing import OCPP16, OCPP201
from csms.ocpp.router import router
from csms.ocpp.signals import command_finished

from .. import tasks
from ..actions import certificates as actions
from ..models.certificates import CertificateType


def _review(session, csr, certificate_type):
    signing_request = actions.review_csr(session.station_pk, session.identity, csr,
                                         certificate_type)
    if signing_request.status == signing_request.Status.ACCEPTED:
        # A2.FR.04/A3: answer first; CertificateSigned follows as a separate call (queued now,
        # it leaves after this answer: a station session handles one frame at a time).
        transaction.on_commit(lambda: tasks.sign_certificate.delay(signing_request.pk),
                              robust=True)
    return signing_request


@router.register(OCPP201, "SignCertificate")
def sign_certificate_201(session, payload):
    signing_request = _review(session, payload["csr"],
                              payload.get("certificateType", CertificateType.CHARGING_STATION))
    if signing_request.status == signing_request.Status.ACCEPTED:
        return {"status": "Accepted"}
    return {"status": "Rejected", "statusInfo": {"reasonCode": signing_request.reason_code,
                                                 "additionalInfo": signing_request.reason}}


@router.register(OCPP16, "SignCertificate")
def sign_certificate_16(session, payload):
    signing_request = _review(session, payload["csr"], CertificateType.CHARGING_STATION)
    return {"status": "Accepted" if signing_request.status == signing_request.Status.ACCEPTED
            else "Rejected"}


@receiver(command_finished, dispatch_uid="stations.certificate_answers")
def apply_certificate_answer(sender, command, **kwargs):
    actions.apply_answer(command)
