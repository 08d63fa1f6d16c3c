"""How typed template values travel through the outbox's JSON column, and back.

Dates are written as ISO dates, moments as ISO datetimes with their offset, money as integer öre;
reading them back is driven by the placeholder types the catalogue declares for the key, so a
value always reaches the renderer with the type it was declared with.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from messages import catalogue
from messages.catalogue import PlaceholderType


def encode_value(value: object) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("outbox moments must be aware datetimes")
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    return value


def encode_values(values: Mapping[str, object]) -> dict[str, Any]:
    return {name: encode_value(value) for name, value in values.items()}


def _decode(kind: PlaceholderType, raw: Any) -> object:
    if kind is PlaceholderType.MONEY:
        return int(raw)
    if kind is PlaceholderType.DATE:
        return raw if isinstance(raw, date) else date.fromisoformat(raw)
    if kind in (PlaceholderType.DEADLINE, PlaceholderType.DATETIME):
        return raw if isinstance(raw, datetime) else datetime.fromisoformat(raw)
    if kind is PlaceholderType.SLOTS:
        return [item if isinstance(item, datetime) else datetime.fromisoformat(item) for item in raw]
    return str(raw)


def decode_values(key: str, raw: Mapping[str, Any]) -> dict[str, object]:
    """The stored values of ``key`` as the types its placeholders declare (unknown names dropped)."""
    declared = catalogue.spec(key).placeholders
    return {name: _decode(kind, raw[name]) for name, kind in declared.items() if name in raw}
