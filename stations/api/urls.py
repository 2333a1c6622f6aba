"""Station-operation endpoints (firmware, logs, display messages, ...) for the shared router in
csms/api/urls.py; the station viewset itself is registered there."""

# (prefix, viewset, basename)
router_registrations = []
