"""The root of every error the domain and the store raise on purpose."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; the message is safe to show to the client."""

    def __init__(self, message: str, *, field: str | None = None,
                 details: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details or {}  # more for a client to act on, by name


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


class LogDamaged(DomainError):
    """The log no longer holds what it committed (changed outside Chronicle): nothing more
    is appended to it until an operator restores it, and retrying does not help."""


def refuse_bad_text(**values: object) -> None:
    """PostgreSQL text holds neither NUL nor lone UTF-16 surrogates (UTF-8 cannot encode
    them): a string with one is bad input, not a driver error. Strings inside lists, tuples
    and dicts are checked too."""
    for name, value in values.items():
        problem = _text_problem(value)
        if problem is not None:
            raise BadInput(f"{name} must not contain {problem}", field=name)


def _text_problem(value: object) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "NUL characters"
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "lone UTF-16 surrogates"
        return None
    items: list[object] = []
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = list(value)
    return next((p for p in map(_text_problem, items) if p is not None), None)
