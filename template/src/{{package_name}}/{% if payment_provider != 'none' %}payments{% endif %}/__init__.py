"""Payments: server-priced checkout, the buyer's orders, and verified provider webhooks."""
