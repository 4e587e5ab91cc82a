"""What an upload must pass before it is kept: an allowed type by content, and clamd (UP-01, UP-02).

Both backends' services call these in this order and keep the bytes only
when both pass. Each refusal is the contract's AppError; its cause (the
sniffer's reason, the scanner's failure) stays chained for the service's log
and never reaches the client.
"""

from __future__ import annotations

from collections.abc import Collection

from ..security.clamav import ClamdClient, ScannerError, Verdict
from ..security.errors import AppError, ErrorDetail
from ..security.sniffing import ContentRefusedError, check_file
from ..settings import Settings
from .multipart import FIELD, Received

SCANNER_RETRY_SECONDS = 30


def checked_type(upload: Received, filename: str, allowed: Collection[str]) -> str:
    """The type detected from the content; 422 `unsupported_file_type` unless allowed and
    agreeing with the name's extension."""
    try:
        return check_file(upload.path, filename, allowed)
    except ContentRefusedError as refused:
        detail = ErrorDetail(field=f"body.{FIELD}", issue=str(refused))
        raise AppError(
            422,
            "unsupported_file_type",
            "The file's content is not an accepted type, or does not match its name.",
            details=[detail],
        ) from refused


def scanned(scanner: ClamdClient, upload: Received) -> Verdict:
    """clamd's verdict; no verdict (down, slow, failing) is 503 `scanner_unavailable`."""
    try:
        return scanner.scan_file(upload.path)
    except ScannerError as error:
        raise AppError(
            503,
            "scanner_unavailable",
            "Uploads are paused: the malware scanner is unavailable. Try again later.",
            headers={"Retry-After": str(SCANNER_RETRY_SECONDS)},
        ) from error


def malware_detected() -> AppError:
    detail = ErrorDetail(field=f"body.{FIELD}", issue="The malware scanner flagged this file.")
    return AppError(
        422, "malware_detected", "The file was refused: it contains malware.", details=[detail]
    )


def make_scanner(settings: Settings) -> ClamdClient | None:
    """The clamd client; None only when CLAMAV_ENABLED is off (never in production)."""
    if not settings.clamav_enabled:
        return None
    return ClamdClient(settings.clamav_address, settings.clamav_timeout_seconds)
