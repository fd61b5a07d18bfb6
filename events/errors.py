"""The root of every error the domain and the store raise on purpose."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; the message is safe to show to the client."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class BadInput(DomainError):
    """The command is malformed: a value out of range, a bad date, an empty title."""


class NotFound(DomainError):
    """The command names a timeline, entry, source or report that does not exist."""


class Conflict(DomainError):
    """The command clashes with the log: a stream moved, an id is taken, a key was reused."""


class Unauthenticated(DomainError):
    """No valid token was presented for an operation that needs one."""


class Forbidden(DomainError):
    """The token is valid but its scope does not allow the operation."""


class StoreUnavailable(DomainError):
    """The database could not be reached; nothing was stored, the client may retry."""


def refuse_nul(**values: object) -> None:
    """PostgreSQL text cannot hold NUL: a string with one is bad input, not a driver error
    (strings inside lists, tuples and dicts are checked too)."""
    for name, value in values.items():
        if _holds_nul(value):
            raise BadInput(f"{name} must not contain NUL characters", field=name)


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_holds_nul(v) for v in value)
    return False
