"""API of accounts: the caller's API tokens (/api/v1/api-tokens/; the secret is in the create
answer only) and, for administrators, users and their roles (/api/v1/users/)."""
from django.contrib.auth import get_user_model
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from csms import roles
from csms.api.serializers import ModelSerializer
from csms.audit import recorder as audit_record
from csms.audit.models import AuditEntry

from .models import ApiToken


class ApiTokenSerializer(ModelSerializer):
    state = serializers.CharField(read_only=True, help_text="active, expired or revoked")

    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_hint", "created_at", "expires_at", "revoked_at",
                  "last_used_at", "state"]
        read_only_fields = ["id", "key_hint", "created_at", "revoked_at", "last_used_at", "state"]

    def validate_name(self, name):
        if not name.strip():
            raise serializers.ValidationError("Give the token a name.")
        return name.strip()

    def validate_expires_at(self, expires_at):
        if expires_at is not None and expires_at <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return expires_at


class IssuedApiTokenSerializer(ApiTokenSerializer):
    key = serializers.CharField(read_only=True,
                                help_text="The secret: shown in this answer only, never again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = ApiTokenSerializer.Meta.fields + ["key"]


def issue_token(user, name, expires_at=None):
    token, key = ApiToken.issue(user, name, expires_at)
    audit_record.record(AuditEntry.Kind.API_TOKEN, f"API token {name} created",
                        details={"token": token.pk, "expires_at": str(expires_at or "")})
    return token, key


def revoke_token(token):
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record.record(AuditEntry.Kind.API_TOKEN, f"API token {token.name} revoked",
                            details={"token": token.pk, "owner": token.user.get_username()})


class ApiTokenViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your API tokens. A token acts with your role; DELETE revokes it (it stays listed)."""

    serializer_class = ApiTokenSerializer
    # For the schema (its generator has no user, so no get_queryset): the path's id is an integer.
    queryset = ApiToken.objects.all()
    # Every role may hold tokens of its own: a viewer's token can only read.
    required_role = roles.VIEWER
    filterset_fields = []
    ordering_fields = ["id", "created_at", "expires_at"]

    def get_queryset(self):
        return ApiToken.objects.filter(user=self.request.user).order_by("-id")

    @extend_schema(responses={201: IssuedApiTokenSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = issue_token(request.user, serializer.validated_data["name"],
                                 serializer.validated_data.get("expires_at"))
        token.key = key
        return Response(IssuedApiTokenSerializer(token).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, token):
        revoke_token(token)


class UserSerializer(ModelSerializer):
    role = serializers.ChoiceField(choices=roles.ROLES, required=False,
                                   help_text="Staff and superusers are always administrators.")

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "email", "is_active", "is_staff", "role", "last_login",
                  "date_joined"]
        read_only_fields = ["id", "username", "is_staff", "last_login", "date_joined"]

    def to_representation(self, user):
        data = super().to_representation(user)
        data["role"] = roles.role_of(user) if user.is_active else None
        return data

    def validate(self, attrs):
        user, me = self.instance, self.context["request"].user
        role = attrs.get("role")
        if user is not None and user.pk == me.pk and (
                attrs.get("is_active") is False or role not in (None, roles.ADMINISTRATOR)):
            raise serializers.ValidationError("You cannot deactivate or demote yourself.")
        if user is not None and (user.is_staff or user.is_superuser) and \
                role not in (None, roles.ADMINISTRATOR):
            raise serializers.ValidationError(
                "Staff users and superusers are always administrators (change them in the admin).")
        return attrs

    def update(self, user, validated_data):
        role = validated_data.pop("role", None)
        user = super().update(user, validated_data)
        if role is not None and role != roles.role_of(user):
            roles.set_role(user, role)
            audit_record.record(AuditEntry.Kind.ROLE, f"{user.get_username()} is now {role}",
                                details={"user": user.pk, "role": role})
        return user


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                  viewsets.GenericViewSet):
    """Users and their roles (administrators only)."""

    serializer_class = UserSerializer
    required_role = roles.ADMINISTRATOR
    queryset = get_user_model().objects.order_by("id").prefetch_related("groups")
    filterset_fields = ["is_active", "username"]
    ordering_fields = ["id", "username"]
