"""Reads take turns, at most ``slots`` at once; a mutation never waits for a turn."""

from __future__ import annotations

import asyncio

from api.graphql.admission import ReadAdmission, is_mutation

TOKENS = 5_000


def test_mutations_are_told_from_everything_else() -> None:
    assert is_mutation("mutation { reportFact(input: {}) { event { position } } }", None,
                       TOKENS)
    assert not is_mutation("{ timelines { slug } }", None, TOKENS)
    assert not is_mutation("subscription { events { position } }", None, TOKENS)
    two = "query Read { timelines { slug } } mutation Write { x }"
    assert is_mutation(two, "Write", TOKENS) and not is_mutation(two, "Read", TOKENS)
    assert not is_mutation(two, None, TOKENS)  # ambiguous: refused later, as a read
    assert not is_mutation("mutation {", None, TOKENS)  # does not parse: a cheap refusal
    assert not is_mutation(None, None, TOKENS)


async def test_reads_wait_for_a_turn_and_mutations_do_not() -> None:
    admission = ReadAdmission(slots=2)
    release = asyncio.Event()
    running: list[str] = []

    async def request(name: str, query: str) -> None:
        async with admission.turn(query, None, TOKENS)():
            running.append(name)
            await release.wait()

    reads = [asyncio.create_task(request(f"read {n}", "{ timelines { slug } }"))
             for n in range(4)]
    await asyncio.sleep(0.01)
    assert running == ["read 0", "read 1"]
    write = asyncio.create_task(request("write", "mutation { x }"))
    await asyncio.sleep(0.01)
    assert running == ["read 0", "read 1", "write"]
    release.set()
    await asyncio.gather(*reads, write)
    assert sorted(running) == ["read 0", "read 1", "read 2", "read 3", "write"]
