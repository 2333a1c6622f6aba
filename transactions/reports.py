"""CSV export of transactions, shared by the API and the dashboard."""
import csv

from django.http import StreamingHttpResponse

COLUMNS = ["id", "station", "transaction_id", "ocpp_version", "state", "started_at", "ended_at",
           "evse_id", "connector_id", "id_token", "stop_id_token", "stopped_reason",
           "remote_start_id", "reservation_id", "offline", "meter_start_wh", "meter_stop_wh",
           "energy_kwh", "charging_minutes", "total_cost", "currency", "authorization_status",
           "anomaly", "settlement", "settled_by", "settled_at"]


class _Echo:
    def write(self, value):
        return value


def _row(transaction):
    def text(value):
        return "" if value is None else value

    return [
        transaction.pk, transaction.station.identity, transaction.transaction_id,
        transaction.ocpp_version, transaction.state,
        text(transaction.started_at and transaction.started_at.isoformat()),
        text(transaction.ended_at and transaction.ended_at.isoformat()),
        text(transaction.evse_id), text(transaction.connector_id), transaction.id_token_value,
        transaction.stop_id_token_value, transaction.stopped_reason,
        text(transaction.remote_start_id), text(transaction.reservation_id),
        transaction.offline, text(transaction.meter_start_wh), text(transaction.meter_stop_wh),
        f"{transaction.energy_kwh:.4f}", f"{transaction.charging_seconds / 60:.2f}",
        text(transaction.total_cost), transaction.currency, transaction.authorization_status,
        transaction.anomaly, transaction.settlement, transaction.settled_by,
        text(transaction.settled_at and transaction.settled_at.isoformat()),
    ]


def transactions_csv_response(queryset, filename="transactions.csv"):
    """Streams the rows, so a large export never sits in memory."""
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(COLUMNS)
        for transaction in queryset.select_related("station").iterator(chunk_size=500):
            yield writer.writerow(_row(transaction))

    response = StreamingHttpResponse(rows(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
