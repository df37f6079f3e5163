"""Every write of the domain goes through a function in this package: `<thing>_<verb>`,
keyword-only, typed, atomic. Views, the API, admin actions, tasks and management commands
call these; nothing else writes. Import from the submodule, e.g.
`from reports.services.submission import report_submit`.
"""
