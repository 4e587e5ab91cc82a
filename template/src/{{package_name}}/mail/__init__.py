"""Outgoing email: verification and password-reset messages."""
