"""Dashboard forms of smart charging: the charging-profile editor (one schedule, its periods as
rows). Fields check types only; the OCPP rules are `actions.validate_profile`'s, as in the API."""
from django import forms

from csms.api.serializers import INTEGER_MAX

from .models import ChargingProfile

PERIOD_ROWS = 3  # blank period rows offered without JavaScript
MAX_PERIOD_ROWS = 1024


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


def period_formset(data=None):
    if data is None:
        initial = [{"start_period": 0}] + [{}] * (PERIOD_ROWS - 1)
        return PeriodFormSet(prefix="periods", initial=initial)
    return PeriodFormSet(data, prefix="periods")


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def profile_data(form, periods):
    """The profile in the model's field names with one OCPP-shaped schedule, as the API takes it."""
    data = dict(form.cleaned_data)
    schedule = {"chargingRateUnit": data.pop("charging_rate_unit")}
    start, duration = data.pop("start_schedule"), data.pop("duration")
    min_rate = data.pop("min_charging_rate")
    if start is not None:
        schedule["startSchedule"] = _iso(start)
    if duration is not None:
        schedule["duration"] = duration
    if min_rate is not None:
        schedule["minChargingRate"] = min_rate
    rows = []
    for period_form in periods:
        if period_form.is_blank():
            continue
        row = period_form.cleaned_data
        period = {"startPeriod": row["start_period"], "limit": row["limit"]}
        if row.get("number_phases") is not None:
            period["numberPhases"] = row["number_phases"]
        rows.append(period)
    schedule["chargingSchedulePeriod"] = rows
    data["schedules"] = [schedule]
    if data.get("charging_profile_id") is None:
        data.pop("charging_profile_id", None)
    data["recurrency_kind"] = data.get("recurrency_kind") or ""
    return data
