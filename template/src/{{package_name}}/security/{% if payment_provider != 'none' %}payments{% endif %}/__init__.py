"""Payment primitives shared by every framework adapter.

Webhook verification for the chosen provider, the order state machine and
idempotency keys live here, free of any web framework or database, so that
each rule is written and tested once.
"""
