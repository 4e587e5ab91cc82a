"""Security monitoring: the event stream, detection in the background, alerts (LOG-01..03)."""
