"""Benchmark 2: what the protections cost, against the same framework's bare hello-world.

The service is the richest combination, started exactly as the contract
layer starts a production deployment (tests/contract/servers.py:
`running_deployment`): production settings, its own `serve` command with
the given workers, HTTPS with a throwaway CA, SMTP to a sink, and the
provider stub, clamd and Redis that its answers need. Production requires
HTTPS (Secure `__Host-` cookies, HSTS, an https PUBLIC_URL) and the service
is served over TLS by its own server, so the bare app is served over TLS
too, with the same certificate, server, options and workers (bare.py): the
TLS cost falls on both sides.

A user signs up, verifies the email and signs in through the API with the
contract layer's client; wrk then replays its session cookie and CSRF token.
Two routes are measured:

- `GET /api/notes`: every protection a signed-in read goes through (host
  check, security headers, request id, session lookup, rate limit, ...);
- `POST /api/auth/login`: bounded by Argon2 by design (a password check is
  meant to be slow); it is reported as it is, not tuned.

The rate limits are raised for the run (BENCH_SETTINGS): the limiter still
counts every request, but a load generator from one address would otherwise
measure 429 answers. Any answer that is not 2xx fails the benchmark instead
of counting as throughput.
"""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from benchmarks.bare import write_bare_app
from benchmarks.generation import BenchmarkError
from benchmarks.stats import Summary, format_percent_change, format_ratio, ratio, render_table
from benchmarks.wrk import Load, WrkResult, request_script, run_wrk

from combinations import ContractTarget
from contract.client import CSRF_COOKIE, CSRF_HEADER, Account, Browser, new_email, new_password
from contract.client import token_from as mail_token
from contract.servers import (
    HOST,
    Deployment,
    HarnessError,
    ServerProcess,
    running_deployment,
)
from helpers import clean_env
from postgres import PostgresServer, free_loopback_port

# Limits high enough that the run measures served requests, not 429s (module docstring).
UNLIMITED = "1000000000/minute"
BENCH_SETTINGS = {
    "RATE_LIMIT_DEFAULT": UNLIMITED,
    "RATE_LIMIT_LOGIN_IP": UNLIMITED,
    "RATE_LIMIT_LOGIN_ACCOUNT": UNLIMITED,
}

NOTES = "GET /api/notes"
LOGIN = "POST /api/auth/login"
ENDPOINTS = (NOTES, LOGIN)
SIDES = ("bare", "service")

# Why both sides are served over HTTPS, for the JSON report.
TRANSPORT = (
    "HTTPS on both sides, terminated by the app's own server with the same certificate and "
    "workers: production requires it (Secure __Host- session cookie, HSTS, an https "
    "PUBLIC_URL; Django also redirects plain HTTP with SECURE_SSL_REDIRECT), so a plain-HTTP "
    "run would measure redirects or cookies no browser sends; TLS costs both sides alike"
)


@dataclass(frozen=True)
class LoadSettings:
    """Everything that shapes the load: the same on both sides."""

    load: Load
    workers: int
    rounds: int
    warmup_s: float
    notes: int

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.load.as_dict(),
            "workers": self.workers,
            "rounds": self.rounds,
            "warmup_s": self.warmup_s,
            "notes_of_the_user": self.notes,
            "settings_changed_for_the_run": BENCH_SETTINGS,
        }


