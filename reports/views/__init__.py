"""Pages, one module per subject: `volunteers` (sign-in, the report form, "My reports", the
citizen form, health), `coverage` (check-in, coordinators' coverage and mobile groups),
`protocols` (turnout, protocol copies, results and statistics pages), `originals` (downloads
of untouched originals, each logged first)."""
