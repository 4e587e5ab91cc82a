"""Backups and restores of the database (DB-05): checksummed, private, optionally encrypted."""
