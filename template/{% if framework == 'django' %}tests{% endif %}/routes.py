"""Every URL the application serves, found by walking Django's URL resolver (AUTHZ-01).

The walk does not trust a list of protected routes, nor only the NinjaAPI: it
follows every URL pattern Django would resolve, so a view added tomorrow
outside the API, without a session check, is found too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern

# API.md, "Deny by default": the only routes that answer without a session.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/api/health"),
        ("GET", "/api/ready"),
        ("GET", "/api/auth/csrf"),
        ("POST", "/api/auth/signup"),
        ("POST", "/api/auth/login"),
        ("POST", "/api/auth/password-reset/request"),
        ("POST", "/api/auth/password-reset/confirm"),
        ("POST", "/api/auth/verify-email"),
    }
)
# Public outside production only.
DOCS_ROUTES = frozenset({("GET", "/api/openapi.json"), ("GET", "/api/docs")})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
EVERY_METHOD = ("DELETE", "GET", "OPTIONS", "PATCH", "POST", "PUT")
CONVERTER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    """A URL pattern: its path template (`/api/notes/{note_id}`) and the view behind it."""

    template: str | None  # None: a regular expression this walker cannot fill in
    raw: str
    callback: Any

    @property
    def operations(self) -> list[Any] | None:
        """The NinjaAPI operations behind the view, or None for a view of another kind."""
        return ninja_operations(self.callback)

    @property
    def methods(self) -> list[str]:
        """The methods the view answers: a NinjaAPI path lists its operations' methods;
        any other view is tried with every method."""
        operations = self.operations
        if operations is None:
            return list(EVERY_METHOD)
        methods = {method.upper() for operation in operations for method in operation.methods}
        methods.discard("HEAD")
        return sorted(methods)

    def concrete(self, value: object) -> str:
        """The path with every parameter filled with `value`."""
        assert self.template is not None
        return re.sub(r"\{\w+\}", str(value), self.template)


def ninja_operations(view: Any) -> list[Any] | None:
    """The operations of a NinjaAPI path view: its `PathView` is the view function's
    `__self__` or sits in the closure of the wrapper django-ninja makes."""
    candidates = [getattr(view, "__self__", None)]
    for cell in getattr(view, "__closure__", None) or ():
        try:
            candidates.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    for candidate in candidates:
        operations = getattr(candidate, "operations", None)
        if isinstance(operations, list):
            return operations
    return None


def _walk(patterns: list[Any], prefix: str) -> Iterator[Route]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(list(pattern.url_patterns), prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            raw = prefix + str(pattern.pattern)
            routed = isinstance(pattern.pattern, RoutePattern)
            template = "/" + CONVERTER.sub(r"{\g<name>}", raw) if routed else None
            if not routed and not re.search(r"[()\[\]\\.*+?{}|]", raw.strip("^$")):
                template = "/" + raw.strip("^$")  # a regex with no group: a plain path
            yield Route(template, raw, pattern.callback)


def served_routes() -> list[Route]:
    """Every URL pattern of the current URLconf, included ones at any depth."""
    resolver = get_resolver()
    return list(_walk(list(resolver.url_patterns), ""))


def public_routes(*, production: bool) -> frozenset[tuple[str, str]]:
    return PUBLIC_ROUTES if production else PUBLIC_ROUTES | DOCS_ROUTES


def error_code(response: httpx.Response) -> str | None:
    """The envelope's code, or None when the body is not the envelope (or not JSON at all)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    body = response.json()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, str) else None
    return None


def serves_nothing(route: Route, code: str | None) -> bool:
    """A plain (non-ninja) view that refuses the method, or answers 404 at a path with
    no parameter (django-ninja's API root): there is nothing behind it to protect."""
    if code == "method_not_allowed":
        return True
    return code == "not_found" and "{" not in (route.template or "{")


def unprotected_routes(
    client: httpx.Client, *, production: bool, csrf_token: str | None = None
) -> list[str]:
    """Every (method, path) outside the public list that does not answer 401
    `not_authenticated` to a request without a session, as `METHOD path -> status`.

    Unsafe methods carry a valid CSRF pair, so it is the missing session, not CSRF,
    that must refuse them; path parameters get a random UUID, valid for any type.
    Patterns this walker cannot fill in (regular expressions) are reported too:
    they would escape the check.
    """
    allowed = public_routes(production=production)
    token = csrf_token or client.get("/api/auth/csrf").json()["csrf_token"]
    found = []
    for route in served_routes():
        if route.template is None:
            found.append(f"{route.raw} -> not checkable")
            continue
        for method in route.methods:
            if (method, route.template) in allowed:
                continue
            headers = {"X-CSRFToken": token} if method in UNSAFE_METHODS else {}
            response = client.request(method, route.concrete(uuid.uuid4()), headers=headers)
            code = error_code(response)
            if route.operations is None and serves_nothing(route, code):
                continue
            if response.status_code != 401 or code != "not_authenticated":
                found.append(f"{method} {route.template} -> {response.status_code}")
    return found
