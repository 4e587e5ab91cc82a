"""The contract harness: build a generated project and run it as a real server.

For one target (framework x database) it renders the project with
`copier copy --trust`, installs it with `uv sync`, migrates a fresh database,
creates an administrator with the project's own `create-admin --password-stdin`,
and starts `<slug> serve` with two workers, production settings, HTTPS with a
certificate made here, and SMTP delivery to a sink on loopback that the tests
read. A development server of the same project serves the OpenAPI document.
When the target has a payment provider, the deployment also gets that
provider's API as a stub on loopback (provider_stub.py) and the payment
settings, with a webhook secret made for the run that the tests sign with.
With MFA, the server gets ENCRYPTION_KEYS made for the run, which a test
may change with a restart (`Deployment.restart_with`).
When the target has uploads, it gets a clamd of its own (clamav.py, knowing
the EICAR test file), which the tests may stop, and an UPLOAD_DIR they can
inspect. When it counts rate limits in Redis, it gets a password-protected
redis-server of its own (redis.py), which the tests may stop too.
Security alerts go to a webhook receiver on loopback (alert_receiver.py) and
to a mailbox of the SMTP sink.

Everything runs through the project's console script, the same for every
framework: nothing here imports the generated code. A missing script, a
failed command or a server that does not answer is an error, never a skip.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import email.policy
import ipaddress
import os
import secrets
import signal
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clamav import ClamdServer, ClamdUnavailable
from combinations import ContractTarget
from contract.alert_receiver import AlertReceiver
from contract.provider_stub import ProviderStub
from helpers import clean_env, explain, harness_tool, run, stop_process_group, tail, uv_binary
from postgres import free_loopback_port
from redis import RedisServer, RedisUnavailable

HOST = "127.0.0.1"
WORKERS = 2
START_TIMEOUT = 60.0
# uvicorn's graceful shutdown waits for open TLS connections to say goodbye;
# the tests close theirs, so a server still running after this is killed.
STOP_TIMEOUT = 5.0
COMMAND_TIMEOUT = 300
SYNC_TIMEOUT = 1200

# The production deployment's settings that the suite relies on. Limits not
# listed keep API.md's defaults, which the suite checks as defaults. The
# per-account login limit is raised from 5 to 15 a minute (API.md: "all
# configurable") so that the lockout after 10 failures can be reached within a
# minute; the suite reads the value from here.
ALLOWED_ORIGIN = "https://app.example.test"
PRODUCTION_SETTINGS: dict[str, str] = {
    "ENVIRONMENT": "production",
    "DEBUG": "false",
    "ALLOWED_HOSTS": f"{HOST},localhost",
    "CORS_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
    # uvicorn believes X-Forwarded-For only from these: each test sends its own
    # client address, so rate-limit buckets are per test.
    "TRUSTED_PROXIES": HOST,
    "PUBLIC_URL": ALLOWED_ORIGIN,
    "EMAIL_BACKEND": "smtp",
    "EMAIL_FROM": "no-reply@example.test",
    "SMTP_HOST": HOST,
    "SMTP_STARTTLS": "true",
    "RATE_LIMIT_LOGIN_ACCOUNT": "15/minute",
    "LOG_LEVEL": "INFO",
}
LOGIN_ACCOUNT_LIMIT = int(PRODUCTION_SETTINGS["RATE_LIMIT_LOGIN_ACCOUNT"].split("/")[0])
# With MFA, TOTP secrets are stored encrypted with these keys (comma-separated,
# newest first). Projects without MFA ignore the variable.
ENCRYPTION_KEYS = "ENCRYPTION_KEYS"


def new_encryption_key() -> str:
    """A random key of the run: 64 URL-safe characters, well over production's minimum of 32."""
    return secrets.token_urlsafe(48)


@dataclass(frozen=True)
class Limits:
    """The rate limits and lockout threshold the production deployment runs with."""

    login_ip: int = 10
    login_account: int = LOGIN_ACCOUNT_LIMIT
    signup_ip: int = 5
    reset_ip: int = 5
    reset_email: int = 3
    default: int = 300
    lockout_failures: int = 10
    mfa_verify: int = 5  # tries a minute per half-open session


class HarnessError(RuntimeError):
    """The harness could not build or start a backend; the message says why."""


