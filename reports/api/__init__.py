"""The partners' API (DRF): /api/v1/. Views are thin; records are shaped in domain.records."""
