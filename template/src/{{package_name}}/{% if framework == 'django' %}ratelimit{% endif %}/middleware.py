"""The general rate limit of every API route (RATE-01): per user when signed in, else per address.

Routes with limits of their own (login, signup, password reset) count those
too. The probes and the API document are not limited, as in the FastAPI
backend, whose limit is a dependency of the API's routers only. The limit is
checked in `process_view`, after the CSRF middleware has refused what it
refuses, like the FastAPI backend's route dependencies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponseBase

from ..core.conf import app_settings
from ..core.context import client_ip
from ..core.responses import error_response
from ..security.errors import AppError
from .services import general_limiter

GetResponse = Callable[[HttpRequest], HttpResponseBase]

API_PREFIX = "/api/"
# The probes (polled by orchestrators) and the API document (outside production only).
UNLIMITED = frozenset({"/api/health", "/api/ready", "/api/openapi.json", "/api/docs"})


def rate_subject(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


class DefaultRateLimitMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.rate = app_settings().rate_limit_default

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        _view: Callable[..., Any],
        _args: tuple[Any, ...],
        _kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if not request.path.startswith(API_PREFIX) or request.path in UNLIMITED:
            return None
        try:
            general_limiter().check("default", rate_subject(request), self.rate)
        except AppError as error:
            return error_response(
                request, error.status, code=error.code, message=error.message, headers=error.headers
            )
        return None
