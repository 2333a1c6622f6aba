"""Every state change of smart charging, one module per concern, importable from here."""
from .profiles import (  # noqa: F401
    InvalidProfile, attach_command, clear_criteria, create_profile, live_profiles,
    profiles_matching, running_transaction, settle_clear, settle_set_profile, station_limits,
    sweep_profiles, validate_profile,
)
from .station_reports import (  # noqa: F401
    clear_charging_limit, record_charging_limit, record_ev_charging_needs,
    record_ev_charging_schedule, record_profiles_report, settle_report_request,
)
from .reallocation import reallocate_site  # noqa: F401
from .site_profiles import apply_answer as apply_site_answer  # noqa: F401
from .sites import (  # noqa: F401
    member_booted, member_changed, power_readings, remove_member, request_reallocation, run_due_round, safety_pass,
    site_changed, site_live, station_changed,
)
