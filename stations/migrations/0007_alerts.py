import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0006_data_transfer_exchanges"),
    ]

    operations = [
        migrations.CreateModel(
            name="Alert",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("StationOffline", "Station offline"), ("ConnectorFaulted", "Connector faulted"), ("BootRejected", "Boot rejected"), ("TransactionSilent", "Transaction without news"), ("CommandTimeouts", "Commands timing out")], max_length=20)),
                ("subject", models.CharField(blank=True, max_length=64)),
                ("state", models.CharField(choices=[("Active", "Active"), ("Cleared", "Cleared")], default="Active", max_length=8)),
                ("message", models.CharField(blank=True, max_length=300)),
                ("details", models.JSONField(blank=True, default=dict)),
                ("raised_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("raise_count", models.PositiveIntegerField(default=1)),
                ("cleared_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_at", models.DateTimeField(blank=True, null=True)),
                ("acknowledged_by", models.CharField(blank=True, max_length=150)),
                ("station", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="alerts", to="stations.station")),
            ],
            options={
                "ordering": ["-raised_at", "-id"],
                "indexes": [models.Index(fields=["state", "kind"], name="alert_state_kind_idx")],
                "constraints": [models.UniqueConstraint(condition=models.Q(("state", "Active")), fields=("kind", "station", "subject"), name="one_active_alert_per_subject")],
            },
        ),
    ]
