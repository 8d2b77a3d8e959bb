"""Group reads (server/live/group_read.py): what is asked while a read runs
shares the next one; each caller still gets its own answer, a failed read fails
only its own batch, and a caller that leaves does not hold up the others."""

from __future__ import annotations

import asyncio

import pytest

from server.live.group_read import GroupRead


async def test_reads_asked_together_share_a_read_and_each_gets_its_own_answer() -> None:
    asked: list[list[int]] = []

    async def read(keys: list[int]) -> dict[int, int]:
        asked.append(keys)
        await asyncio.sleep(0.01)  # a query's round trip: more callers queue meanwhile
        return {k: k * k for k in keys}

    group: GroupRead[int, int] = GroupRead(read)
    try:
        answers = await asyncio.gather(*(group.get(k) for k in [*range(100), 7, 7]))
        assert answers == [k * k for k in range(100)] + [49, 49]
        assert 1 <= group.batches <= 3
        assert all(len(set(keys)) == len(keys) for keys in asked)  # a key asked twice, read once
        assert await group.get(12) == 144  # a lone read later needs no company
    finally:
        await group.stop()


async def test_a_failed_read_fails_its_batch_only() -> None:
    failing = True

    async def read(keys: list[str]) -> dict[str, str]:
        if failing:
            raise ConnectionError("the database went away")
        return {k: k.upper() for k in keys}

    group: GroupRead[str, str] = GroupRead(read)
    try:
        results = await asyncio.gather(*(group.get(k) for k in "abc"), return_exceptions=True)
        assert all(isinstance(r, ConnectionError) for r in results)
        failing = False
        assert await group.get("d") == "D"
    finally:
        await group.stop()


async def test_a_caller_that_leaves_does_not_hold_up_the_others() -> None:
    release = asyncio.Event()

    async def read(keys: list[int]) -> dict[int, int]:
        await release.wait()
        return {k: -k for k in keys}

    group: GroupRead[int, int] = GroupRead(read)
    try:
        leaving = asyncio.create_task(group.get(1))
        staying = asyncio.create_task(group.get(2))
        await asyncio.sleep(0.01)
        leaving.cancel()
        release.set()
        assert await staying == -2
        with pytest.raises(asyncio.CancelledError):
            await leaving
    finally:
        await group.stop()


async def test_stopping_cancels_whoever_still_waits() -> None:
    async def read(keys: list[int]) -> dict[int, int]:
        await asyncio.sleep(60)
        return {}

    group: GroupRead[int, int] = GroupRead(read)
    waiting = asyncio.create_task(group.get(1))
    await asyncio.sleep(0.01)
    await group.stop()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 5)
