"""Reads take turns; writes never wait for a turn.

The event loop runs whatever is ready in the order it became ready. Under a read load,
sixteen readers are nearly always ready, and a write, which awaits the database a dozen
times between its request and its answer, rejoined the back of that queue at each await:
a write that needs a few milliseconds of work answered in 50 to 150 ms. Reads are bound
by the CPU, so letting more than a few of them run at once gains no throughput: they only
lengthen the queue. So at most ``slots`` reads run at once, the others waiting on a
semaphore, off the loop's queue; mutations do not take a slot, and each of their awaits
waits behind a few reads at most. A read takes a turn to look up the response cache, and
another to execute if it must; waiting for another request's execution of the same read
(single flight) takes none. And a read that renders many entries afresh renders them in
turns of the loop (``Turns``, used by api/graphql/execution.py), so that what else is
ready gets in between.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from functools import lru_cache, partial

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse

DOCUMENTS = 256  # operation kinds remembered, by document text

Turn = Callable[[], AbstractAsyncContextManager[None]]


class ReadAdmission:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._turns = asyncio.Semaphore(slots)

    def turn(self, query: str | None, operation_name: str | None, max_tokens: int) -> Turn:
        """What a request enters for each of its turns: a turn of the semaphore for a read
        (a query, or a document that does not parse: its error is cheap either way);
        nothing for a mutation."""
        if is_mutation(query, operation_name, max_tokens):
            return contextlib.nullcontext
        return partial(self._take, self._turns)

    @staticmethod
    @contextlib.asynccontextmanager
    async def _take(turns: asyncio.Semaphore) -> AsyncIterator[None]:
        async with turns:
            yield


@lru_cache(maxsize=DOCUMENTS)
def is_mutation(query: str | None, operation_name: str | None, max_tokens: int) -> bool:
    if query is None:
        return False
    try:
        document = parse(query, max_tokens=max_tokens, no_location=True)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)
                  and (operation_name is None or (d.name and d.name.value == operation_name))]
    return len(operations) == 1 and operations[0].operation is OperationType.MUTATION


# Entries rendered afresh in one go before the loop serves anything else (a write's next
# step, say): about 5 ms of CPU on W1's timeline, against 40 ms for the whole of it.
RENDERS_PER_TURN = 25


class Turns:
    """Splits a long run of synchronous renderings into turns of the event loop: the first
    ``size`` renderings of an execution run at once, the next ``size`` once the loop has
    gone round once, and so on. Each turn is a future the next opens after the loop has run
    what was ready, I/O included, so other requests get in between two turns."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._count = 0
        self._last: asyncio.Future[None] | None = None

    def next(self) -> asyncio.Future[None] | None:
        """None for a rendering in the first turn; else the future its turn opens with."""
        self._count += 1
        if self._count <= self.size:
            return None
        if (self._count - 1) % self.size == 0:
            loop = asyncio.get_running_loop()
            turn = loop.create_future()
            previous = self._last
            if previous is None:
                loop.call_soon(_open, turn)
            else:
                previous.add_done_callback(lambda _: loop.call_soon(_open, turn))
            self._last = turn
        assert self._last is not None
        return self._last


def _open(turn: asyncio.Future[None]) -> None:
    if not turn.done():
        turn.set_result(None)
