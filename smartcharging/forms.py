"""Dashboard forms of smart charging: the charging-profile editor (up to three schedules, each with
its periods as rows). Fields check types only; the OCPP rules are `actions.validate_profile`'s,
as in the API."""
from django import forms

from csms.api.serializers import INTEGER_MAX

from .models import ChargingProfile

PERIOD_ROWS = 3  # blank period rows offered without JavaScript
MAX_PERIOD_ROWS = 1024
# OCPP 2.0.1 profiles carry up to three chargingSchedules (1.6: one; validate_profile says so).
MAX_SCHEDULES = 3


# datetime-local inputs take and give "YYYY-MM-DDTHH:MM" (UTC here, the dashboard's zone).
DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _blank_choice(choices, label):
    return [("", label)] + list(choices)


class ChargingProfileForm(forms.Form):
    evse_id = forms.IntegerField(label="EVSE", min_value=0, max_value=INTEGER_MAX, initial=0,
                                 help_text="0: the whole station (1.6: connector)")
    # OCPP's own names, as in the API (1.6's ChargePointMaxProfile is translated when sent).
    purpose = forms.ChoiceField(choices=[(value, value) for value in ChargingProfile.Purpose.values])
    stack_level = forms.IntegerField(min_value=0, max_value=INTEGER_MAX, initial=0)
    charging_profile_id = forms.IntegerField(
        label="Profile id", min_value=1, max_value=INTEGER_MAX, required=False,
        help_text="blank: a new id; an id the station holds is replaced")
    kind = forms.ChoiceField(choices=ChargingProfile.Kind.choices)
    recurrency_kind = forms.ChoiceField(
        label="Recurrency", required=False,
        choices=_blank_choice(ChargingProfile.RecurrencyKind.choices, "—"))
    valid_from = forms.DateTimeField(label="Valid from (UTC)", required=False,
                                     widget=DATETIME_LOCAL)
    valid_to = forms.DateTimeField(label="Valid to (UTC)", required=False,
                                   widget=DATETIME_LOCAL)
    # How many schedule blocks the page posts (none: one, as before schedules could be added).
    schedule_count = forms.IntegerField(min_value=1, max_value=MAX_SCHEDULES, required=False,
                                        widget=forms.HiddenInput)


class ScheduleForm(forms.Form):
    """One chargingSchedule's own fields; its periods are a PeriodFormSet beside it."""

    charging_rate_unit = forms.ChoiceField(label="Unit", choices=[("A", "A"), ("W", "W")])
    start_schedule = forms.DateTimeField(
        label="Schedule start (UTC)", required=False,
        widget=DATETIME_LOCAL)
    duration = forms.IntegerField(label="Duration (s)", required=False, max_value=INTEGER_MAX)
    min_charging_rate = forms.FloatField(label="Min rate", required=False)


class PeriodForm(forms.Form):
    # No bounds here: a negative or misplaced value is reported by validate_profile with the rest.
    start_period = forms.IntegerField(label="Start (s)", required=False, min_value=-INTEGER_MAX,
                                      max_value=INTEGER_MAX)
    limit = forms.FloatField(required=False)
    number_phases = forms.IntegerField(label="Phases", required=False, min_value=-INTEGER_MAX,
                                       max_value=INTEGER_MAX)

    def is_blank(self):
        data = getattr(self, "cleaned_data", None) or {}
        return all(data.get(name) is None for name in self.fields)

    def clean(self):
        data = super().clean()
        if not self.is_blank() and (data.get("start_period") is None or data.get("limit") is None):
            raise forms.ValidationError("a period needs a start and a limit")
        return data


PeriodFormSet = forms.formset_factory(PeriodForm, extra=0, max_num=MAX_PERIOD_ROWS,
                                      absolute_max=MAX_PERIOD_ROWS, validate_max=True)


def period_formset(data=None, prefix="periods", rows=PERIOD_ROWS):
    if data is None:
        initial = ([{"start_period": 0}] + [{}] * (rows - 1)) if rows else []
        return PeriodFormSet(prefix=prefix, initial=initial)
    return PeriodFormSet(data, prefix=prefix)


class ScheduleEditor:
    """Schedule `number` (from 1) of the editor: its fields and its period rows. The first keeps
    the names the editor always had (charging_rate_unit, periods-0-limit, ...); schedule 2 is
    prefixed schedule2- (schedule2-charging_rate_unit, schedule2-periods-0-limit)."""

    def __init__(self, number, data=None, rows=PERIOD_ROWS):
        self.number = number
        prefix = None if number == 1 else f"schedule{number}"
        self.form = ScheduleForm(data, prefix=prefix)
        self.periods = period_formset(data, f"{prefix}-periods" if prefix else "periods", rows)

    def is_valid(self):
        # Both run, so every error of every schedule is listed at once.
        return all([self.form.is_valid(), self.periods.is_valid()])

    def error_lines(self):
        """Every type error of this schedule, labelled for the list above the form."""
        where = f"schedule {self.number}"
        lines = [f"{where} {field.label}: {error}" for field in self.form
                 for error in field.errors]
        lines += [f"{where} periods: {error}" for error in self.periods.non_form_errors()]
        for row, period in enumerate(self.periods, 1):
            lines += [f"{where} period row {row}: {error}" for error in period.non_field_errors()]
            lines += [f"{where} period row {row} {field.label}: {error}"
                      for field in period for error in field.errors]
        return lines

    def data(self):
        """The OCPP-shaped chargingSchedule (no id: create_profile numbers 2.0.1 schedules)."""
        fields = self.form.cleaned_data
        schedule = {"chargingRateUnit": fields["charging_rate_unit"]}
        if fields["start_schedule"] is not None:
            schedule["startSchedule"] = _iso(fields["start_schedule"])
        if fields["duration"] is not None:
            schedule["duration"] = fields["duration"]
        if fields["min_charging_rate"] is not None:
            schedule["minChargingRate"] = fields["min_charging_rate"]
        rows = []
        for period_form in self.periods:
            if period_form.is_blank():
                continue
            row = period_form.cleaned_data
            period = {"startPeriod": row["start_period"], "limit": row["limit"]}
            if row.get("number_phases") is not None:
                period["numberPhases"] = row["number_phases"]
            rows.append(period)
        schedule["chargingSchedulePeriod"] = rows
        return schedule


def schedule_count(data):
    """How many schedules a POST carries: its schedule_count when readable and in range, else 1
    (the profile form reports an unreadable count)."""
    try:
        count = int((data or {}).get("schedule_count") or 1)
    except (TypeError, ValueError):
        return 1
    return count if 1 <= count <= MAX_SCHEDULES else 1


def schedule_editors(data=None):
    return [ScheduleEditor(number, data) for number in range(1, schedule_count(data) + 1)]


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def profile_data(form, schedules):
    """The profile in the model's field names with its OCPP-shaped schedules, as the API takes
    it."""
    data = dict(form.cleaned_data)
    data.pop("schedule_count", None)
    data["schedules"] = [schedule.data() for schedule in schedules]
    if data.get("charging_profile_id") is None:
        data.pop("charging_profile_id", None)
    data["recurrency_kind"] = data.get("recurrency_kind") or ""
    return data
