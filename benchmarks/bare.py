"""The bare hello-world apps the protected service is measured against, written at run time.

Each is the smallest app of its framework that answers the benchmarked
routes: no middleware, no session, no database, no rate limit, no security
header; `GET /api/notes` answers the very JSON the service answered for the
benchmark's user (so both sides send the same bytes), `POST /api/auth/login`
parses the JSON body and answers a small object. The route functions are
plain `def`s, as the generated service's are, so that the comparison is not
one of sync against async routes.

Each is served the way the generated project's `serve` serves the service:
FastAPI with the same `uvicorn.run` options as its cli.py; Django with the
project's own Gunicorn setup (core/server.py: worker class, threads,
timeouts), imported from the project itself. Same workers, the same
certificate over HTTPS, the same trusted proxy, from the same virtualenv.
They are not part of the repository's checked code: they import FastAPI or
Django, which live in the generated project's virtualenv, not in the harness's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

APP_MODULE = "bare_app"
RUNNER = "serve_bare.py"
BODY_FILE = "notes.json"

FASTAPI_APP = '''\
"""A bare FastAPI hello-world (written by Rampart's benchmarks)."""

import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI

NOTES = json.loads((Path(__file__).parent / "notes.json").read_text(encoding="utf-8"))

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/api/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/api/notes")
def notes() -> Any:
    return NOTES


@app.post("/api/auth/login")
def login(body: dict[str, Any]) -> dict[str, Any]:
    return {"email": body.get("email")}
'''

# The options of the generated cli.py's `serve` (template: cli.py's uvicorn.run).
FASTAPI_RUNNER = '''\
"""Serve bare_app like the generated service's `serve` (uvicorn, same options)."""

import sys

import uvicorn


def main() -> None:
    host, port, workers, certfile, keyfile, proxies, _package = sys.argv[1:8]
    uvicorn.run(
        "bare_app:app",
        host=host,
        port=int(port),
        workers=int(workers),
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        server_header=False,
        access_log=False,
        log_config=None,
    )


# uvicorn's workers are spawned processes: they import this file again, as __mp_main__.
if __name__ == "__main__":
    main()
'''

DJANGO_APP = '''\
"""A bare Django hello-world (written by Rampart's benchmarks): no middleware, no apps."""

import json
from pathlib import Path

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path

NOTES = json.loads((Path(__file__).parent / "notes.json").read_text(encoding="utf-8"))

settings.configure(
    DEBUG=False,
    SECRET_KEY="bare-hello-world-" + "x" * 40,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def notes(request: HttpRequest) -> JsonResponse:
    return JsonResponse(NOTES, safe=False)


def login(request: HttpRequest) -> JsonResponse:
    body = json.loads(request.body)
    return JsonResponse({"email": body.get("email")})


urlpatterns = [
    path("api/health", health),
    path("api/notes", notes),
    path("api/auth/login", login),
]

application = get_wsgi_application()
'''

# The generated project's own Gunicorn setup (core/server.py), as its `serve` uses it.
DJANGO_RUNNER = '''\
"""Serve bare_app like the generated service's `serve` (its own Gunicorn setup)."""

import sys
from importlib import import_module


def main() -> None:
    host, port, workers, certfile, keyfile, proxies, package = sys.argv[1:8]
    server = import_module(f"{package}.core.server")
    options = server.gunicorn_options(
        host=host,
        port=int(port),
        workers=int(workers),
        trusted_proxies=[p for p in proxies.split(",") if p],
        certfile=certfile,
        keyfile=keyfile,
        reload=False,
        log_level="INFO",
    )
    server.Server("bare_app.application", options).run()


if __name__ == "__main__":
    main()
'''

SOURCES: dict[str, tuple[str, str]] = {
    "fastapi": (FASTAPI_APP, FASTAPI_RUNNER),
    "django": (DJANGO_APP, DJANGO_RUNNER),
}


def write_bare_app(framework: str, directory: Path, notes_body: Any) -> Path:
    """Write the framework's bare app, its runner and the body it answers; the runner's path."""
    try:
        app, runner = SOURCES[framework]
    except KeyError:
        raise ValueError(f"no bare app for the framework {framework!r}") from None
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{APP_MODULE}.py").write_text(app, encoding="utf-8")
    (directory / RUNNER).write_text(runner, encoding="utf-8")
    (directory / BODY_FILE).write_text(json.dumps(notes_body), encoding="utf-8")
    return directory / RUNNER
