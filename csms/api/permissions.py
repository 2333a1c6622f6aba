"""DRF permissions by role: reading needs a viewer, changing an operator, and views that manage
users or settings say `required_role = ADMINISTRATOR`."""
from rest_framework.permissions import SAFE_METHODS, BasePermission

from csms import roles


class RolePermission(BasePermission):
    """The default of every API view (REST_FRAMEWORK's DEFAULT_PERMISSION_CLASSES)."""

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        needed = getattr(view, "required_role", None)
        if needed is None:
            needed = roles.VIEWER if request.method in SAFE_METHODS else roles.OPERATOR
        if roles.has_role(request.user, needed):
            return True
        self.message = roles.refusal(request.user, needed)
        return False


class IsAdministrator(RolePermission):
    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if roles.has_role(request.user, roles.ADMINISTRATOR):
            return True
        self.message = roles.refusal(request.user, roles.ADMINISTRATOR)
        return False
