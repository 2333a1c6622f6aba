"""`GET transactions/totals/`: count, energy and duration of the transactions a filter selects,
the figures the dashboard's transactions list shows above its rows."""
from rest_framework import serializers


class TransactionTotalsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Transactions the filter selects (all pages).")
    energy_kwh = serializers.DecimalField(max_digits=20, decimal_places=3,
                                          help_text="Their energy, in kWh.")
    duration_seconds = serializers.IntegerField(
        help_text="Their durations summed (start to end; a running one until now), in seconds.")
