"""Operator roles: administrator (users, settings), operator (commands, tokens, tariffs, stations)
and viewer (read only), as Django groups; staff and superusers are administrators."""
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseForbidden

ADMINISTRATOR = "administrator"
OPERATOR = "operator"
VIEWER = "viewer"
ROLES = (ADMINISTRATOR, OPERATOR, VIEWER)
RANK = {VIEWER: 0, OPERATOR: 1, ADMINISTRATOR: 2}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Apps whose models only administrators may change (users, groups and permissions).
ADMINISTRATOR_ONLY_APPS = ("auth", "contenttypes", "sessions", "admin")


def role_of(user):
    """The user's highest role; an active user in no group is a viewer (deny by default)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser or user.is_staff:
        return ADMINISTRATOR
    cached = getattr(user, "_csms_role", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = next((role for role in (ADMINISTRATOR, OPERATOR) if role in names), VIEWER)
        user._csms_role = cached
    return cached


def has_role(user, role):
    """True when the user's role is `role` or above it."""
    actual = role_of(user)
    return actual is not None and RANK[actual] >= RANK[role]


def require_role(user, role):
    if not has_role(user, role):
        raise PermissionDenied(refusal(user, role))


def refusal(user, role):
    wanted = "administrators" if role == ADMINISTRATOR else "operators and administrators"
    return f"Only {wanted} may do this; your role is {role_of(user) or 'none'}."


def set_role(user, role):
    """Put the user in exactly one role group (staff and superusers stay administrators)."""
    from django.contrib.auth.models import Group

    if role not in ROLES:
        raise ValueError(f"Unknown role {role!r}; one of {', '.join(ROLES)}.")
    user.groups.remove(*Group.objects.filter(name__in=ROLES))
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    user.__dict__.pop("_csms_role", None)


def sync_group_permissions(**kwargs):
    """Give the role groups their Django permissions (the admin's view/change rights).

    Run after every migrate (post_migrate), so models added later are covered too.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group, Permission

    # post_migrate comes once per app, each after that app's permissions are made: the last
    # app's is the one that sees them all.
    sender = kwargs.get("sender")
    if sender is not None and sender is not list(apps.get_app_configs())[-1]:
        return
    every = list(Permission.objects.select_related("content_type"))
    operator = [p for p in every if p.content_type.app_label not in ADMINISTRATOR_ONLY_APPS]
    viewer = [p for p in operator if p.codename.startswith("view_")]
    grants = {ADMINISTRATOR: every, OPERATOR: operator, VIEWER: viewer}
    for name, permissions in grants.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def context_processor(request):
    """`user_role` in every template: pages show it and hide what the role may not do."""
    return {"user_role": role_of(getattr(request, "user", None))}


# Where a viewer may still POST: logging in and out, and their own API tokens. The admin and the
# API check permissions themselves (model permissions, csms.api.permissions).
VIEWER_WRITABLE_PREFIXES = ("/accounts/login/", "/accounts/logout/", "/accounts/tokens/",
                            "/admin/", "/api/")


class RoleMiddleware:
    """Refuses state-changing dashboard requests (POST/PUT/PATCH/DELETE) from viewers, on every
    URL, so no page has to remember to check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (request.method in WRITE_METHODS and request.user.is_authenticated
                and not request.path.startswith(VIEWER_WRITABLE_PREFIXES)
                and not has_role(request.user, OPERATOR)):
            return HttpResponseForbidden(refusal(request.user, OPERATOR),
                                         content_type="text/plain; charset=utf-8")
        return self.get_response(request)
