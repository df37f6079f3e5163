"""Every time anyone gives the site has a domain; this module is the one check of it.

A time is accepted only when (1) its offset from UTC lies within ±14 hours, the widest any
real zone uses (PostgreSQL refuses some wider ones, Python others), and (2) it lies between
the years 2000 and 2100, well inside what PostgreSQL and Python can store and read back in
every zone. A report's time must also lie in its election's window: from
REPORT_DAYS_BEFORE_POLLS days before election day (early voting) to CLOCK_SLACK after now.

The forms, the send endpoint, the API, the list filters, the export filters and the admin
use `MomentField` or `moment_check`; the database repeats the year range as CHECK constraints
(`moment_constraint`), so a path that skips them all still cannot store an unreadable time.
"""

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
OFFSET_LIMIT = timedelta(hours=14)
# The device clock is not trusted, but a time well in the future is a mistake worth showing.
CLOCK_SLACK = timedelta(minutes=10)
REPORT_DAYS_BEFORE_POLLS = 15


def moment_check(value: datetime) -> datetime:
    """The time itself if it has a real offset and lies in the years 2000–2099; else raise
    ValidationError. A naive time is taken in the current zone."""
    value = _offset_check(value)
    if not EARLIEST <= value < LATEST:
        raise ValidationError(
            _("Give a time between the years %(first)s and %(last)s."),
            code="time_range",
            params={"first": EARLIEST.year, "last": LATEST.year - 1},
        )
    return value


def report_time_check(value: datetime, *, election_day: date, zone: tzinfo) -> datetime:
    """moment_check, and the time lies in the election's window: from a few days before
    election day (early voting) to a little after now."""
    value = _offset_check(value)
    if value > timezone.now() + CLOCK_SLACK:
        raise ValidationError(
            _("This time is in the future. Check the time and your phone's clock."),
            code="time_future",
        )
    day_start = datetime.combine(election_day, time(0), tzinfo=zone)
    if value < day_start - timedelta(days=REPORT_DAYS_BEFORE_POLLS):
        raise ValidationError(
            _("This time is before the election. Check the date and your phone's clock."),
            code="time_past",
        )
    return moment_check(value)


def _offset_check(value: datetime) -> datetime:
    """The time, made aware in the current zone if naive, if its offset is within ±14 h.
    Comparing aware times is safe at any year; converting them is not."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    offset = value.utcoffset()
    if offset is None or abs(offset) > OFFSET_LIMIT:
        raise ValidationError(
            _("A time zone offset must lie between −14:00 and +14:00."), code="time_offset"
        )
    return value


class MomentField(forms.DateTimeField):
    """A DateTimeField that takes only text (or a datetime) and applies moment_check."""

    default_validators = [moment_check]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str | datetime):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return super().to_python(value)
        except OverflowError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def moment_constraint(table: str, field: str, *, null: bool = False) -> models.CheckConstraint:
    """A CHECK that `field` lies in the years the site can store and read back."""
    check = models.Q(**{f"{field}__gte": EARLIEST, f"{field}__lt": LATEST})
    if null:
        check |= models.Q(**{f"{field}__isnull": True})
    return models.CheckConstraint(condition=check, name=f"{table}_{field}_in_range")