# --- certificates --------------------------------------------------------------------


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts only the harness's CA (hostname checked)."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert_file), str(self.key_file))
        return context


def make_certificates(directory: Path) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost, signed by it."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Rampart contract test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=True,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    certs = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    certs.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    certs.key_file.chmod(0o600)
    return certs


# --- the SMTP sink ----------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    """One message the backend delivered."""

    recipients: tuple[str, ...]
    subject: str
    body: str
    raw: bytes


class _Collector:
    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes):
            raw = envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        self.sink.deliver(
            Mail(
                recipients=tuple(address.lower() for address in envelope.rcpt_tos),
                subject=str(message.get("Subject", "")),
                body=str(body),
                raw=raw,
            ),
            tls=session.ssl is not None,
        )
        return "250 Message accepted for delivery"


class MailSink:
    """An SMTP server on loopback that requires STARTTLS and keeps every message.

    The backend runs with EMAIL_BACKEND=smtp and SMTP_STARTTLS=true as in
    production; its TLS client trusts the harness's CA through SSL_CERT_FILE.
    """

    def __init__(self, certificates: Certificates) -> None:
        self.port = free_loopback_port()
        self._messages: list[Mail] = []
        self._plaintext = 0
        self._condition = threading.Condition()
        self._controller = Controller(
            _Collector(self),
            hostname=HOST,
            port=self.port,
            tls_context=certificates.server_context(),
            require_starttls=True,
            ready_timeout=10,
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._controller.stop()

    def deliver(self, mail: Mail, *, tls: bool) -> None:
        with self._condition:
            self._messages.append(mail)
            if not tls:
                self._plaintext += 1
            self._condition.notify_all()

    @property
    def plaintext_deliveries(self) -> int:
        """Messages that arrived without STARTTLS (the sink refuses those; expected 0)."""
        return self._plaintext

    def messages_to(self, address: str) -> list[Mail]:
        address = address.lower()
        with self._condition:
            return [m for m in self._messages if address in m.recipients]

    def wait_for(self, address: str, count: int = 1, timeout: float = 15.0) -> list[Mail]:
        """The first `count` messages to the address, waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                found = [m for m in self._messages if address.lower() in m.recipients]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) to {address} within {timeout}s, "
                        f"got {len(found)}"
                    )
                self._condition.wait(remaining)


# --- server processes ---------------------------------------------------------------------


@dataclass
class ServerProcess:
    """One `<slug> serve` process group, its address and its log file."""

    argv: list[str]
    env: dict[str, str]
    cwd: Path
    log_file: Path
    base_url: str
    verify: ssl.SSLContext | bool
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_file, "ab") as log:
            # A new session: the process and its workers form one group, stopped together.
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        last_error = ""
        with httpx.Client(base_url=self.base_url, verify=self.verify, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise HarnessError(
                        f"`{' '.join(self.argv)}` exited with {self.process.returncode} "
                        f"before answering; server log:\n{self.log_tail()}"
                    )
                try:
                    response = client.get("/api/health")
                    if response.status_code == 200:
                        return
                    last_error = f"/api/health answered {response.status_code}"
                except httpx.HTTPError as error:
                    last_error = repr(error)
                time.sleep(0.2)
        self.stop()
        raise HarnessError(
            f"the server did not answer /api/health within {START_TIMEOUT}s ({last_error}); "
            f"server log:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Terminate the whole process group; kill it if it does not stop in time."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        stop_process_group(process, STOP_TIMEOUT)
        # Workers left behind by a parent that died first belong to the group too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def restart(self) -> None:
        """Stop the whole server and start it again on the same address."""
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        try:
            return tail(self.log_file.read_text(encoding="utf-8", errors="replace"), lines)
        except OSError:
            return "(no server log)"


# --- projects -----------------------------------------------------------------------------


def build_project(target: ContractTarget, template_dir: Path, destination: Path) -> Path:
    """`copier copy --trust` the target's answers into destination/project, then `uv sync` it."""
    destination.mkdir(parents=True, exist_ok=True)
    answers_file = destination / "answers.yml"
    answers_file.write_text(yaml.safe_dump(target.answers), encoding="utf-8")
    project = destination / "project"
    copied = run(
        [
            harness_tool("copier"),
            "copy",
            "--trust",
            "--defaults",
            "--vcs-ref",
            "HEAD",
            "--data-file",
            str(answers_file),
            str(template_dir),
            str(project),
        ],
        cwd=destination,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT,
    )
    if copied.returncode != 0:
        raise HarnessError("copier copy failed: " + explain(copied))
    synced = run([uv_binary(), "sync"], cwd=project, env=clean_env(), timeout=SYNC_TIMEOUT)
    if synced.returncode != 0:
        raise HarnessError("uv sync of the generated project failed: " + explain(synced))
    return project


def project_script(project: Path) -> Path:
    """The project's console script (`[project.scripts]`, named after the slug)."""
    with open(project / "pyproject.toml", "rb") as handle:
        import tomllib

        scripts: dict[str, str] = tomllib.load(handle)["project"].get("scripts", {})
    if len(scripts) != 1:
        raise HarnessError(f"expected one console script in pyproject.toml, found {scripts}")
    script = project / ".venv" / "bin" / next(iter(scripts))
    if not os.access(script, os.X_OK):
        raise HarnessError(f"the project's console script {script} is missing after `uv sync`")
    return script


# --- payments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Payments:
    """The deployment's payment provider: its stubbed API and the secrets the server holds."""

    provider: str
    stub: ProviderStub
    api_key: str
    webhook_secret: str
    store_id: str | None

    @property
    def settings(self) -> dict[str, str]:
        """The environment of the production server (spec "Settings")."""
        env = {
            "PAYMENT_API_KEY": self.api_key,
            "PAYMENT_WEBHOOK_SECRET": self.webhook_secret,
            "PAYMENT_API_URL": self.stub.url,
        }
        if self.store_id is not None:
            env["PAYMENT_STORE_ID"] = self.store_id
        return env


def make_payments(provider: str) -> Payments:
    """A stub of the provider's API (not started) and fresh credentials in its formats."""
    token = secrets.token_hex(24)
    keys = {
        "stripe": ("sk_test_" + token, "whsec_" + secrets.token_urlsafe(32)),
        "paddle": ("pdl_sdbx_apikey_" + token, "pdl_ntfset_" + secrets.token_urlsafe(32)),
        "lemonsqueezy": ("ls_test_" + token, secrets.token_urlsafe(32)),
    }
    api_key, webhook_secret = keys[provider]
    store_id = str(10000 + secrets.randbelow(89999)) if provider == "lemonsqueezy" else None
    return Payments(provider, ProviderStub(provider), api_key, webhook_secret, store_id)


# --- deployments --------------------------------------------------------------------------


@dataclass
class Deployment:
    """A running production backend, as the tests see it: an address and a mailbox."""

    target: ContractTarget
    base_url: str
    certificates: Certificates
    mail: MailSink
    admin_email: str
    admin_password: str
    fuzz_admin_email: str
    fuzz_admin_password: str
    server: ServerProcess
    # The webhook that the server's security alerts are sent to (alert_receiver.py).
    alerts: AlertReceiver
    payments: Payments | None = None
    # With uploads: the clamd the server scans with, and where it keeps the files.
    clamd: ClamdServer | None = None
    upload_dir: Path | None = None
    # With rate_limit_store=redis: the Redis that holds the counters.
    redis: RedisServer | None = None
    limits: Limits = field(default_factory=Limits)

    @property
    def ca_file(self) -> Path:
        return self.certificates.ca_file

    def tls(self) -> ssl.SSLContext:
        return self.certificates.client_context()

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def log_tail(self, lines: int = 60) -> str:
        return self.server.log_tail(lines)

    @property
    def script(self) -> Path:
        """The project's console script that serves this deployment."""
        return Path(self.server.argv[0])

    def run_command(
        self, args: list[str], env: Mapping[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `<slug> <args>` with the deployment's settings (or `env`); the outcome, unchecked.

        The output never holds the environment; callers may print it.
        """
        return subprocess.run(
            [str(self.script), *args],
            cwd=self.server.cwd,
            env=dict(self.server.env if env is None else env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )

    def restart_with(self, **settings: str) -> None:
        """Restart the server with these settings changed; they stay for the rest of the run."""
        self.server.env.update(settings)
        self.server.restart()


def _run_command(
    script: Path, args: list[str], env: Mapping[str, str], cwd: Path, stdin: str = ""
) -> None:
    done = subprocess.run(
        [str(script), *args],
        cwd=cwd,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        # Never print the environment: it holds the secret key.
        raise HarnessError(
            f"`{script.name} {args[0]}` exited with {done.returncode}:\n"
            f"{tail(done.stdout + done.stderr, 40)}"
        )


def upload_settings(clamd: ClamdServer, upload_dir: Path) -> dict[str, str]:
    """The production server's upload settings: scanning on, files in an absolute directory."""
    return {
        "CLAMAV_ENABLED": "true",
        "CLAMAV_ADDRESS": clamd.address,
        "UPLOAD_DIR": str(upload_dir),
    }


def start_redis() -> RedisServer:
    try:
        return RedisServer.start()
    except RedisUnavailable as error:
        raise HarnessError(str(error)) from None


def counts_in_redis(project: Path) -> bool:
    """The project was generated with rate_limit_store=redis: it needs REDIS_URL to start."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return bool(answers.get("rate_limit_store") == "redis")


def role_url(database_url: str, role: str) -> str:
    """The URL of `database_url`'s database for `role`, with a new password."""
    parts = urlsplit(database_url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{role}:{secrets.token_urlsafe(24)}@{host}").geturl()


def create_roles(
    script: Path, database_url: str, env: Mapping[str, str], workdir: Path
) -> dict[str, str]:
    """PostgreSQL: the deployment's two roles, made by the project's `create-roles` as the
    cluster's superuser. Returns their URLs: DATABASE_URL, the service's role, which may
    only read and write rows, and MIGRATION_DATABASE_URL, the schema owner's, for `migrate`.

    Roles belong to the whole cluster: they are named after the target's own database.
    """
    database = urlsplit(database_url).path.lstrip("/")
    roles = {
        "DATABASE_URL": role_url(database_url, f"{database}_app"),
        "MIGRATION_DATABASE_URL": role_url(database_url, f"{database}_owner"),
    }
    bootstrap = {**env, **roles, "BOOTSTRAP_DATABASE_URL": database_url}
    _run_command(script, ["create-roles"], bootstrap, workdir)
    return roles


@contextlib.contextmanager
def running_deployment(
    target: ContractTarget, project: Path, database_url: str, workdir: Path
) -> Iterator[Deployment]:
    """Start the provider's stub, clamd and Redis (when the target has them), then the
    deployment; stop everything on exit."""
    with contextlib.ExitStack() as stack:
        payments = None
        if target.payment_provider != "none":
            payments = make_payments(target.payment_provider)
            payments.stub.start()
            stack.callback(payments.stub.stop)
        clamd = None
        if target.file_uploads:
            try:
                clamd = ClamdServer.start()
            except ClamdUnavailable as error:
                raise HarnessError(str(error)) from None
            stack.callback(clamd.stop)
        redis = None
        if target.rate_limit_store == "redis":
            redis = start_redis()
            stack.callback(redis.stop)
        yield stack.enter_context(
            _running_deployment(target, project, database_url, workdir, payments, clamd, redis)
        )


@contextlib.contextmanager
def _running_deployment(
    target: ContractTarget,
    project: Path,
    database_url: str,
    workdir: Path,
    payments: Payments | None,
    clamd: ClamdServer | None = None,
    redis: RedisServer | None = None,
) -> Iterator[Deployment]:
    """Migrate, create the admin, start the production server; stop everything on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    script = project_script(project)
    certificates = make_certificates(workdir / "tls")
    mail = MailSink(certificates)
    alerts = AlertReceiver()
    port = free_loopback_port()
    env = clean_env(
        {
            **PRODUCTION_SETTINGS,
            "SECRET_KEY": secrets.token_urlsafe(48),
            # The key that encrypts TOTP secrets at rest (DATA-01); one per run.
            ENCRYPTION_KEYS: new_encryption_key(),
            "DATABASE_URL": database_url,
            "SMTP_PORT": str(mail.port),
            # The SMTP client verifies the sink's certificate against the harness CA.
            "SSL_CERT_FILE": str(certificates.ca_file),
            **(payments.settings if payments else {}),
            **(upload_settings(clamd, workdir / "uploads") if clamd else {}),
            # Plain redis:// with a password: production accepts it to a loopback address.
            **({"REDIS_URL": redis.url()} if redis else {}),
            **alerts.settings,
        }
    )
    # Two administrators: one for the tests, one that only the fuzzer signs in as.
    admins = {
        "root-operator@example.test": "Adm1n-" + secrets.token_urlsafe(18),
        "fuzz-operator@example.test": "Adm1n-" + secrets.token_urlsafe(18),
    }
    # The working directory holds no .env: only the settings above apply.
    migrate_env = env
    if target.database == "postgresql":
        # The server runs as the role that may only read and write rows; only `migrate`
        # gets the schema owner's URL, as compose.yaml does it (docs/database.md).
        roles = create_roles(script, database_url, env, workdir)
        env["DATABASE_URL"] = roles["DATABASE_URL"]
        migrate_env = {**env, **roles}
    # `check` runs beside `migrate`, and the administrators are created side by side.
    with ThreadPoolExecutor(max_workers=2) as pool:
        checked = pool.submit(_run_command, script, ["check"], env, workdir)
        _run_command(script, ["migrate"], migrate_env, workdir)
        checked.result()
        created = [
            pool.submit(
                _run_command,
                script,
                ["create-admin", "--email", email, "--password-stdin"],
                env,
                workdir,
                password + "\n",
            )
            for email, password in admins.items()
        ]
        for future in created:
            future.result()
    server = ServerProcess(
        argv=[
            str(script),
            "serve",
            "--workers",
            str(WORKERS),
            "--host",
            HOST,
            "--port",
            str(port),
            "--ssl-certfile",
            str(certificates.cert_file),
            "--ssl-keyfile",
            str(certificates.key_file),
        ],
        env=env,
        cwd=workdir,
        log_file=workdir / "server.log",
        base_url=f"https://{HOST}:{port}",
        verify=certificates.client_context(),
    )
    mail.start()
    alerts.start()
    try:
        server.start()
        yield Deployment(
            target=target,
            base_url=server.base_url,
            certificates=certificates,
            mail=mail,
            admin_email="root-operator@example.test",
            admin_password=admins["root-operator@example.test"],
            fuzz_admin_email="fuzz-operator@example.test",
            fuzz_admin_password=admins["fuzz-operator@example.test"],
            server=server,
            payments=payments,
            clamd=clamd,
            upload_dir=workdir / "uploads" if clamd else None,
            redis=redis,
            alerts=alerts,
        )
    finally:
        server.stop()
        mail.stop()
        alerts.stop()


def fetch_development_openapi(project: Path, database_url: str, workdir: Path) -> dict[str, Any]:
    """Start the project in development mode (plain HTTP, one worker), read its OpenAPI document, stop it.

    Production does not serve the document (deny by default), so the suite
    reads the routes from a development server of the same project (with a
    Redis of its own when the project counts there).
    """
    with contextlib.ExitStack() as stack:
        extra: dict[str, str] = {}
        if counts_in_redis(project):
            redis = start_redis()
            stack.callback(redis.stop)
            extra["REDIS_URL"] = redis.url()
        return _fetch_development_openapi(project, database_url, workdir, extra)


def _fetch_development_openapi(
    project: Path, database_url: str, workdir: Path, extra: Mapping[str, str]
) -> dict[str, Any]:
    workdir.mkdir(parents=True, exist_ok=True)
    script = project_script(project)
    port = free_loopback_port()
    env = clean_env(
        {
            "ENVIRONMENT": "development",
            "SECRET_KEY": secrets.token_urlsafe(48),
            ENCRYPTION_KEYS: new_encryption_key(),
            "DATABASE_URL": database_url,
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "EMAIL_BACKEND": "console",
            **extra,
        }
    )
    server = ServerProcess(
        argv=[str(script), "serve", "--workers", "1", "--host", HOST, "--port", str(port)],
        env=env,
        cwd=workdir,
        log_file=workdir / "development-server.log",
        base_url=f"http://{HOST}:{port}",
        verify=False,
    )
    try:
        server.start()
        response = httpx.get(f"{server.base_url}/api/openapi.json", timeout=30)
        if response.status_code != 200:
            raise HarnessError(
                f"the development server answered {response.status_code} for /api/openapi.json"
            )
        document: dict[str, Any] = response.json()
        return document
    finally:
        server.stop()
