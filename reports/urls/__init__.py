"""URL lists, one per subject as in `reports.views`; `observer.urls` includes each."""
