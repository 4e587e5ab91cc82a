"""Accounts: users, sign-in, sessions, passwords, emailed tokens (AUTH-01..05, 07..09)."""
