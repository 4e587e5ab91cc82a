"""Multi-factor authentication: TOTP with single-use recovery codes (AUTH-06)."""
