"""The application factory: one place that shows every layer a request goes through."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from starlette.types import Scope

from . import SERVICE_NAME
from .admin.routes import router as admin_router
from .auth import routes as auth_routes
from .auth.dependencies import default_rate_limit, require_authenticated, verify_csrf
from .core.database import Database
from .core.errors import install_error_handlers
from .core.logging import configure_logging
from .core.middleware import EnvelopeCORSMiddleware, SecurityMiddleware
from .core.openapi import API_ERRORS, TRANSPORT_ERRORS, error_responses
from .health.routes import router as health_router
from .notes.routes import router as notes_router
from .services import Services, build_services
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
    install_services(app, build_services(settings, database))
    install_error_handlers(app)
    install_routes(app)

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


def install_services(app: FastAPI, services: Services) -> None:
    """Expose each collaborator on `app.state`, where the dependencies look for it."""
    for name, value in vars(services).items():
        setattr(app.state, name, value)


def install_routes(app: FastAPI) -> None:
    """Deny by default (AUTHZ-01): a route is public only if it is mounted on `public`.

    Everything under `/api` except the probes goes through CSRF and the general
    rate limit; everything outside `public` also needs a signed-in session.
    The error envelope is documented on every route (core/openapi.py).
    """
    app.include_router(
        health_router, prefix=API_PREFIX, responses=error_responses(*TRANSPORT_ERRORS)
    )
    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(verify_csrf), Depends(default_rate_limit)],
        responses=error_responses(*API_ERRORS),
    )
    public = APIRouter()
    public.include_router(auth_routes.public_router)
    protected = APIRouter(dependencies=[Depends(require_authenticated)])
    protected.include_router(auth_routes.router)
    protected.include_router(notes_router)
    protected.include_router(admin_router)
    api.include_router(public)
    api.include_router(protected)
    app.include_router(api)
