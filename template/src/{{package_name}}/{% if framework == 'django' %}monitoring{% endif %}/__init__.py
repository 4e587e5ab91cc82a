"""Security monitoring: the event stream, detection in the background, alerts (LOG-01..03).

Other apps report events through `services.emit` (or `services.report_audited`
for audited actions); `middleware.SecurityEventMiddleware` reports refusals.
"""
