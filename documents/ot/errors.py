"""Exceptions raised by the OT core."""

from __future__ import annotations

__all__ = ["InvalidDelta"]


class InvalidDelta(ValueError):
    """Raised for anything that is not a valid delta (see ``validate``).

    The message is meant for humans (it may be shown in server logs and sent
    back to a client); it never echoes large chunks of the input.
    """
