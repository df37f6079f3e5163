"""Forms, one module per subject as in `reports.views`: they validate input into clean values
or clear errors, and never act (services do)."""
