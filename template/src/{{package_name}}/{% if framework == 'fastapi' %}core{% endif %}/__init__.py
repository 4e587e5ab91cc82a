"""FastAPI adapters: logging, middleware, error handlers and the database session."""
