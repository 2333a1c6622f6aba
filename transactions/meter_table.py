"""The transaction page's meter values as one row per timestamp, measurands and phases as
columns; paginated by timestamp in the database (a long session has thousands of values)."""
from dataclasses import dataclass, field

from django.core.paginator import Paginator

TIMESTAMPS_PER_PAGE = 100


@dataclass(frozen=True)
class Column:
    measurand: str
    phase: str
    location: str
    unit: str

    @property
    def label(self):
        parts = [self.measurand, self.phase]
        if self.location and self.location != "Outlet":  # Outlet is OCPP's default location
            parts.append(f"@{self.location}")
        return " ".join(part for part in parts if part)

    @property
    def key(self):
        return (self.measurand, self.phase, self.location, self.unit)


@dataclass
class Row:
    timestamp: object
    contexts: list = field(default_factory=list)
    after_end: bool = False
    cells: list = field(default_factory=list)


def _shown(value):
    """A normalized value without trailing zeros (2750.000000 -> 2750); None when not a number."""
    if value is None:
        return None
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def meter_table(transaction, page_number):
    """(columns, rows, page): the columns of every measurand/phase/location/unit the session
    has, and one row per timestamp of the requested page, oldest first."""
    values = transaction.meter_values.order_by()
    columns = [Column(*key) for key in values.values_list(
        "measurand", "phase", "location", "base_unit").distinct().order_by(
        "measurand", "phase", "location", "base_unit")]
    timestamps = values.values_list("timestamp", flat=True).distinct().order_by("timestamp")
    page = Paginator(timestamps, TIMESTAMPS_PER_PAGE).get_page(page_number)
    moments = list(page.object_list)
    if not moments:
        return columns, [], page
    rows = {moment: Row(moment) for moment in moments}
    cells = {}
    samples = values.filter(timestamp__gte=moments[0], timestamp__lte=moments[-1]).values_list(
        "timestamp", "measurand", "phase", "location", "base_unit", "context", "after_end",
        "value", "raw_value", "unit", "multiplier").order_by("timestamp", "id")
    for (moment, measurand, phase, location, base_unit, context, after_end, value, raw_value,
         unit, multiplier) in samples:
        row = rows[moment]
        if context and context not in row.contexts:
            row.contexts.append(context)
        row.after_end = row.after_end or after_end
        as_sent = f"{raw_value} {unit}".strip() + (f" ×10^{multiplier}" if multiplier else "")
        shown = _shown(value)
        # Two readings of one column at one timestamp differ only by context (Sample.Clock and
        # Sample.Periodic): both are shown.
        cell = cells.setdefault((moment, (measurand, phase, location, base_unit)), [])
        cell.append({"value": shown if shown is not None else raw_value[:40],
                     "as_sent": as_sent, "context": context, "number": shown is not None})
    for moment, row in rows.items():
        row.cells = [cells.get((moment, column.key), []) for column in columns]
    return columns, list(rows.values()), page
