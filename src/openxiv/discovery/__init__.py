"""Discovery: RSS/Atom feeds, OAI-PMH harvesting, full-text search, trending and daily papers (with a
Hugging-Face-compatible JSON API) and e-mail digests, all read from one public read model
(`models.discovery.DiscoveryEntry`) that a job keeps in step with each submission."""
