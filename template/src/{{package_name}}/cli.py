"""The service's one command, the same whatever the framework: serve, migrate, check."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from .settings import ConfigurationError, Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def load_settings() -> Settings:
    """Settings, or exit with one line per problem: a bad value must not print a traceback."""
    try:
        settings = Settings()
        settings.check()
    except ValidationError as error:
        problems = [f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()]
        fail(problems)
    except ConfigurationError as error:
        fail(error.problems)
    return settings


def fail(problems: list[str]) -> None:
    print("Refusing to run; fix these settings:", file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)
    raise SystemExit(1)


def check(_args: argparse.Namespace) -> None:
    settings = load_settings()
    print(f"Configuration is valid for {settings.environment}.")


def migrate(_args: argparse.Namespace) -> None:
    from alembic import command
    from alembic.config import Config

    settings = load_settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = settings.database_url
    command.upgrade(config, "head")
    print("Database is up to date.")


def create_admin(args: argparse.Namespace) -> None:
    """Create the first administrator; the password is prompted for or read from stdin."""
    from .core.database import Database
    from .security.errors import AppError
    from .services import build_services

    settings = load_settings()
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != password:
            fail(["the two passwords differ"])
    database = Database(settings.database_url)
    accounts = build_services(settings, database).accounts
    try:
        with database.sessions.begin() as session:
            admin = accounts.create_admin(session, args.email.strip().lower(), password)
    except AppError as error:
        fail([error.message, *(detail["issue"] for detail in error.details)])
    finally:
        database.engine.dispose()
    print(f"Administrator {admin.email} created.")


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    settings = load_settings()
    uvicorn.run(
        f"{__package__}.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        # X-Forwarded-* is believed only from the proxies listed in TRUSTED_PROXIES.
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or None,
        server_header=False,
        access_log=False,
        log_config=None,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve_parser = commands.add_parser("serve", help="run the HTTP server")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    serve_parser.add_argument("--reload", action="store_true", help="development only")
    serve_parser.add_argument("--ssl-certfile")
    serve_parser.add_argument("--ssl-keyfile")
    serve_parser.set_defaults(handler=serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(handler=migrate)
    admin_parser = commands.add_parser("create-admin", help="create an administrator account")
    admin_parser.add_argument("--email", required=True)
    admin_parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    admin_parser.set_defaults(handler=create_admin)
    commands.add_parser("check", help="validate settings without starting").set_defaults(
        handler=check
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.handler(args)
