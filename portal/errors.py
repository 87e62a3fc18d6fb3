"""Errors the service layer raises; pages and the API turn them into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A request that cannot be carried out; ``message`` is already translated."""

    def __init__(self, message: str, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class ConflictError(ServiceError):
    """Someone else saved first (or the form did not say which version it edited);
    ``current`` holds the values now stored, ``heading`` the notice's title when it is not
    the usual one."""

    def __init__(self, message: str, current: dict, heading: str | None = None):
        super().__init__(message)
        self.current = current
        self.heading = heading
