"""Celery task of the quick count: re-estimate one sample from the stored copies.

It rewrites the sample's stored estimate from stored rows, so running it twice is harmless
and acks_late is safe.
"""

from celery import shared_task

from reports.models import QuickCountSample
from reports.services.quickcount import quickcount_estimate
from reports.tasks.policy import RETRY


@shared_task(
    name="reports.quickcount_estimate_task",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=300,
    time_limit=360,
    **RETRY,
)
def quickcount_estimate_task(sample_id: int) -> None:
    sample = QuickCountSample.objects.select_related("election").filter(pk=sample_id).first()
    if sample is not None:
        quickcount_estimate(sample=sample)
