"""Errors raised by the message catalogue.

They carry the template key and language as attributes, not only in the text, because the staff
template editor shows them next to the field that caused them, and a log line must let someone
find the broken template without guessing.
"""

from __future__ import annotations


class MessagesError(Exception):
    """Base class for everything the messages package raises on purpose."""


class UnknownKeyError(MessagesError, KeyError):
    """A template key that the catalogue does not declare (usually a typo in a caller)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown template key {self.key!r}"


class TemplateError(MessagesError):
    """A template text that must not be saved or sent, with every problem found in it.

    ``problems`` holds one human-readable sentence per problem, so an editor can list them all
    at once instead of making an admin fix them one save at a time.
    """

    def __init__(self, key: str, lang: str, problems: list[str] | tuple[str, ...]) -> None:
        self.key = key
        self.lang = lang
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        joined = "; ".join(self.problems)
        return f"template {self.key!r} [{self.lang}]: {joined}"


class PlaceholderValueError(MessagesError, ValueError):
    """A value passed for rendering that is missing, unexpected or of the wrong type.

    This is a programming error in the caller, not in the template: amounts and dates must match
    the legal notice exactly, so nothing is coerced or guessed.
    """

    def __init__(self, key: str, problems: list[str] | tuple[str, ...]) -> None:
        self.key = key
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"values for template {self.key!r}: " + "; ".join(self.problems)


class MissingTextError(MessagesError, LookupError):
    """No text for a key in the requested language nor in any fallback language."""

    def __init__(self, key: str, tried: tuple[str, ...]) -> None:
        self.key = key
        self.tried = tried
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"no text for template {self.key!r} in any of {', '.join(self.tried)}"
