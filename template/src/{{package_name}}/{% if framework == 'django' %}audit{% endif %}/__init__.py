"""The append-only audit log of security and admin actions (ERR-03)."""
