"""Setting up, enabling and disabling TOTP; completing a login and re-authenticating with it.

Failed codes count towards the account's lockout exactly like failed
passwords, and each refusal is audited in a transaction of its own (the
request's own transaction rolls back with the error), before the request
writes anything: SQLite has one writer at a time.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import SERVICE_NAME
from ..audit.service import record
from ..auth.lockout import Lockout
from ..auth.models import User
from ..auth.sessions import Authenticated, SessionStore
from ..core.context import RequestContext
from ..core.database import Database, utcnow
from ..core.logging import get_logger
from ..ratelimit.service import RateLimiter
from ..security import totp
from ..security.encryption import DecryptionError, FieldCipher
from ..security.errors import AppError, ErrorDetail
from ..security.tokens import token_digest
from ..settings import Settings
from .models import MfaCredential, RecoveryCode

_RECOVERY_PURPOSE = "mfa-recovery-code"
log = get_logger(__name__)


def wrong_code() -> AppError:
    return AppError(401, "invalid_credentials", "The code is incorrect.")


class Mfa:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        sessions: SessionStore,
        limiter: RateLimiter,
        lockout: Lockout,
    ) -> None:
        self.settings = settings
        self.database = database
        self.sessions = sessions
        self.limiter = limiter
        self.lockout = lockout
        self.cipher = FieldCipher(settings.encryption_key_list)
        self.key = settings.secret_key.get_secret_value()

    # --- helpers ---------------------------------------------------------------

    def _audit_refusal(self, context: RequestContext, action: str, **fields: Any) -> None:
        with self.database.sessions.begin() as session:
            record(session, context, action, **fields)

    def _recovery_digest(self, code: str) -> str:
        return token_digest(totp.normalize_recovery_code(code), self.key, _RECOVERY_PURPOSE)

    @staticmethod
    def _credential(db: Session, user: User) -> MfaCredential | None:
        return db.get(MfaCredential, user.id, with_for_update=True)

    def _secret(self, credential: MfaCredential) -> str | None:
        """The decrypted secret, or None when no configured key opens it.

        That happens only when ENCRYPTION_KEYS lost the key the secret was
        encrypted with: the code is refused like a wrong one (recovery codes
        still work), and the log says why, instead of a 500.
        """
        try:
            return self.cipher.decrypt(credential.secret_encrypted)
        except DecryptionError:
            log.error("mfa.secret_undecryptable", user_id=str(credential.user_id))
            return None

    def _accept_totp(self, db: Session, user: User, code: str) -> bool:
        """True for a fresh, valid code of an enabled credential, which then cannot be reused."""
        credential = self._credential(db, user)
        if credential is None or credential.enabled_at is None:
            return False
        secret = self._secret(credential)
        if secret is None:
            return False
        step = totp.matching_step(secret, code, utcnow(), credential.last_used_step)
        if step is None:
            return False
        credential.last_used_step = step
        return True

    def _accept_recovery_code(self, db: Session, user: User, code: str) -> bool:
        recovery = db.get(RecoveryCode, self._recovery_digest(code), with_for_update=True)
        if recovery is None or recovery.user_id != user.id or recovery.used_at is not None:
            return False
        recovery.used_at = utcnow()
        return True

    def _count_failure(self, context: RequestContext, user: User, action: str) -> None:
        """Count a wrong code towards the account's lockout, and audit it."""
        locked = self.lockout.record_failure(self.limiter.subject(user.email))
        self._audit_refusal(context, action, actor_id=user.id, target=user.email)
        if locked:
            self._audit_refusal(context, "account_locked", actor_id=user.id, target=user.email)

    # --- setup, enable, disable ----------------------------------------------------

    def setup(self, db: Session, context: RequestContext, user: User) -> tuple[str, str]:
        """A new secret, stored encrypted and not yet enabled; shown to the user once."""
        if user.mfa_enabled:
            raise AppError(409, "conflict", "MFA is already enabled; disable it first.")
        secret = totp.new_secret()
        credential = self._credential(db, user)
        if credential is None:
            credential = MfaCredential(user_id=user.id, secret_encrypted="")
            db.add(credential)
        credential.secret_encrypted = self.cipher.encrypt(secret)
        credential.enabled_at = None
        credential.last_used_step = None
        record(db, context, "mfa_setup_started", actor_id=user.id)
        return secret, totp.provisioning_uri(secret, user.email, SERVICE_NAME)

    def enable(self, db: Session, context: RequestContext, user: User, code: str) -> list[str]:
        """Turn MFA on once a code proves the app holds the secret; returns the recovery codes."""
        credential = self._credential(db, user)
        secret = self._secret(credential) if credential is not None else None
        if user.mfa_enabled or credential is None or secret is None:
            raise AppError(409, "conflict", "Start with /api/auth/mfa/setup.")
        step = totp.matching_step(secret, code, utcnow(), credential.last_used_step)
        if step is None:
            detail = ErrorDetail(field="body.code", issue="The code does not match the secret.")
            raise AppError(422, "validation_error", "The code is not valid.", details=[detail])
        credential.enabled_at = utcnow()
        credential.last_used_step = step
        user.mfa_enabled = True
        codes = totp.new_recovery_codes()
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.add_all(RecoveryCode(digest=self._recovery_digest(c), user_id=user.id) for c in codes)
        record(db, context, "mfa_enabled", actor_id=user.id)
        return codes

    def disable(self, db: Session, context: RequestContext, user: User) -> None:
        db.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        db.execute(delete(MfaCredential).where(MfaCredential.user_id == user.id))
        user.mfa_enabled = False
        record(db, context, "mfa_disabled", actor_id=user.id)

    # --- second factor at login and at re-authentication --------------------------

    def complete_login(
        self, db: Session, context: RequestContext, pending: Authenticated, code: str
    ) -> str:
        """Check the second factor of a half-open login; returns the rotated, full session id.

        A TOTP code or a recovery code; 5 tries a minute per session, and every
        failure counts towards the account's lockout like a wrong password.
        """
        user = pending.user
        subject = pending.session.id_digest
        self.limiter.check("mfa-verify", subject, self.settings.rate_limit_mfa_verify)
        account = self.limiter.subject(user.email)
        # The lock is checked first: an accepted code writes, and on SQLite the
        # failure's own transaction would then wait for this one.
        locked = self.lockout.is_locked(account)
        is_totp = totp.CODE.fullmatch(code) is not None
        if locked or not (
            self._accept_totp(db, user, code)
            if is_totp
            else self._accept_recovery_code(db, user, code)
        ):
            self._count_failure(context, user, "mfa_failed")
            raise wrong_code()
        if not is_totp:
            record(db, context, "recovery_code_used", actor_id=user.id)
        self.lockout.clear(account)
        record(db, context, "login", actor_id=user.id, target=user.email, mfa=True)
        return self.sessions.rotate(db, pending.session, reauthenticated=False)

    def reauthenticate(
        self, db: Session, context: RequestContext, auth: Authenticated, code: str
    ) -> str:
        """Step-up with a TOTP code instead of the password (AUTH-07); returns the rotated id."""
        account = self.limiter.subject(auth.user.email)
        self.limiter.check("login-account", account, self.settings.rate_limit_login_account)
        if self.lockout.is_locked(account) or not self._accept_totp(db, auth.user, code):
            self._count_failure(context, auth.user, "reauth_failed")
            raise AppError(403, "invalid_credentials", "The code is incorrect.")
        record(db, context, "reauthenticated", actor_id=auth.user.id, mfa=True)
        return self.sessions.rotate(db, auth.session, reauthenticated=True)

    # --- key rotation (DATA-01) -------------------------------------------------------

    def rotate_keys(self, batch: int = 500) -> int:
        """Re-encrypt every stored secret with the newest key, a batch per transaction.

        Returns how many were rewritten. Run it once every instance runs with
        the new key listed first: from then on the old key may be removed.
        """
        rewritten = 0
        after: uuid.UUID | None = None
        while True:
            with self.database.sessions.begin() as db:
                query = select(MfaCredential).order_by(MfaCredential.user_id).limit(batch)
                if after is not None:
                    query = query.where(MfaCredential.user_id > after)
                rows = db.scalars(query.with_for_update()).all()
                for credential in rows:
                    credential.secret_encrypted = self.cipher.rotate(credential.secret_encrypted)
            if not rows:
                return rewritten
            rewritten += len(rows)
            after = rows[-1].user_id
