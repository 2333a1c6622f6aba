# Alerts and bulk operations were added side by side.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('stations', '0007_alerts'),
        ('stations', '0007_bulk_operations'),
    ]

    operations = []
