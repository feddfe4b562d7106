"""One alert to 5,000 e-mail recipients and 5,000 chat destinations in the same run.

E-mail: the real EmailTransport (STARTTLS, AUTH, pooled connections) through the real outbox to
a real SMTP relay (aiosmtpd, the tests' ``tests/fakes/smtp.py``) in a process of its own, paced
at the relay rate configured in app.yaml ``email.pacing``. Chat: the destinations, fake
platforms (two strict Slack workspaces, the strict Bot Connector) and transports of
``broadcast_bench.py``. The bot runs in its own process (web and outbox, SQLite file), the
person filing incidents in another (quick reports through the web chat: how long the bot takes
to acknowledge a report while it broadcasts), this harness in a fourth.

Reports completion, the fraction of the configured relay rate achieved (messages the relay
accepted over the time from its first to its last, against ``per_second``), each chat pacing
group's fraction of its limit, duplicates (by recipient and by Message-ID) and lost, the bot
process's CPU and memory, the machine's load, and incident report latency idle and during the
broadcast. Prints one JSON document (also written to ``--out``).

    .venv/bin/python benchmarks/email_bench.py [--email 5000] [--chat 5000] [--rate 100]
        [--reports 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import broadcast_bench as bb  # noqa: E402

from bot.adapters.slack.send import SlackTransport, build_send_client  # noqa: E402
from bot.db.engine import utcnow  # noqa: E402
from bot.messages import Destination  # noqa: E402

try:  # as ``serve`` does once it is ready (a baseline checkout may only freeze)
    from bot.ops.runtime import ready_to_serve
except ImportError:
    from bot.ops.heap import freeze_startup_objects as ready_to_serve  # noqa: E402
from bot.outbox.pacing import pacing_group  # noqa: E402
from handlers.alerts import service  # noqa: E402
from handlers.alerts.forms import validate  # noqa: E402
from handlers.alerts.links import ack_links  # noqa: E402
from handlers.alerts.models import NetworkMember  # noqa: E402
from handlers.alerts.service import Actor  # noqa: E402
from tests.fakes.smtp import SmtpRelay  # noqa: E402
from tests.handlers.alerts.conftest import ALERTS, ROLES, compose_values  # noqa: E402
from tests.support import make_settings, running_bot  # noqa: E402


def relay_process(conn: Connection) -> None:
    """The office's relay (STARTTLS + AUTH) in its own process; reports what it accepted."""
    with tempfile.TemporaryDirectory() as tmp, SmtpRelay(Path(tmp)) as relay:
        conn.send({"env": relay.env(), "ca_file": str(relay.ca_file)})
        while (command := conn.recv()) != "stop":
            assert command == "report"
            messages = relay.messages
            times = sorted(m.at for m in messages)
            conn.send({"by_recipient": dict(Counter(r for m in messages for r in m.rcpt_tos)),
                       "copies_per_id": dict(Counter(m.message_id for m in messages)),
                       "accepted": len(messages), "connections": relay.connections,
                       "first_to_last_s": times[-1] - times[0] if len(times) > 1 else 0.0})


def email_members(count: int) -> list[str]:
    """Members of partner organisations: 50 domains (churches, colleges, clerks' offices...)."""
    return [f"member{i}@partner{i % 50}.example.org" for i in range(count)]


def bot_process(chat: int, email: int, rate: float, urls: dict[str, Any],
                relay: dict[str, Any], conn: Connection) -> None:
    """The bot (`electionbot serve`) in its own process: sets up, sends on "send", reports."""
    asyncio.run(_bot(chat, email, rate, urls, relay, conn))


