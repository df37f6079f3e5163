"""Cursor pagination for every list, and the cursor of incremental sync.

Browsing: `?cursor=` links, as DRF's CursorPagination makes them. Mirroring: `?changed_since=`
(empty to start) walks rows in (updated_at, id) order; each page's `next` resumes after its
last row and is never null, so a partner keeps it and follows it again later.
"""

import base64
import binascii
from datetime import datetime

from django.core.exceptions import ValidationError as TimeInvalid
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination

from reports.domain.times import moment_check

SYNC_PARAM = "changed_since"


class RecordPagination(CursorPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"

    def get_paginated_response_schema(self, schema: dict) -> dict:
        response = super().get_paginated_response_schema(schema)
        response["properties"]["removed"] = {
            "type": "array",
            "items": {"type": "integer"},
            "description": (
                f"With ?{SYNC_PARAM}= only: ids of rows that changed and are no longer "
                "visible to the caller (e.g. an incident no longer verified)."
            ),
        }
        return response


def sync_cursor_encode(updated_at: datetime, pk: int) -> str:
    raw = f"{updated_at.isoformat()}|{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def sync_cursor_decode(value: str) -> tuple[datetime, int] | None:
    """(updated_at, id) to resume after, or None to start from the beginning.

    Accepts a cursor from a `next` link, or an ISO 8601 time to start from; either time
    must pass moment_check.
    """
    if not value:
        return None
    try:
        moment, pk = _sync_cursor_parse(value)
        return moment_check(moment), pk
    except TimeInvalid as invalid:
        raise ValidationError({SYNC_PARAM: invalid.messages}) from None
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError({SYNC_PARAM: [_("Invalid cursor.")]}) from None


def _sync_cursor_parse(value: str) -> tuple[datetime, int]:
    moment = parse_datetime(value)
    if moment is not None and moment.tzinfo is not None:
        return moment, 0
    text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    stamp, pk = text.rsplit("|", 1)
    moment = datetime.fromisoformat(stamp)
    if moment.tzinfo is None or not 0 <= int(pk) < 2**63:
        raise ValueError(stamp)
    return moment, int(pk)
