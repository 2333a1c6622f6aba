# The write stamps of tariffs and transactions (transactions/write_stamps.py).
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("transactions", "0006_trusted_mo_roots"),
    ]

    operations = [
        migrations.AddField(
            model_name="tariff",
            name="write_stamp",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="transaction",
            name="write_stamp",
            field=models.BigIntegerField(default=0, editable=False),
        ),
    ]
