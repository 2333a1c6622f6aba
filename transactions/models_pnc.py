"""Mobility-operator (MO) root certificates the operator trusts: a contract certificate presented
for Plug & Charge is accepted only when it chains to one of them (transactions/pnc.py)."""
from django.core.exceptions import ValidationError
from django.db import models


class TrustedRoot(models.Model):
    """One trusted MO root certificate (PEM), with what the checks and the lists need to know."""

    name = models.CharField(max_length=100, blank=True, help_text="What the operator calls it.")
    pem = models.TextField(help_text="The root certificate, PEM encoded.")
    subject = models.CharField(max_length=255, editable=False)
    serial_number = models.CharField(max_length=40, editable=False)
    not_before = models.DateTimeField(editable=False)
    not_after = models.DateTimeField(editable=False)
    # SHA-256 of the DER certificate: the same root cannot be installed twice.
    fingerprint = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Read from the certificate by clean(), never typed in.
    DERIVED_FIELDS = ["subject", "serial_number", "not_before", "not_after", "fingerprint"]

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name or self.subject

    def clean(self):
        from .pnc import describe_root  # the X.509 reading lives with the checks

        try:
            facts = describe_root(self.pem)
        except ValueError as error:
            raise ValidationError({"pem": str(error)}) from None
        duplicate = TrustedRoot.objects.filter(fingerprint=facts["fingerprint"]).exclude(pk=self.pk)
        if duplicate.exists():
            raise ValidationError({"pem": "This root certificate is already trusted."})
        for field, value in facts.items():
            setattr(self, field, value)
