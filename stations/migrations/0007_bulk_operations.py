# Bulk operations over stations: the operation and each station's outcome.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('csms', '0001_initial'),
        ('stations', '0006_data_transfer_exchanges'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulkOperation',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('action', models.CharField(max_length=32)),
                ('parameters', models.JSONField(blank=True, default=dict)),
                ('selection_identities', models.JSONField(blank=True, default=list)),
                ('selection_filter', models.JSONField(blank=True, default=dict)),
                ('state', models.CharField(choices=[('running', 'Running'), ('finished', 'Finished')], default='running', max_length=10)),
                ('source', models.CharField(blank=True, max_length=100)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='BulkTarget',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('identity', models.CharField(max_length=48)),
                ('position', models.PositiveIntegerField()),
                ('outcome', models.CharField(choices=[('queued', 'Queued'), ('sent', 'Sent'), ('accepted', 'Accepted'), ('rejected', 'Rejected'), ('error', 'Error'), ('timeout', 'Timeout'), ('offline', 'Offline'), ('not_supported', 'not supported')], default='queued', max_length=16)),
                ('detail', models.CharField(blank=True, max_length=200)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('command', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='csms.command')),
                ('operation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='targets', to='stations.bulkoperation')),
                ('station', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='bulk_targets', to='stations.station')),
            ],
            options={
                'ordering': ['operation', 'position'],
                'indexes': [models.Index(fields=['operation', 'outcome'], name='bulk_target_outcome_idx')],
                'constraints': [models.UniqueConstraint(fields=('operation', 'station'), name='unique_station_per_bulk_operation')],
            },
        ),
    ]