async def _bot(chat: int, email: int, rate: float, urls: dict[str, Any], relay: dict[str, Any],
               conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(
            Path(tmp), relay["env"], roles=ROLES,
            alerts={**ALERTS, "pacing": {"slack_workspace_per_second":
                                         bb.SLACK_WORKSPACE_BUDGET}},
            email={"ca_file": relay["ca_file"], "connections": 4,
                   "pacing": {"per_second": rate}})
        async with running_bot(settings, background=True) as bot:
            services = bot.services
            slack = bb.ByWorkspace({
                ws: SlackTransport(build_send_client(url, "xoxb-bench"), services.db)
                for ws, url in urls["slack"].items()})
            services.outbox.register("slack", slack)
            dests = [d for d, _ in bb.network(chat)] + [f"email:{a}" for a in
                                                        email_members(email)]
            async with services.db.session() as s:
                for d in dests:
                    if d.startswith("teams:"):
                        s.add(bb.teams_reference(d.split(":", 2)[2], urls["teams"] + "/"))
                for i, d in enumerate(dests):
                    s.add(NetworkMember(group_name="bench", tier="T1", destination=d,
                                        organisation=f"Org {i % 50}", jurisdiction="KS"))
                await s.commit()
            ready_to_serve()
            cpu0 = time.process_time()
            conn.send({"url": bot.url, "rss_idle": bb.rss_mb()})
            assert await loop.run_in_executor(None, conn.recv) == "send"
            app, now = settings.app, utcnow()
            clean, _ = validate(compose_values(tiers="", groups="bench", tlp="CLEAR"), app, now,
                                child=False, known_groups={"bench"})
            assert clean is not None
            actor = Actor("webchat:local:bc1", app)
            alert, _ = await service.create_draft(db=services.db, app=app, actor=actor,
                                                  clean=clean, reply_to="webchat:local:@bc1",
                                                  now=now)
            start = time.perf_counter()
            await service.send(db=services.db, app=app, actor=actor, public_id=alert.public_id,
                               now=now, links=ack_links(settings))
            elapsed = await bb.wait_done(services, alert.public_id, len(dests), start)
            conn.send({"completion_seconds": elapsed,
                       "per_group": await group_timings(services, alert.public_id),
                       "rss": bb.rss_mb(), "cpu_seconds": round(time.process_time() - cpu0, 2),
                       "dead": await dead_letters(services, alert.public_id)})
            assert await loop.run_in_executor(None, conn.recv) == "stop"
            for transport in slack.transports.values():
                await transport.aclose()


async def group_timings(services: Any, public_id: str) -> dict[str, Any]:
    """``broadcast_bench.group_timings`` by pacing group (all e-mail shares ``email:relay``)."""
    import sqlalchemy as sa

    async with services.db.engine.connect() as c:
        rows = (await c.execute(sa.text(
            "SELECT destination, sent_at, attempts FROM outbox_message WHERE key LIKE :p "
            "AND status = 'sent'"), {"p": f"alert:{public_id}:send:%"})).all()
    spans: dict[str, list[tuple[datetime, int]]] = {}
    for destination, sent_at, attempts in rows:
        at = sent_at if isinstance(sent_at, datetime) else datetime.fromisoformat(str(sent_at))
        spans.setdefault(pacing_group(Destination.parse(destination)), []).append((at, attempts))
    out = {}
    for group, items in sorted(spans.items()):
        times = sorted(t for t, _ in items)
        span = (times[-1] - times[0]).total_seconds()
        out[group] = {"sent": len(items), "first_to_last_s": round(span, 1),
                      "first_to_last_s_exact": span,
                      "per_second": round(len(items) / span, 1) if span else None,
                      "retried": sum(1 for _, a in items if a > 1)}
    return out


async def dead_letters(services: Any, public_id: str) -> dict[str, int]:
    """Dead letters of the alert by platform and reason (first 40 characters)."""
    import sqlalchemy as sa

    async with services.db.engine.connect() as c:
        rows = (await c.execute(sa.text(
            "SELECT platform, last_error FROM outbox_message WHERE key LIKE :p "
            "AND status = 'dead'"), {"p": f"alert:{public_id}:send:%"})).all()
    return dict(Counter(f"{p}: {(e or '')[:40]}" for p, e in rows))


async def run(chat: int, email: int, rate: float, reports: int) -> dict[str, Any]:
    spawn = multiprocessing.get_context("spawn")
    here, there = multiprocessing.Pipe()
    platforms = multiprocessing.Process(target=bb.world, args=(there,), daemon=True)
    platforms.start()
    urls = here.recv()
    to_relay, relay_end = spawn.Pipe()
    relay = spawn.Process(target=relay_process, args=(relay_end,), daemon=True)
    relay.start()
    relay_info = to_relay.recv()
    loop = asyncio.get_running_loop()
    to_bot, bot_end = spawn.Pipe()
    bot = spawn.Process(target=bot_process, daemon=True,
                        args=(chat, email, rate, urls, relay_info, bot_end))
    bot.start()
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1) as people, bb.LoadSampler() as load:
        ready = await loop.run_in_executor(None, to_bot.recv)
        idle = await loop.run_in_executor(people, bb.reporter, ready["url"], reports, 0.02)
        busy_run = loop.run_in_executor(people, bb.reporter, ready["url"], reports, 0.1)
        to_bot.send("send")
        done = await loop.run_in_executor(None, to_bot.recv)
        busy = await busy_run
    to_bot.send("stop")
    bot.join(30)
    to_relay.send("report")
    mail = to_relay.recv()
    to_relay.send("stop")
    relay.join(10)
    here.send("report")
    report = here.recv()
    here.send("stop")
    platforms.join(10)
    return summary(chat, email, rate, urls, done, mail, report, ready, load, idle, busy)


