"""External reviewers: reviews and votes from outside the platform's panel, and the upgrade to
accepted they decide (service), their request and answer models (schemas) and the REST routes (api)."""
