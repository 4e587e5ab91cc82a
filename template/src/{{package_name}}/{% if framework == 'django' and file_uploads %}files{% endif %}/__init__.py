"""File uploads: content checks, malware scanning, private storage (UP-01..04)."""
