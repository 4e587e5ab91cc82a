"""Notes: the example resource that users own (AUTHZ-03, VAL-01..03, DB-01)."""