@dataclass
class ProtectionResult:
    """wrk's results per endpoint and side, one per round."""

    framework: str
    answers: dict[str, Any]
    settings: LoadSettings
    runs: dict[str, dict[str, list[WrkResult]]] = field(
        default_factory=lambda: {e: {s: [] for s in SIDES} for e in ENDPOINTS}
    )

    def rps(self, endpoint: str, side: str) -> Summary:
        return Summary.of([r.requests_per_second for r in self.runs[endpoint][side]])

    def latency(self, endpoint: str, side: str, percentile: str) -> Summary:
        return Summary.of([getattr(r, f"{percentile}_ms") for r in self.runs[endpoint][side]])

    def rps_ratio(self, endpoint: str) -> float | None:
        """Median requests per second of the service over the bare app's (1.0: free)."""
        return ratio(self.rps(endpoint, "service").median, self.rps(endpoint, "bare").median)

    def as_dict(self) -> dict[str, Any]:
        endpoints: dict[str, Any] = {}
        for endpoint in ENDPOINTS:
            entry: dict[str, Any] = {}
            for side in SIDES:
                entry[side] = {
                    "requests_per_second": self.rps(endpoint, side).as_dict(),
                    "p50_ms": self.latency(endpoint, side, "p50").as_dict(),
                    "p99_ms": self.latency(endpoint, side, "p99").as_dict(),
                    "rounds": [r.as_dict() for r in self.runs[endpoint][side]],
                }
            entry["ratio_rps_service_to_bare"] = self.rps_ratio(endpoint)
            entry["ratio_p50_service_to_bare"] = ratio(
                self.latency(endpoint, "service", "p50").median,
                self.latency(endpoint, "bare", "p50").median,
            )
            entry["ratio_p99_service_to_bare"] = ratio(
                self.latency(endpoint, "service", "p99").median,
                self.latency(endpoint, "bare", "p99").median,
            )
            endpoints[endpoint] = entry
        return {
            "answers": self.answers,
            "transport": TRANSPORT,
            "load": self.settings.as_dict(),
            "endpoints": endpoints,
        }

    def table(self) -> str:
        load = self.settings.load
        rows = []
        for endpoint in ENDPOINTS:
            for side in SIDES:
                rps = self.rps(endpoint, side)
                rows.append(
                    [
                        f"{endpoint} {side}",
                        f"{rps.median:.0f}",
                        f"{rps.min:.0f}-{rps.max:.0f}",
                        f"{self.latency(endpoint, side, 'p50').median:.1f}",
                        f"{self.latency(endpoint, side, 'p99').median:.1f}",
                    ]
                )
            value = self.rps_ratio(endpoint)
            rows.append(
                [
                    f"{endpoint} service/bare",
                    format_ratio(value),
                    format_percent_change(value),
                    format_ratio(
                        ratio(
                            self.latency(endpoint, "service", "p50").median,
                            self.latency(endpoint, "bare", "p50").median,
                        )
                    ),
                    format_ratio(
                        ratio(
                            self.latency(endpoint, "service", "p99").median,
                            self.latency(endpoint, "bare", "p99").median,
                        )
                    ),
                ]
            )
        title = (
            f"Cost of the protections: {self.framework}, {self.settings.workers} workers, HTTPS, "
            f"wrk {load.threads} threads {load.connections} connections {load.duration_s:g} s, "
            f"median of {self.settings.rounds} rounds"
        )
        headers = ["endpoint, side", "req/s", "range/change", "p50 ms", "p99 ms"]
        return title + "\n" + render_table(headers, rows)


def require(condition: bool, message: str) -> None:
    """A failed setup step is an error of the benchmark (asserts may be compiled away)."""
    if not condition:
        raise BenchmarkError(message)


def verified_account(deployment: Deployment, prefix: str) -> Account:
    """Sign up through the API and verify the email from the link the SMTP sink received."""
    account = Account(new_email(prefix), new_password())
    client = Browser(deployment.base_url, deployment.tls())
    try:
        response = client.signup(account)
        require(response.status_code == 202, f"signup answered {response.status_code}")
        (message,) = deployment.mail.wait_for(account.email)
        confirmed = client.post("/api/auth/verify-email", {"token": mail_token(message.body)})
        require(confirmed.status_code == 204, f"verify-email answered {confirmed.status_code}")
    finally:
        client.close()
    return account


def signed_in(deployment: Deployment, account: Account) -> Browser:
    client = Browser(deployment.base_url, deployment.tls())
    response = client.full_login(account)
    require(response.status_code == 200, f"login answered {response.status_code}")
    client.account = account
    return client


def session_headers(browser: Browser) -> dict[str, str]:
    """What wrk sends to be this browser: its cookies, CSRF token and client address."""
    return {
        "Cookie": "; ".join(f"{name}={value}" for name, value in browser.cookies.items()),
        CSRF_HEADER: browser.cookies[CSRF_COOKIE],
        "X-Forwarded-For": browser.ip,
    }


@contextlib.contextmanager
def database_for(database: str, directory: Path) -> Iterator[str]:
    """A fresh database of the kind: a SQLite file, or one on a throwaway PostgreSQL."""
    if database == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{directory / 'app.db'}"
    elif database == "postgresql":
        postgres = PostgresServer.start()
        try:
            yield postgres.create_database("bench")
        finally:
            postgres.stop()
    else:
        raise BenchmarkError(f"no database for {database!r}")


def set_workers(server: ServerProcess, workers: int) -> None:
    """The deployment's `serve --workers N`, before it is restarted."""
    index = server.argv.index("--workers")
    server.argv[index + 1] = str(workers)


