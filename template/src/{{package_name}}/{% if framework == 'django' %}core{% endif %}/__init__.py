"""What every request goes through (ids, headers, limits, errors, logs), and shared API shapes."""
