"""The Celery app. Without CELERY_BROKER_URL tasks run eagerly in the calling process."""
import os

from celery import Celery
from celery.signals import worker_process_init, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "csms.settings")

app = Celery("csms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
def keep_one_event_loop(**kwargs):
    from csms.ocpp import bridge

    bridge.use_persistent_loop()