def measure(
    side: str, base_url: str, scripts: dict[str, Path], load: Load, seconds: float | None = None
) -> dict[str, WrkResult]:
    """Run wrk on both endpoints of one side; any failed request fails the benchmark.

    `seconds` (a warm-up) may end before a slow login answers: only a measured
    run must have served requests.
    """
    results = {}
    for endpoint in ENDPOINTS:
        path = endpoint.split(" ")[1]
        result = run_wrk(base_url + path, scripts[endpoint], load, seconds)
        require(
            result.failures == 0 and (result.requests > 0 or seconds is not None),
            f"{side} {endpoint}: {result.requests} requests, {result.non_2xx} not 2xx, "
            f"{result.socket_errors} socket errors",
        )
        results[endpoint] = result
    return results


def measure_protections(
    framework: str, project: Path, workdir: Path, settings: LoadSettings
) -> ProtectionResult:
    """Serve the project and the bare app side by side and load both, round after round."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    target = ContractTarget(
        framework,
        answers["database"],
        answers["payment_provider"],
        rate_limit_store=answers["rate_limit_store"],
    )
    result = ProtectionResult(framework, answers, settings)
    with (
        database_for(answers["database"], workdir / "database") as database_url,
        running_deployment(target, project, database_url, workdir / "service") as deployment,
    ):
        set_workers(deployment.server, settings.workers)
        try:
            deployment.restart_with(**BENCH_SETTINGS)
        except HarnessError as error:
            raise BenchmarkError(str(error)) from None
        reader = signed_in(deployment, verified_account(deployment, "reader"))
        for index in range(settings.notes):
            reader.create_note(f"Note {index}", f"<p>The body of note {index}.</p>")
        listed = reader.get("/api/notes")
        require(listed.status_code == 200, f"GET /api/notes answered {listed.status_code}")
        # A second account signs in under load, so the reader's session is never touched.
        signer = verified_account(deployment, "signer")
        login_client = Browser(deployment.base_url, deployment.tls())
        login_client.csrf()
        reader.close()

        scripts_dir = workdir / "wrk"
        scripts_dir.mkdir()
        login_body = f'{{"email": "{signer.email}", "password": "{signer.password}"}}'
        login_headers = {**session_headers(login_client), "Content-Type": "application/json"}
        scripts = {
            NOTES: scripts_dir / "notes.lua",
            LOGIN: scripts_dir / "login.lua",
        }
        scripts[NOTES].write_text(request_script("GET", session_headers(reader)))
        scripts[LOGIN].write_text(request_script("POST", login_headers, login_body))

        runner = write_bare_app(framework, workdir / "bare", listed.json())
        port = free_loopback_port()
        package = project_package(project)
        bare = ServerProcess(
            argv=[
                str(project / ".venv" / "bin" / "python"),
                str(runner),
                HOST,
                str(port),
                str(settings.workers),
                str(deployment.certificates.cert_file),
                str(deployment.certificates.key_file),
                deployment.server.env.get("TRUSTED_PROXIES", ""),
                package,
            ],
            env=clean_env({"PYTHONPATH": str(runner.parent)}),
            cwd=runner.parent,
            log_file=workdir / "bare.log",
            base_url=f"https://{HOST}:{port}",
            verify=deployment.tls(),
        )
        try:
            bare.start()
        except HarnessError as error:
            raise BenchmarkError(f"the bare {framework} app did not start: {error}") from None
        try:
            urls = {"bare": bare.base_url, "service": deployment.base_url}
            if settings.warmup_s > 0:
                for side in SIDES:
                    measure(side, urls[side], scripts, settings.load, settings.warmup_s)
            for index in range(settings.rounds):
                # Alternate which side goes first, so neither always meets a warmer machine.
                order = SIDES if index % 2 == 0 else SIDES[::-1]
                for side in order:
                    for endpoint, run in measure(side, urls[side], scripts, settings.load).items():
                        result.runs[endpoint][side].append(run)
                print(f"  {framework}: load round {index + 1}/{settings.rounds} done", flush=True)
        finally:
            bare.stop()
            login_client.close()
        require(deployment.server.running, f"the service died:\n{deployment.log_tail()}")
    return result


def project_package(project: Path) -> str:
    """The generated package's import name, from its console script (`slug = "pkg.cli:main"`)."""
    with open(project / "pyproject.toml", "rb") as handle:
        scripts: dict[str, str] = tomllib.load(handle)["project"]["scripts"]
    return next(iter(scripts.values())).split(".")[0]
