"""Station certificates: CSRs the stations sent (SignCertificate) and what became of them, and the
certificates each station holds — signed by the CSMS's CA, installed by the CSMS, or reported by
the station (GetInstalledCertificateIds)."""
from django.db import models


class CertificateType(models.TextChoices):
    CHARGING_STATION = "ChargingStationCertificate", "ChargingStationCertificate"
    V2G = "V2GCertificate", "V2GCertificate"
    CSMS_ROOT = "CSMSRootCertificate", "CSMSRootCertificate"
    MANUFACTURER_ROOT = "ManufacturerRootCertificate", "ManufacturerRootCertificate"
    V2G_ROOT = "V2GRootCertificate", "V2GRootCertificate"
    MO_ROOT = "MORootCertificate", "MORootCertificate"
    V2G_CHAIN = "V2GCertificateChain", "V2GCertificateChain"


SIGNED_TYPES = (CertificateType.CHARGING_STATION, CertificateType.V2G)
ROOT_TYPES = (CertificateType.CSMS_ROOT, CertificateType.MANUFACTURER_ROOT,
              CertificateType.V2G_ROOT, CertificateType.MO_ROOT)


class StationCertificate(models.Model):
    class Origin(models.TextChoices):
        SIGNED = "Signed", "Signed by the CSMS's CA"
        INSTALLED = "Installed", "Installed by the CSMS"
        REPORTED = "Reported", "Reported by the station"

    class Status(models.TextChoices):
        SENDING = "Sending"  # CertificateSigned / InstallCertificate sent, no answer yet
        INSTALLED = "Installed"  # the station accepted it, or reported holding it
        REJECTED = "Rejected"  # the station refused it (status in `station_status`)
        NOT_DELIVERED = "NotDelivered", "NotDelivered"  # offline, timed out or a CALLERROR
        DELETING = "Deleting"  # DeleteCertificate sent
        DELETED = "Deleted"  # deleted, or no longer reported by the station
        REPLACED = "Replaced"  # a newer certificate of the same type was installed

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="certificates")
    certificate_type = models.CharField(max_length=32, choices=CertificateType.choices)
    origin = models.CharField(max_length=10, choices=Origin.choices)
    status = models.CharField(max_length=13, choices=Status.choices, default=Status.SENDING)
    # The station's own word when it refused or failed (Rejected, Failed, NotFound, ...).
    station_status = models.CharField(max_length=20, blank=True)
    # Known when the CSMS has the certificate itself (signed or installed); blank when reported.
    serial_number = models.CharField(max_length=40, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    issuer = models.CharField(max_length=255, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    not_after = models.DateTimeField(null=True, blank=True)
    pem = models.TextField(blank=True)
    # OCPP CertificateHashDataType: how station and CSMS name a certificate.
    hash_algorithm = models.CharField(max_length=6, blank=True)
    issuer_name_hash = models.CharField(max_length=128, blank=True)
    issuer_key_hash = models.CharField(max_length=128, blank=True)
    hash_serial_number = models.CharField(max_length=40, blank=True)
    # A reported chain's child certificates (2.0.1 childCertificateHashData), as the station sent them.
    child_hash_data = models.JSONField(default=list, blank=True)
    signing_request = models.OneToOneField(
        "stations.CertificateSigningRequest", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="certificate")
    install_command = models.ForeignKey("csms.Command", on_delete=models.SET_NULL, null=True,
                                        blank=True, related_name="+")
    delete_command = models.ForeignKey("csms.Command", on_delete=models.SET_NULL, null=True,
                                       blank=True, related_name="+")
    # When the renewal pass asked the station for a new CSR for this certificate.
    renewal_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "not_after"], name="certificate_expiry_idx")]

    def __str__(self):
        return f"{self.station.identity} {self.certificate_type} {self.serial_number or self.hash_serial_number}"

    def hash_data(self):
        """The OCPP CertificateHashDataType naming this certificate (None when unknown)."""
        if not (self.hash_algorithm and self.issuer_name_hash and self.issuer_key_hash):
            return None
        return {"hashAlgorithm": self.hash_algorithm, "issuerNameHash": self.issuer_name_hash,
                "issuerKeyHash": self.issuer_key_hash, "serialNumber": self.hash_serial_number}


class CertificateSigningRequest(models.Model):
    """One SignCertificate: the CSR, the CSMS's verdict and, once signed, its delivery."""

    class Status(models.TextChoices):
        REFUSED = "Refused"  # the CSR failed a check: answered Rejected (reason kept)
        ACCEPTED = "Accepted"  # answered Accepted; the certificate is being signed and sent
        SIGNED = "Signed"  # CertificateSigned sent (its outcome is on the certificate)
        FAILED = "Failed"  # the CA could not sign it (reason kept)

    station = models.ForeignKey("stations.Station", on_delete=models.CASCADE,
                                related_name="signing_requests")
    certificate_type = models.CharField(max_length=32, choices=CertificateType.choices)
    csr = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices)
    reason_code = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=512, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.station.identity} {self.certificate_type} CSR {self.status}"
