"""The venue network drops between a table and the real server: the comments
typed meanwhile wait, then all arrive soon after the link returns, in order, once."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from table_client.backoff import Backoff
from table_client.endpoint import table_ws_base
from table_client.events import Link
from table_client.outbox import Outbox, State, table_key
from table_client.sender import Sender
from tests.support.proxy import CuttableProxy
from tests.support.server import LiveServer, free_port
from tests.support.table import Until, settled, stored_seqs, until_sender

# The issue asks for 60 s; the client's behaviour does not depend on how long
# the link was down (its backoff is capped at 10 s), so a shorter cut keeps CI quick.
CUT_SECONDS = 8
# After the cut the client's next try comes at a random moment up to the backoff's
# cap (full jitter), so the link may be back for up to CAP seconds before it notices.
CAP = 10.0


async def test_link_dropped_mid_stream_every_comment_arrives_in_order_once(
    live_server: LiveServer, tmp_path: Path, until: Until
) -> None:
    server_port = int(live_server.base.rsplit(":", 1)[1])
    proxy = CuttableProxy(free_port(), ("127.0.0.1", server_port))
    await proxy.start()
    token = live_server.tokens.tables[6]
    base = table_ws_base(f"http://127.0.0.1:{proxy.port}")
    sender = Sender(
        base,
        token,
        Outbox(tmp_path / "o.sqlite3", table_key(base, token)),
        backoff=Backoff(base=0.5, cap=CAP),
    )
    task = asyncio.create_task(sender.run())
    try:
        await until(sender, settled(sender))
        typed = [sender.submit(f"before the drop {i}") for i in range(10)]
        await asyncio.sleep(0.05)  # some are in flight when the link goes
        await proxy.cut()
        typed += [sender.submit(f"typed while offline {i}") for i in range(40)]
        await until(sender, lambda: sender.status.link is not Link.CONNECTED)
        assert sender.status.waiting > 0
        await asyncio.sleep(CUT_SECONDS)
        await proxy.start()
        back = time.monotonic()
        await until_sender(sender, settled(sender), within=CAP + 20)  # a loaded CI machine
        drained = time.monotonic() - back
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await proxy.cut()
    print(f"all {len(typed)} comments acked {drained:.2f} s after the link returned")
    assert drained <= CAP + 10, "reconnected within the backoff cap, then drained"
    assert all(c.state is State.ACKED for c in sender.outbox.all())
    # Stored once each (stored_seqs checks), in typing order, numbered 1..50: a
    # comment stored just before the cut, its ack lost, keeps its number.
    seqs = stored_seqs(live_server.db_url, [c.uuid for c in typed])
    assert seqs == list(range(1, 51)), seqs
    sender.outbox.close()
