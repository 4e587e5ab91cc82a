"""Every URL of the service is under /api; anything else is a 404 in the envelope."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.urls import path

from ..core.responses import error_response
from .api import api

urlpatterns = [path("api/", api.urls)]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    return error_response(request, 400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    return error_response(request, 403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponseBase:
    return error_response(request, 404)


def server_error(request: HttpRequest) -> HttpResponseBase:
    return error_response(request, 500)


handler400 = bad_request
handler403 = permission_denied
handler404 = page_not_found
handler500 = server_error
