"""The rule a charging station identity must follow, the same for the WebSocket upgrade and for
registering a station (API, pages): OCPP's identifierString, at most 48 characters."""
import re

from django.conf import settings

MAX_IDENTITY_LENGTH = 48
# OCPP 2.0.1 primitive identifierString: a-z, A-Z, 0-9 and * - _ = : + | @ .
IDENTIFIER_STRING_PATTERN = r"[A-Za-z0-9*\-_=:+|@.]+"
# Never allowed, whatever OCPP_IDENTITY_PATTERN says: the identity names files and URL paths.
PATH_CHARACTERS = ("/", "\\")

_compiled = {}


def _pattern():
    source = getattr(settings, "OCPP_IDENTITY_PATTERN", "") or IDENTIFIER_STRING_PATTERN
    compiled = _compiled.get(source)
    if compiled is None:
        compiled = _compiled[source] = re.compile(source)
    return compiled


def identity_problem(identity):
    """Why `identity` cannot name a station, or "" when it can."""
    if not isinstance(identity, str) or not identity:
        return "The identity is empty."
    if len(identity) > MAX_IDENTITY_LENGTH:
        return f"The identity is longer than {MAX_IDENTITY_LENGTH} characters."
    if not identity.isascii() or not identity.isprintable():
        return "The identity must be printable ASCII."
    if any(character in identity for character in PATH_CHARACTERS) or ".." in identity \
            or identity == ".":
        return "The identity must not contain path characters ('/', '\\', '..')."
    if not _pattern().fullmatch(identity):
        if getattr(settings, "OCPP_IDENTITY_PATTERN", ""):
            return "The identity does not match OCPP_IDENTITY_PATTERN."
        return ("The identity may contain only letters, digits and * - _ = : + | @ . "
                "(OCPP identifierString).")
    return ""


def valid_identity(identity):
    return not identity_problem(identity)
