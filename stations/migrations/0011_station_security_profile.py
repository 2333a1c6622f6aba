import django.db.models
from django.db import migrations

import stations.models


class Migration(migrations.Migration):

    dependencies = [
        ("stations", "0010_security_events_logins_rotation"),
    ]

    operations = [
        migrations.AddField(
            model_name="station",
            name="security_profile",
            field=django.db.models.PositiveSmallIntegerField(
                choices=[(1, "1: Basic auth over ws"), (2, "2: Basic auth over TLS"),
                         (3, "3: mutual TLS")],
                default=stations.models.default_security_profile,
            ),
        ),
    ]
