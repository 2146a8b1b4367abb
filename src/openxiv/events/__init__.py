"""What happened to submissions, recorded once and handed to whoever subscribes.

Domains call `events.service.record*` inside the transaction that made the change; the row is an
outbox, so subscribers (jobs in other domains, and later the event stream and webhooks) see the
event only once it is durable, and see it even if the process died right after the commit.
"""