def summary(chat: int, email: int, rate: float, urls: dict[str, Any], done: dict[str, Any],
            mail: dict[str, Any], report: dict[str, Any], ready: dict[str, Any],
            load: bb.LoadSampler, idle: list[float], busy: list[float]) -> dict[str, Any]:
    addresses = email_members(email)
    copies = Counter({a: mail["by_recipient"].get(a, 0) for a in addresses})
    chat_wanted = {d for d, _ in bb.network(chat)}
    chat_counts = Counter({d: report["delivered"].get(d, 0) for d in chat_wanted})
    limits = {f"slack:{ws}": bb.SLACK_WORKSPACE_BUDGET for ws in urls["slack"]}
    limits.update({"teams:tenant1": bb.TEAMS_TENANT, "email:relay": rate})
    groups = done["per_group"]
    for group, timing in groups.items():
        span = timing.pop("first_to_last_s_exact")
        timing["fraction_of_limit"] = (round((timing["sent"] - 1) / span / limits[group], 3)
                                       if span and group in limits else None)
    span = mail["first_to_last_s"]
    return {
        "destinations": {"email": email, "chat": chat},
        "relay": {"configured_per_second": rate, "accepted": mail["accepted"],
                  "first_to_last_s": round(span, 1),
                  "achieved_per_second": round((mail["accepted"] - 1) / span, 1) if span else None,
                  "fraction_of_configured_rate": round((mail["accepted"] - 1) / span / rate, 3)
                  if span else None, "connections_opened": mail["connections"]},
        "completion_seconds": round(done["completion_seconds"], 1),
        "email": {"lost": sum(1 for n in copies.values() if n == 0),
                  "duplicates_by_recipient": sum(1 for n in copies.values() if n > 1),
                  "duplicates_by_message_id": sum(1 for n in mail["copies_per_id"].values()
                                                  if n > 1)},
        "chat": {"lost": sum(1 for n in chat_counts.values() if n == 0),
                 "duplicates": sum(1 for n in chat_counts.values() if n > 1),
                 "throttled_429": report["throttled"]},
        "dead_letters": done["dead"],
        "fraction_of_limit_per_group": {g: t["fraction_of_limit"] for g, t in groups.items()},
        "per_group": groups,
        "bot_process": {"rss_idle_mb": ready["rss_idle"]["now_mb"],
                        "rss_peak_mb": done["rss"]["peak_mb"],
                        "cpu_seconds_during_broadcast": done["cpu_seconds"]},
        "machine_load": load.summary(),
        "incident_latency": {"idle": bb.latency(idle), "during_broadcast": bb.latency(busy)},
        "database": "sqlite file",
        "processes": "bot (serve: web and outbox); SMTP relay; chat platforms; reporter; harness",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--email", type=int, default=5000)
    parser.add_argument("--chat", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0,
                        help="the relay's configured rate (app.yaml email.pacing.per_second)")
    parser.add_argument("--reports", type=int, default=200,
                        help="incidents filed while idle, and again during the broadcast")
    parser.add_argument("--out", type=Path, help="also write the JSON document to this file")
    args = parser.parse_args()
    result = asyncio.run(run(args.chat, args.email, args.rate, args.reports))
    result["commit"] = bb.commit()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
