"""Every state change of the transactions domain, one module per concern; imported from here
(`from transactions.actions import authorize`) by handlers, API, pages and tasks."""
from .answers import settle_command, settle_finished
from .authorization import (
    ID_TAG_TYPE, STATUS_TO_16, Authorization, authorize, authorize_request, find_token,
    id_tag_info, id_token_info, info_for, record_unknown_token, spent_by,
)
from .common import OCPP16, OCPP201, InvalidRequest, iso, parse_time
from .cost import cost_updates_due, live_cost, mark_cost_sent
from .derivation import FOLDED_FIELDS, RunningFold, derive, fold_in_order
from .events import (
    record_transaction_event, start_transaction_16, stop_transaction_16, tariff_for,
)
from .local_lists import (
    local_list_content, local_list_of, plan_local_list, settle_local_list_update,
)
from .meter_values import (
    record_meter_values_16, record_meter_values_201, sampled_values, store_meter_values,
)
from .remote_starts import (
    create_remote_start, register_profile_tracker, remote_start_profile, remote_start_profile_sent,
    settle_remote_start, token_for_remote_start,
)
from .reservations import (
    RESERVE_ANSWERS, attach_command, create_reservation, expire_reservations,
    reservation_status_update, settle_reservation,
)
from .settlement import (
    TransactionEnded, close_transaction, connector_available, heard_from, settle_due,
    station_rebooted,
)
from .tokens import CSV_FIELDS, import_tokens_csv, save_token, set_token_status
from . import customer_data  # noqa: E402,F401  (customer information and erasure)

__all__ = [
    "Authorization", "CSV_FIELDS", "FOLDED_FIELDS", "ID_TAG_TYPE", "InvalidRequest", "OCPP16",
    "OCPP201", "RESERVE_ANSWERS", "RunningFold", "STATUS_TO_16", "attach_command", "authorize",
    "authorize_request", "cost_updates_due", "create_remote_start", "create_reservation",
    "derive", "expire_reservations", "find_token", "fold_in_order", "id_tag_info",
    "id_token_info", "import_tokens_csv", "info_for", "iso", "live_cost", "local_list_content",
    "local_list_of", "mark_cost_sent", "parse_time", "plan_local_list", "record_meter_values_16",
    "record_meter_values_201", "record_transaction_event", "record_unknown_token",
    "reservation_status_update", "sampled_values", "save_token", "set_token_status",
    "settle_command", "settle_finished", "settle_local_list_update", "settle_remote_start",
    "register_profile_tracker", "remote_start_profile", "remote_start_profile_sent",
    "settle_reservation", "spent_by", "start_transaction_16", "stop_transaction_16",
    "store_meter_values", "tariff_for", "token_for_remote_start", "TransactionEnded", "close_transaction",
    "connector_available", "heard_from", "settle_due", "station_rebooted",
]
