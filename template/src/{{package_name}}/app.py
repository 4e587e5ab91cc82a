"""The application factory: one place that shows every layer a request goes through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Scope

from . import SERVICE_NAME
from .core.database import Database
from .core.errors import install_error_handlers
from .core.logging import configure_logging
from .core.middleware import EnvelopeCORSMiddleware, SecurityMiddleware
from .health.routes import router as health_router
from .settings import Settings, get_settings

API_PREFIX = "/api"
CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
CORS_HEADERS = ["Content-Type", "X-CSRFToken", "X-Request-ID", "Idempotency-Key"]


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; refuses to, with every reason, when the settings are unsafe."""
    settings = settings or get_settings()
    settings.check()
    configure_logging(settings.log_level)
    database = Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        database.engine.dispose()

    docs = settings.api_docs_enabled
    app = FastAPI(
        title=SERVICE_NAME,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json" if docs else None,
        docs_url=f"{API_PREFIX}/docs" if docs else None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    app.state.database = database
    install_error_handlers(app)
    app.include_router(health_router, prefix=API_PREFIX)

    def body_limit(_scope: Scope) -> int:
        return settings.max_json_body_bytes

    # Added last means outermost: SecurityMiddleware sees every response.
    app.add_middleware(
        EnvelopeCORSMiddleware,
        allow_origins=settings.cors_allowed_origins,
        allow_credentials=True,
        allow_methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
    )
    app.add_middleware(
        SecurityMiddleware,
        allowed_hosts=settings.allowed_hosts,
        production=settings.is_production,
        body_limit=body_limit,
    )
    return app
