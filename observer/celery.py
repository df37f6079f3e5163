import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "observer.settings")

app = Celery("observer")
app.config_from_object("django.conf:settings", namespace="CELERY")
# reports.tasks registers every task under its stable name (`reports.<function>`).
app.autodiscover_tasks()
