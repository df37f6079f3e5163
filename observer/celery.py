import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observer.settings")

app = Celery("observer")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(related_name="tasks_protocols")
app.autodiscover_tasks(related_name="tasks_exports")
app.autodiscover_tasks(related_name="tasks_coverage")
