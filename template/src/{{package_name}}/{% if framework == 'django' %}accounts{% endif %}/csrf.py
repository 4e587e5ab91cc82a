"""CSRF for every state-changing request, login and signup included (AUTH-08).

Django's CsrfViewMiddleware does the work (the readable `csrftoken` cookie, the
`X-CSRFToken` header, constant-time comparison, Origin checks), with two changes:

- django-ninja marks its views `csrf_exempt` and leaves CSRF to its auth
  classes, which would leave the public routes (login, signup) unprotected.
  `CsrfMiddleware` ignores that mark: every unsafe request is checked.
- Over HTTPS Django also demands a same-origin Referer when no Origin header is
  sent. The API's own `Referrer-Policy: no-referrer` strips Referer, and API
  clients (and the contract's tests) send neither header, so that rule would
  refuse every legitimate request. Browsers send Origin on every cross-site
  unsafe request, and it is still checked against the host and
  CSRF_TRUSTED_ORIGINS whenever present; a Referer, when sent, is still
  checked too. Without either, the token (a secret the attacker's page cannot
  read) decides, as on plain HTTP.

`csrf_failure` (CSRF_FAILURE_VIEW) answers 403 `csrf_failed` in the envelope and
sets no cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware

from ..core.responses import error_response

CSRF_FAILED_MESSAGE = "The CSRF token is missing or wrong."


def _checked_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    """Stands in for the real view so that its `csrf_exempt` mark is not seen."""
    raise NotImplementedError


class CsrfMiddleware(CsrfViewMiddleware):
    """CsrfViewMiddleware that checks ninja's views too."""

    def process_view(
        self,
        request: HttpRequest,
        callback: Callable[..., HttpResponseBase],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseForbidden | None:
        return super().process_view(request, _checked_view, callback_args, callback_kwargs)

    def _check_referer(self, request: HttpRequest) -> None:
        """Check a Referer when one is sent; its absence alone is no reason to refuse.

        (`_check_referer` is Django's, missing from its type stubs.)
        """
        if request.META.get("HTTP_REFERER") is None:
            return
        super()._check_referer(request)  # type: ignore[misc]


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 `csrf_failed`; Django's reason stays out of the answer (it names the mechanism).

    A refused request sets no cookie: Django would replace a malformed `csrftoken`
    on the way out, but a forged request must change nothing (the client asks
    `GET /api/auth/csrf` for a new token).
    """
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = False
    return error_response(request, 403, code="csrf_failed", message=CSRF_FAILED_MESSAGE)
