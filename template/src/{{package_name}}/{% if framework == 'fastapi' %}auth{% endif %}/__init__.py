"""Accounts, sessions and the authentication routes."""
