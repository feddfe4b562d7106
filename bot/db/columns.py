"""Column types shared by the domains' tables."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa


class EnumText(sa.types.TypeDecorator[StrEnum]):
    """A closed set (a ``StrEnum``) stored as its plain text value, read back as the member.

    The column stays ``VARCHAR(length)``: the stored values and the schema are the ones a plain
    ``str`` column had, so no migration is needed and SQL written by hand keeps working. A
    stored value outside the set (an edited row) is handed back as stored, so the record's
    verification can report it instead of failing to load the row.
    """

    impl = sa.String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        """Store members of ``enum`` in a ``VARCHAR(length)``."""
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        """Write the member's value (a plain string is checked against the set)."""
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        """The member for a known value; anything else as stored."""
        if value is None:
            return None
        try:
            return self.enum(value)
        except ValueError:
            return value
