"""The moderators' panel: the Django admin, one module per subject; importing each registers it.

- `moderation`: incidents, reports, evidence and the audit log (the queues and decisions)
- `decisions`: the incident page's buttons, complaint drafts, evidence originals
- `people`: places, observers, staff and roles; `imports`: station and observer files
- `elections`: elections (archived, never deleted) and incident categories (retired when used)
- `alerts`, `coverage`, `protocols`: alert subscriptions; assignments, mobile groups and
  coverage rules; turnout counts, protocol copies and statistics
- `quickcount`: quick-count samples (drawn here) and their estimates
- `dashboard`: the headquarters' dashboard; `filters` and `base`: shared building blocks
- partner tokens and export jobs live with the API (`reports.api.admin`)
"""

from reports.admin import (  # noqa: F401 (registers)
    alerts,
    coverage,
    dashboard,
    decisions,
    elections,
    moderation,
    people,
    protocols,
    quickcount,
)
from reports.api import admin as api_admin  # noqa: F401 (partner tokens and export jobs)
