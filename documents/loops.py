"""One object per running event loop: daphne runs one loop for the process; the tests start one
per test, so what belongs to a closed loop is dropped when the next loop asks."""

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    def __init__(
        self,
        make: Callable[[asyncio.AbstractEventLoop], T],
        on_drop: Callable[[T], None] | None = None,
    ) -> None:
        self.make, self.on_drop = make, on_drop
        self.entries: dict[int, tuple[asyncio.AbstractEventLoop, T]] = {}

    def get(self) -> T:
        """The running loop's object, made on first use."""
        loop = asyncio.get_running_loop()
        entry = self.entries.get(id(loop))
        if entry is None or entry[0] is not loop:
            for key, (old, value) in list(self.entries.items()):
                if old.is_closed():
                    if self.on_drop is not None:
                        self.on_drop(value)
                    del self.entries[key]
            entry = self.entries[id(loop)] = (loop, self.make(loop))
        return entry[1]

    def live(self) -> list[T]:
        return [value for loop, value in self.entries.values() if not loop.is_closed()]
