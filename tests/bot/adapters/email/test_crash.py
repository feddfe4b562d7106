"""kill -9 mid-broadcast to e-mail addresses, restart: every address gets its message, one id.

The bot runs as its own process (``electionbot serve`` on a SQLite file) and e-mails 40
addresses through the test's relay, which keeps each message and answers it 0.4 s later, so the
kill lands while messages have reached the relay but the bot has not heard so. After the
restart the rows in flight come back when their lease (30 s) runs out and are sent again
marked "Repeat: ..." with the same Message-ID: per address exactly one Message-ID arrives (a
mail client shows one message), every second copy says it may be a repeat, none is lost.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.adapters.email.message import message_id
from bot.db.engine import Database
from bot.messages import REPEAT_LINE, Destination, Reply
from bot.outbox.queue import enqueue_many
from tests.bot.adapters.email.conftest import relay_settings
from tests.fakes.smtp import MAIL_FROM, SmtpRelay
from tests.scale.test_multiprocess import _wait_http
from tests.support import free_port, migrated

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
ADDRESSES = [f"member{i:02d}@partner{i % 7}.example.org" for i in range(40)]
ALERT = Reply(text="Polls in Ward 3 stay open until 9 pm by court order.",
              title="Ward 3 hours extended", marking="TLP:GREEN")


async def count(db: Database, where: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(sa.text(
            f"SELECT count(*) FROM outbox_message WHERE {where}"))).scalar_one())


def spawn(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


async def test_kill_9_mid_email_broadcast_every_address_once(tmp_path: Path) -> None:
    with SmtpRelay(tmp_path / "relay") as relay:
        relay.slow(0.4, after_keeping=True)
        settings = relay_settings(tmp_path, relay, pacing={"per_second": 4})
        url = settings.env.DATABASE_URL
        migrated(url)
        db = Database(url)
        async with db.session() as session:
            await enqueue_many(session, [(f"alert:crash:{i}", Destination.email(a), ALERT)
                                         for i, a in enumerate(ADDRESSES)])
            await session.commit()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "MICROSOFT_", "DATABASE_URL", "ELECTIONBOT_",
                                    "SMTP_", "MAIL_FROM"))}
        env.update({**relay.env(), "ELECTIONBOT_CONFIG": str(settings.config_path),
                    "DATABASE_URL": url})
        port, log = free_port(), tmp_path / "bot.log"
        proc = spawn(env, port, log)
        try:
            deadline = time.monotonic() + 60
            while len(relay.messages) < 10:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the broadcast did not start"
                await asyncio.sleep(0.02)
            proc.send_signal(signal.SIGKILL)  # messages kept by the relay, answers on the way
            proc.wait(timeout=10)
            in_flight = await count(db, "status = 'sending'")
            received_at_kill = len(relay.messages)
            proc = spawn(env, port, log)
            await _wait_http(f"http://127.0.0.1:{port}/readyz")
            deadline = time.monotonic() + 120  # lapsed leases (30 s) come back, then are sent
            while await count(db, "status IN ('sending', 'pending')"):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the restarted bot did not finish"
                await asyncio.sleep(0.2)
            assert await count(db, "status <> 'sent'") == 0
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            await db.close()
        copies: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for received in relay.messages:  # in arrival order
            body = received.message.get_body(("plain",))
            assert body is not None
            copies[received.rcpt_tos[0]].append((received.message_id, body.get_content()))
    duplicates = sum(len(c) - 1 for c in copies.values())
    figures = {"addresses": len(ADDRESSES), "received_at_kill": received_at_kill,
               "in_flight_at_kill": in_flight, "delivered": len(copies),
               "duplicates": duplicates,
               "marked_repeats": sum(REPEAT_LINE in text for c in copies.values()
                                     for _, text in c)}
    print("\ne-mail crash test:", json.dumps(figures))  # noqa: T201 (the asked-for figures)
    assert sorted(copies) == sorted(ADDRESSES)  # nothing lost
    domain = MAIL_FROM.rpartition("@")[2]
    for i, address in enumerate(ADDRESSES):
        ids = {mid for mid, _ in copies[address]}
        assert ids == {message_id(f"alert:crash:{i}", domain)}, address  # one message per reader
        for _, later in copies[address][1:]:  # every second copy says it may be one
            assert later.splitlines()[1] == REPEAT_LINE  # (after the TLP marking)
    assert 0 < in_flight and duplicates <= in_flight
    assert duplicates > 0, "the kill must catch messages the relay had kept"
