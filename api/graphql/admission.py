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
(single flight) takes none.
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
