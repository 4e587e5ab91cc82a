"""Security events: one schema for the log stream, the detection rules and the admin route.

An event says what happened, when, to or by whom, from where and in which
request (LOG-01). It never holds a secret: its fields are chosen here, and its
`detail` is redacted like every log record (ERR-02). Framework-free: the web
layer only decides which event a request produced.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from .redaction import redact


class Kind(StrEnum):
    """The stable names a collector, a fail2ban filter or an admin filters on."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    ACCOUNT_LOCKED = "account_locked"
    MFA_FAILED = "mfa_failed"
    MFA_CHANGED = "mfa_changed"
    REAUTH_FAILED = "reauth_failed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - the name of an event, not a password
    CSRF_FAILED = "csrf_failed"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SIGNATURE_FAILED = "signature_failed"
    MALWARE_DETECTED = "malware_detected"
    ADMIN_ACTION = "admin_action"
    ALERT_RAISED = "alert_raised"


# Audit actions that are security events too. The audit log keeps the precise
# action; the event keeps it in `detail.action` under a coarser kind.
AUDITED: Mapping[str, Kind] = {
    "login": Kind.LOGIN_SUCCEEDED,
    "login_failed": Kind.LOGIN_FAILED,
    "account_locked": Kind.ACCOUNT_LOCKED,
    "mfa_failed": Kind.MFA_FAILED,
    "mfa_setup_started": Kind.MFA_CHANGED,
    "mfa_enabled": Kind.MFA_CHANGED,
    "mfa_disabled": Kind.MFA_CHANGED,
    "recovery_code_used": Kind.MFA_CHANGED,
    "reauth_failed": Kind.REAUTH_FAILED,
    "password_change_failed": Kind.REAUTH_FAILED,
    "password_changed": Kind.PASSWORD_CHANGED,
    "password_reset": Kind.PASSWORD_CHANGED,
    "role_changed": Kind.ADMIN_ACTION,
    "user_deleted": Kind.ADMIN_ACTION,
    "audit_log_read": Kind.ADMIN_ACTION,
    "security_events_read": Kind.ADMIN_ACTION,
    "upload_malware_detected": Kind.MALWARE_DETECTED,
}

# Error codes whose refusal is already an audited event (a failed login answers
# 401 `invalid_credentials`): counted once, from the audit log, not twice.
AUDITED_REFUSALS = frozenset({"invalid_credentials", "malware_detected"})

# Events of successful actions; every other kind is logged as a warning.
ROUTINE = frozenset(
    {
        Kind.LOGIN_SUCCEEDED,
        Kind.MFA_CHANGED,
        Kind.PASSWORD_CHANGED,
        Kind.ADMIN_ACTION,
    }
)

# Kinds that any anonymous client can cause at will, as fast as it can send:
# the table keeps a bounded number of them per client (monitoring/service.py),
# the log stream keeps them all.
UNSOLICITED = frozenset(
    {
        Kind.CSRF_FAILED,
        Kind.UNAUTHENTICATED,
        Kind.FORBIDDEN,
        Kind.NOT_FOUND,
        Kind.RATE_LIMITED,
        Kind.SIGNATURE_FAILED,
    }
)


def kind_of_refusal(status: int, code: str) -> Kind | None:
    """The event of an error response, or None for errors that are not security events."""
    if code in AUDITED_REFUSALS:
        return None
    if code == "csrf_failed":
        return Kind.CSRF_FAILED
    if code == "invalid_signature":
        return Kind.SIGNATURE_FAILED
    return {
        401: Kind.UNAUTHENTICATED,
        403: Kind.FORBIDDEN,
        404: Kind.NOT_FOUND,
        429: Kind.RATE_LIMITED,
    }.get(status)


@dataclass(frozen=True)
class SecurityEvent:
    kind: Kind
    at: datetime
    ip: str | None
    request_id: str | None
    actor_id: uuid.UUID | None = None
    # What the event is about: the email of a login, the id of a changed account.
    target: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The JSON-ready form shared by the log line and the stored row, redacted."""
        return {
            "kind": str(self.kind),
            "at": self.at.isoformat(),
            "actor_id": str(self.actor_id) if self.actor_id else None,
            "ip": self.ip,
            "request_id": self.request_id,
            "target": self.target,
            "detail": redact(dict(self.detail)),
        }


class EventSink(Protocol):
    """Where the web layer hands events; it must return at once, whatever happens next."""

    def emit(self, event: SecurityEvent) -> None: ...
