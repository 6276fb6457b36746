"""Errors of the service skeleton.

ServiceError                 (base; `code` is stable snake_case)
├─ SettingsError             settings_invalid: the environment does not describe a runnable service
├─ ServiceFactoryError       service_unknown / service_unavailable: `dive serve` cannot build the app
└─ HttpError                 any code, answered as the JSON error shape with `status`
   └─ PayloadTooLargeError   payload_too_large (413)
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["HttpError", "PayloadTooLargeError", "ServiceError", "ServiceFactoryError", "SettingsError"]


class ServiceError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SettingsError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__("settings_invalid", message)


class ServiceFactoryError(ServiceError):
    pass


class HttpError(ServiceError):
    """Raised by a route to answer `{"error": code, "message", "requestId", "details"?}` with `status`."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int,
        details: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code, message)
        self.status = status
        self.details = dict(details) if details is not None else None
        self.headers = dict(headers or {})


class PayloadTooLargeError(HttpError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            "payload_too_large",
            f"The request body exceeds the limit of {limit} bytes.",
            status=413,
            details={"maxBytes": limit},
        )
