"""The NinjaAPI: every app's router, the error envelope and the API document.

Routers are mounted here, each under its prefix, and define their paths
relative to it: `accounts.api.router` under `/auth` ("/login"), notes under
`/notes` ("" and "/{note_id}", never "/"), admin_api and monitoring under
`/admin`, health at the root. All of it is served under /api (urls.py).

Every exception a view raises ends as the contract's envelope (ERR-01):
`AppError`/`ApiError` with its own status and code, ninja's validation errors
as 422 with `details` that name the field and the rule but never the value,
ninja's HTTP errors and Django's Http404 with the status's safe default
text, and anything else as a logged 500 that says only `internal_error`.
The OpenAPI document (outside production only) lists these error responses
on every operation, with the envelope's schema, so that clients and
fuzzers know what a route may answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_safe
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from .. import SERVICE_NAME
from ..accounts.api import router as accounts_router
from ..admin_api.api import router as admin_router
from ..core.conf import app_settings
from ..core.logging import get_logger
from ..core.responses import error_response
from ..health.api import router as health_router
from ..monitoring.api import router as monitoring_router
from ..notes.api import router as notes_router
from ..security.envelope import RETRY_AFTER, ErrorEnvelope, ValidationErrorEnvelope
from ..security.errors import AppError, ErrorDetail, default_for

log = get_logger(__name__)

# What any route may answer before it runs: a refused Host or Content-Length (400),
# a body over the limit (413), an unexpected failure (500).
TRANSPORT_ERRORS = (400, 413, 500)
# What the routes besides the probes answer: sessions, CSRF and roles, missing rows,
# invalid input and the rate limit.
API_ERRORS = (*TRANSPORT_ERRORS, 401, 403, 404, 422, 429)
PROBE_PATHS = frozenset({"/api/health", "/api/ready"})


# --- strict JSON bodies -------------------------------------------------------------------


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice."""


class NotJSONError(ValueError):
    """The body is not declared as JSON (Content-Type)."""


class NotAnObjectError(ValueError):
    """The body is JSON, but not an object."""


def declares_json(content_type: str) -> bool:
    """`application/json` or a `+json` type: what a JSON body must be sent as."""
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise DuplicateKeyError("a JSON object repeats a key")
    return result


class StrictJSONParser(Parser):
    """JSON bodies are UTF-8 and may not repeat a key within one object (VAL-01).

    Python's parser keeps the last of two equal keys, another parser (a proxy,
    a WAF, a log pipeline) may keep the first: refusing the body removes the
    ambiguity. A leading BOM is tolerated, as RFC 8259 allows. Ninja answers
    either error with 400, rendered in the envelope below.
    """

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # JSON bytes sent as a form or as text are not taken as JSON: a cross-site
        # form can send those without a CORS preflight.
        if not declares_json(str(request.content_type or "").lower()):
            raise NotJSONError("the body is not declared as application/json")
        data = json.loads(request.body.decode("utf-8-sig"), object_pairs_hook=_unique_keys)
        if not isinstance(data, dict):
            raise NotAnObjectError("the body must be a JSON object")
        return data


# --- the envelope -------------------------------------------------------------------------


def field_of(location: Sequence[Any]) -> str:
    """`body.title` for ninja's ("body", "payload", "title"): the parameter name is dropped."""
    parts = [str(part) for part in location]
    if len(parts) >= 3 and parts[0] == "body":
        parts = [parts[0], *parts[2:]]
    return ".".join(parts)


def validation_details(errors: Sequence[dict[str, Any]]) -> list[ErrorDetail]:
    """Field and message of each error, without its input or context (no echoed secrets)."""
    return [
        ErrorDetail(field=field_of(error.get("loc", ())), issue=str(error.get("msg", "invalid")))
        for error in errors
    ]


def on_app_error(request: HttpRequest, exc: AppError) -> HttpResponse:
    return error_response(
        request,
        exc.status,
        code=exc.code,
        message=exc.message,
        details=exc.details,
        headers=exc.headers,
    )


