"""What acknowledgement links cost: signing and checking one, and sending to N e-mail members.

Measures, in one run on this machine: CPU per link signed and per link checked (joserfc HS256,
HKDF-derived key); then ``service.send`` of one alert on a SQLite file to N web chat members
(the baseline: one shared copy), to N e-mail members for an alert asking no acknowledgement
(their own copies, no links) and to N e-mail members with four signed links each, each on a
fresh database: CPU of this process, wall time, and the longest the event
loop was held (a 1 ms ticker) while the send ran. Prints one JSON document with the machine's
load average.

    .venv/bin/python benchmarks/ack_links_bench.py [--members 5000] [--tokens 20000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db.engine import Database, utcnow  # noqa: E402
from handlers.alerts import service  # noqa: E402
from handlers.alerts.enums import AckKind  # noqa: E402
from handlers.alerts.forms import validate  # noqa: E402
from handlers.alerts.links import AckClaim, LinkSigner, ack_links  # noqa: E402
from handlers.alerts.service import Actor  # noqa: E402
from tests.support import make_settings, migrated  # noqa: E402


def tokens(count: int) -> dict[str, float]:
    signer = LinkSigner([b"x" * 40])
    expires = datetime.now(UTC) + timedelta(days=1)
    claims = [AckClaim("AL-ABCDEFGH", i + 1, AckKind.RECEIVED, expires) for i in range(count)]
    started = time.process_time()
    made = [signer.sign(c) for c in claims]
    signed = time.process_time() - started
    started = time.process_time()
    for token in made:
        signer.verify(token)
    checked = time.process_time() - started
    return {"tokens": count, "sign_us_cpu": round(signed / count * 1e6, 1),
            "verify_us_cpu": round(checked / count * 1e6, 1),
            "token_chars": max(len(t) for t in made)}


async def send_to(members: int, email: bool, ack: bool = True) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="ack-bench-"))
    destination = ("email:member{}@partner{}.example.org" if email
                   else "webchat:local:@member{}-{}")
    group = {"name": "many", "tier": "T1", "members": [
        {"destination": destination.format(i, i % 97), "organisation": f"Org {i % 500}",
         "jurisdiction": "KS"} for i in range(members)]}
    settings = make_settings(folder, env={"ELECTIONBOT_LINK_KEY": "k" * 40},
                             roles={"broadcaster": ["webchat:local:bc1"]},
                             alerts={"groups": [group]})
    migrated(settings.env.DATABASE_URL)
    db, now = Database(settings.env.DATABASE_URL), utcnow()
    actor = Actor("webchat:local:bc1", settings.app)
    clean, errors = validate({"alert_type": "rumor_control", "severity": "moderate",
                              "headline": "Polling hours are unchanged", "body": "Polls 6-8.",
                              "groups": "many", "tiers": "", "jurisdictions": "KS",
                              "tlp": "GREEN", "ack_required": "yes" if ack else "no",
                              "expires_hours": "24",
                              "exercise": "no"}, settings.app, now, child=False,
                             known_groups={"many"})
    assert clean is not None, errors
    alert, _ = await service.create_draft(db=db, app=settings.app, actor=actor, clean=clean,
                                          reply_to="webchat:local:@bc1", now=now)
    held, stop = [0.0], asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.001)
            current = time.perf_counter()
            held[0] = max(held[0], current - last)
            last = current
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.01)
    cpu, wall = time.process_time(), time.perf_counter()
    _, count = await service.send(db=db, app=settings.app, actor=actor,
                                  public_id=alert.public_id, now=now, links=ack_links(settings))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stop.set()
    await tick
    await db.close()
    return {"recipients": count, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "cpu_ms_per_recipient": round(cpu / count * 1e3, 3),
            "loop_held_max_ms": round(held[0] * 1e3, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--tokens", type=int, default=20000)
    args = parser.parse_args()
    result = {"links": tokens(args.tokens),
              "send_chat_baseline": await send_to(args.members, email=False),
              "send_email_no_ack_no_links": await send_to(args.members, email=True, ack=False),
              "send_email_with_links": await send_to(args.members, email=True),
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
