"""Rate limits and the shared counters behind them (RATE-01, RATE-02)."""