def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(request, 422, details=validation_details(exc.errors))


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    """Ninja's own errors (unparsable body, failed auth) keep their status, lose their text.

    A body that is not JSON at all, or not an object, is a 422 on `body`, as
    the FastAPI backend answers it; one sent under another Content-Type is a 415; one that repeats
    a key or is not UTF-8 stays a 400.
    """
    if isinstance(exc.__cause__, json.JSONDecodeError):
        detail = ErrorDetail(field="body", issue="The body is not valid JSON.")
        return error_response(request, 422, details=[detail])
    if isinstance(exc.__cause__, NotAnObjectError):
        detail = ErrorDetail(field="body", issue="The body must be a JSON object.")
        return error_response(request, 422, details=[detail])
    if isinstance(exc.__cause__, NotJSONError):
        return error_response(request, 415, message="Send the body as application/json.")
    return error_response(request, exc.status_code)


def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404)


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    """The full error goes to the log; the client learns only the request id."""
    log.error("unhandled_error", path=request.path, exc_info=exc)
    return error_response(request, 500)


# --- the API document ---------------------------------------------------------------------


REF = "#/components/schemas/{model}"


def _error_response(status: int) -> dict[str, Any]:
    model = ValidationErrorEnvelope if status == 422 else ErrorEnvelope
    entry: dict[str, Any] = {
        "description": default_for(status)[1],
        "content": {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}},
    }
    if status == 429:
        entry["headers"] = RETRY_AFTER
    return entry


def document_errors(schema: OpenAPISchema) -> None:
    """Add the envelope to every operation's error responses, and its schemas to components.

    Ninja's cookie security schemes are left out, as the FastAPI backend's
    document has none: the session cookie is `session` in development (where
    the document is served) and `__Host-session` in production, so the
    documented name would be wrong for production clients and fuzzers.
    Which routes need a session is said by their 401 response and API.md.
    """
    schema.get("components", {}).pop("securitySchemes", None)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (ErrorEnvelope, ValidationErrorEnvelope):
        definition = model.model_json_schema(ref_template=REF)
        components.update(definition.pop("$defs", {}))
        components[model.__name__] = definition
    for path, operations in schema.get("paths", {}).items():
        statuses = TRANSPORT_ERRORS if path in PROBE_PATHS else API_ERRORS
        for operation in operations.values():
            operation.pop("security", None)
            responses = operation.setdefault("responses", {})
            documented = {int(status) for status in responses if str(status).isdigit()}
            for status in sorted({*statuses, *(s for s in documented if s >= 400)}):
                described = responses.get(status) or responses.get(str(status)) or {}
                responses.pop(status, None)
                entry = _error_response(status)
                if described.get("description"):
                    entry["description"] = described["description"]
                responses[str(status)] = entry


ErrorT = TypeVar("ErrorT", bound=Exception)


def handle(
    api: NinjaAPI, kind: type[ErrorT], render: Callable[[HttpRequest, ErrorT], HttpResponse]
) -> None:
    """Register `render` for `kind` (and its subclasses) on the API."""

    def handler(request: HttpRequest, exc: ErrorT | type[ErrorT]) -> HttpResponse:
        if not isinstance(exc, kind):  # ninja passes the raised instance
            raise TypeError(f"{kind.__name__} handler called with {exc!r}")
        return render(request, exc)

    api.add_exception_handler(kind, handler)


class ServiceAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_errors(schema)
        return schema


def build_api() -> NinjaAPI:
    docs = app_settings().api_docs_enabled
    api = ServiceAPI(
        title=SERVICE_NAME,
        openapi_url="/openapi.json" if docs else None,
        docs_url="/docs" if docs else None,
        # The document and its page answer GET (and HEAD) only; other methods get 405.
        docs_decorator=require_safe,
        parser=StrictJSONParser(),
    )
    handle(api, AppError, on_app_error)
    handle(api, ValidationError, on_validation_error)
    handle(api, HttpError, on_http_error)
    handle(api, Http404, on_not_found)
    handle(api, Exception, on_unexpected)
    api.add_router("", health_router)
    api.add_router("/auth", accounts_router)
    api.add_router("/notes", notes_router)
    api.add_router("/admin", admin_router)
    api.add_router("/admin", monitoring_router)
    return api


api = build_api()
