"""/api/v1/trusted-roots/: the MO root certificates Plug & Charge contracts must chain to (list,
install from PEM, read, remove). Reading needs a viewer; changing the trust, an administrator."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS

from csms import roles
from csms.api.serializers import ModelSerializer
from transactions.models import TrustedRoot


class TrustedRootSerializer(ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:trusted-root-detail")
    pem = serializers.CharField(
        max_length=20000, trim_whitespace=False,
        help_text="The MO root certificate (a CA certificate), PEM encoded.")

    class Meta:
        model = TrustedRoot
        fields = ["id", "url", "name", "pem", "subject", "serial_number", "not_before",
                  "not_after", "fingerprint", "created_at"]
        read_only_fields = ["subject", "serial_number", "not_before", "not_after", "fingerprint",
                            "created_at"]

    def create(self, validated_data):
        root = TrustedRoot(**validated_data)
        try:
            root.full_clean(exclude=TrustedRoot.DERIVED_FIELDS)
            with transaction.atomic():
                root.save()
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None
        except IntegrityError:  # the same root installed by a concurrent request
            raise ValidationError({"pem": ["This root certificate is already trusted."]}) from None
        return root


class TrustedRootViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Trusted MO roots: an Authorize with a contract certificate (or its hash data) is answered
    certificateStatus Accepted only when the contract chains to one of them."""

    queryset = TrustedRoot.objects.all()
    serializer_class = TrustedRootSerializer
    filterset_fields = ["fingerprint", "serial_number"]
    ordering_fields = ["id", "name", "not_after", "created_at"]

    @property
    def required_role(self):
        # Trusting a root is a security setting: administrators only.
        return None if self.request.method in SAFE_METHODS else roles.ADMINISTRATOR
