"""Questions from moderators about a report, and the observer's answers."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from reports.models import Observer, Question
from reports.services.audit import audit_record


@transaction.atomic
def question_answer(*, question: Question, observer: Observer, answer: str) -> bool:
    """Record the observer's answer; False if the question was already answered.

    Only the observer who sent the report may answer (PermissionDenied otherwise).
    """
    if question.report.observer_id != observer.pk:
        raise PermissionDenied("not this observer's report")
    answered = Question.objects.filter(pk=question.pk, answered_at__isnull=True).update(
        answer=answer.strip(), answered_at=timezone.now()
    )
    if answered:
        audit_record(
            actor=observer.user, action="question_answer", obj=question, after={"answer": answer}
        )
    return bool(answered)
