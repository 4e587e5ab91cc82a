"""The exception that views and services raise for an expected failure (ERR-01).

`config/api.py` renders it as the contract's envelope; the framework-free
`security.errors.AppError` is handled the same way, so shared code can raise it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..security.errors import AppError, ErrorDetail

__all__ = ["ApiError", "ErrorDetail", "validation_error"]


class ApiError(AppError):
    """One contract error: status, stable snake_case code and a safe message.

    `details` is kept only on 422 (security/errors.py `envelope`).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: Sequence[ErrorDetail] = (),
    ) -> None:
        super().__init__(status, code, message, dict(headers or {}), details)


def validation_error(field: str, issue: str) -> ApiError:
    """A 422 about one field, e.g. `validation_error("query.cursor", "Not a cursor ...")`."""
    return ApiError(
        422,
        "validation_error",
        "The request is not valid.",
        details=[ErrorDetail(field=field, issue=issue)],
    )
