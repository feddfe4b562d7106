"""Broadcast of one alert to 5,000 destinations against fake platforms that enforce the limits.

Destinations: channels and DMs in two Slack workspaces and conversations in one Teams tenant.
Slack: the real SlackTransport (chat.postMessage with message metadata, conversations.open for
DMs), one per workspace, each against its own FakeSlackApi that answers 429 when a channel gets
more than 1 post a second or the workspace more than its budget in any one-second window.
Teams: the real TeamsTransport (stored conversation references, Bot Framework connector
client) against the fake Bot Connector, enforcing 7/1 s and 60/30 s per conversation and
30/1 s per tenant with 429 + Retry-After. Everything runs through the real outbox worker and
the real server (web chat), on a SQLite file (default) or a fresh local PostgreSQL database.

The bot runs in a process of its own (set-up, the send and the outbox all happen there), the
fake platforms in another, the person filing incidents in a third and this harness in a fourth,
as in production: only the bot's work is billed to the bot's process. With ``--split`` the bot
itself is two processes, as on the scale path: web (no outbox) and a worker that sends.

Reports completion time (as the harness sees it, and from the press to the last delivery
recorded), achieved rate as a fraction of the limits' ceiling (overall and per platform), per
pacing group timings, duplicates, lost, 429s, sends put back for missing their slot, the bot
process's CPU seconds per 1,000 sends, its own RSS (idle, end, peak), the machine's load
average during the run, and p50 / p99 / max latency of quick incident reports (web chat) while
idle and from the moment of sending.

How the fraction is measured: ``achieved_fraction_of_ceiling`` is the ceiling (the busiest
limit's sends over its rate) over the whole time from pressing send to the harness seeing the
last outcome: it counts the send call, the first claim and the last outcomes' write, so a
pacer at exactly its 0.97 target scores well under 0.97. ``fraction_of_limit_per_platform``
uses the bot's recorded ``sent_at`` (answer times, written in batches).
``platform_fraction_of_limit_while_backlog`` is each limit as the fake platform counted it:
arrivals of accepted requests from the first to the last (the limit has a backlog all that
time), with the ramp-up and ramp-down reported apart (``platform_view``); all are printed side
by side. ``gate_waits`` also gives the mean time a send stays counted in flight: the gate lets
``limit`` sends start per ``per + flight`` seconds, so above about 30 ms of flight it, not the
0.97 pacing, sets a one-second limit's rate. Prints one JSON document (also written to ``--out``).
``BENCH_ROOT=DIR`` measures another checkout with this same script (run it with that checkout's
interpreter). ``--profile FILE`` writes a cProfile of the bot process's broadcast (the event loop
thread's CPU time, so a loaded machine does not bill waiting for a core); the bot's pid
is printed on stderr for a sampling profiler (py-spy) instead.

    .venv/bin/python benchmarks/broadcast_bench.py [--destinations 5000] [--reports 300]
        [--database postgresql [--split]] [--out FILE] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import psycopg

# BENCH_ROOT runs this script against another checkout (the commit before a change, say).
ROOT = Path(os.environ.get("BENCH_ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))

from app.config import load_settings  # noqa: E402
from app.server import create_app  # noqa: E402

try:  # the code measured may be older than app/services.py (a baseline checkout)
    from app.services import build_services
except ImportError:
    from app.server import build_services  # type: ignore[attr-defined, no-redef]
from bot.adapters.slack.send import SlackTransport, build_send_client  # noqa: E402
from bot.db.engine import utcnow  # noqa: E402
from bot.db.models import ConversationReference  # noqa: E402
from bot.messages import Destination, Reply  # noqa: E402

try:  # as ``serve`` does once it is ready (a baseline checkout may only freeze)
    from bot.ops.runtime import ready_to_serve
except ImportError:
    from bot.ops.heap import freeze_startup_objects as ready_to_serve  # noqa: E402
from handlers.alerts import service  # noqa: E402
from handlers.alerts.forms import validate  # noqa: E402
from handlers.alerts.models import NetworkMember  # noqa: E402
from handlers.alerts.service import Actor  # noqa: E402
from tests.fakes.bot_connector import FakeBotConnector  # noqa: E402
from tests.fakes.slack_api import FakeSlackApi  # noqa: E402
from tests.handlers.alerts.conftest import alert_settings, compose_values  # noqa: E402
from tests.support import running_bot  # noqa: E402

SLACK_WORKSPACE_BUDGET = 60.0  # per second, configured in alerts.pacing
TEAMS_TENANT = 30.0
ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
WARM_UP = 5  # first requests open connections; not counted


class Window:
    """Sliding-window counter: at most ``limit`` events per ``seconds``."""

    def __init__(self, limit: float, seconds: float) -> None:
        self.limit, self.seconds, self.times = limit, seconds, deque()

    def allow(self, now: float) -> bool:
        while self.times and now - self.times[0] >= self.seconds:
            self.times.popleft()
        if len(self.times) >= self.limit:
            return False
        self.times.append(now)
        return True


class StrictSlack(FakeSlackApi):
    """The fake Slack plus a workspace-wide window for chat.postMessage."""

    def __init__(self, budget: float) -> None:
        super().__init__()
        self.rate_limit_per_channel = 1.0
        self.workspace = Window(budget, 1.0)
        self.throttled = 0
        self.accepted: Counter[str] = Counter()
        self.arrivals: list[float] = []  # when each accepted post arrived (monotonic)

    def _rate_limited(self, channel: str) -> bool:
        now = time.monotonic()
        limited = super()._rate_limited(channel) or not self.workspace.allow(now)
        self.throttled += limited
        if not limited:
            self.accepted[channel] += 1
            self.arrivals.append(now)
        return limited


class OnThread:
    """Runs a fake Slack on its own thread and event loop, as a remote service would be: its
    request handling must not be billed to the bot's loop (the Bot Connector fake does the same).
    """

    def __init__(self, fake: FakeSlackApi) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> FakeSlackApi:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.fake.__aenter__(), self.loop).result(10)
        return self.fake

    def __exit__(self, *_exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.__aexit__(None, None, None),
                                         self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class ByWorkspace:
    """Stands in for the multi-workspace installation: one Slack transport per workspace."""

    def __init__(self, transports: dict[str, SlackTransport]) -> None:
        self.transports = transports

    async def send(self, destination: Destination, reply: Reply, *, key: str) -> str:
        return await self.transports[destination.workspace].send(destination, reply, key=key)

    async def prepare(self, destination: Destination) -> None:
        await self.transports[destination.workspace].prepare(destination)

    async def prepare_many(self, destinations: list[Destination]) -> None:
        if hasattr(SlackTransport, "prepare_many"):  # not in a baseline checkout before it
            for ws, transport in self.transports.items():
                await transport.prepare_many([d for d in destinations if d.workspace == ws])

    async def already_sent(self, destination: Destination, key: str, *,
                           since: Any = None) -> str | None:
        return await self.transports[destination.workspace].already_sent(destination, key,
                                                                         since=since)


class StrictConnector(FakeBotConnector):
    """The fake Bot Connector with Teams' per-conversation and per-tenant windows (one tenant)."""

    def __init__(self) -> None:
        super().__init__()
        self.tenant = Window(TEAMS_TENANT, 1.0)
        self.per_second: dict[str, Window] = {}  # type: ignore[assignment]
        self.per_30s: dict[str, Window] = {}
        self.throttled = 0
        self.arrivals: list[float] = []  # when each accepted send arrived (monotonic)

    def _throttled(self, conversation_id: str) -> bool:
        now = time.monotonic()
        ok = (self.per_second.setdefault(conversation_id, Window(7, 1.0)).allow(now)
              and self.per_30s.setdefault(conversation_id, Window(60, 30.0)).allow(now)
              and self.tenant.allow(now))
        self.throttled += not ok
        if ok:
            self.arrivals.append(now)
        return not ok


def world(conn: Connection) -> None:
    """The platforms' process: two strict Slack workspaces and the strict Bot Connector.

    Sends their URLs, then answers "report" with what each accepted, and stops on "stop".
    """
    slacks = {"TA": StrictSlack(SLACK_WORKSPACE_BUDGET), "TB": StrictSlack(SLACK_WORKSPACE_BUDGET)}
    threads = [OnThread(fake) for fake in slacks.values()]
    for thread in threads:
        thread.__enter__()
    teams = StrictConnector().__enter__()
    conn.send({"slack": {ws: f.api_url for ws, f in slacks.items()}, "teams": teams.url})
    while (command := conn.recv()) != "stop":
        assert command == "report"
        delivered: Counter[str] = Counter(
            f"teams:tenant1:{c.conversation_id}" for c in teams.sends())
        for ws, fake in slacks.items():
            for channel, n in fake.accepted.items():
                target = f"@{channel[1:]}" if channel.startswith("DU") else channel
                delivered[f"slack:{ws}:{target}"] += n
        arrivals = {f"slack:{ws}": fake.arrivals for ws, fake in slacks.items()}
        arrivals["teams:tenant1"] = teams.arrivals
        conn.send({"delivered": dict(delivered), "arrivals": arrivals,
                   "throttled": {"slack": sum(f.throttled for f in slacks.values()),
                                 "teams": teams.throttled}})
    for thread in threads:
        thread.__exit__(None, None, None)
    teams.__exit__(None, None, None)


def sender(config: str, database_url: str, slack_urls: dict[str, str],
           conn: Connection) -> None:
    """The scale path's worker process (`electionbot worker`'s outbox): sends until "stop"."""
    asyncio.run(_send_until_stopped(config, database_url, slack_urls, conn))


async def _send_until_stopped(config: str, database_url: str, slack_urls: dict[str, str],
                              conn: Connection) -> None:
    settings = load_settings({"ELECTIONBOT_CONFIG": config, "DATABASE_URL": database_url})
    services = build_services(settings)
    create_app(services, background=False)  # registers the Teams transport, as the worker does
    slack = ByWorkspace({ws: SlackTransport(build_send_client(url, "xoxb-bench"), services.db)
                         for ws, url in slack_urls.items()})
    services.outbox.register("slack", slack)
    ready_to_serve()
    task = asyncio.create_task(services.outbox.run(interval=0.2))
    conn.send("ready")
    cpu0 = time.process_time()
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    for transport in slack.transports.values():
        await transport.aclose()
    await services.db.close()
    conn.send({"rss": rss_mb(), "cpu_seconds": round(time.process_time() - cpu0, 2),
               "repaced": getattr(services.outbox, "repaced", None),
               "gate": gate_stats(services.outbox)})


def gate_stats(outbox: Any) -> dict[str, float] | None:
    """Sends that waited at the pacing gate (for answers, a window, a 429's hold), and how long
    (None for code without the gate)."""
    gate = getattr(outbox, "gate", None)
    if gate is None:
        return None
    stats = {"sends_waited": gate.waited, "seconds_waited": round(gate.waited_seconds, 2)}
    if getattr(gate, "answers", 0):  # how long a send stays counted in flight
        stats["mean_flight_ms"] = round(gate.flight_seconds / gate.answers * 1000, 1)
        stats["longest_flight_ms"] = round(gate.longest_flight * 1000, 1)
    return stats


async def loop_lag(out: list[float], every: float = 0.01) -> None:
    """How late the bot's event loop runs a timer due every ``every`` seconds (appended to
    ``out``, in seconds): the wait a send's answer or a gate's wake-up also sees."""
    loop = asyncio.get_running_loop()
    while True:
        due = loop.time() + every
        await asyncio.sleep(every)
        out.append(loop.time() - due)


def lag_summary(lags: list[float]) -> dict[str, float]:
    """Mean, p50 / p99 / max of the loop's lateness in milliseconds, and how many timers were
    more than 20 ms late."""
    if not lags:
        return {}
    ordered = sorted(lags)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)
    return {"mean_ms": round(sum(lags) / len(lags) * 1000, 1),
            "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0),
            "over_20ms": sum(1 for x in lags if x > 0.02)}


def platform_view(arrivals: list[float], limit: float, pressed: float,
                  done: float) -> dict[str, Any]:
    """One limit as the platform saw it: when its accepted requests arrived.

    The whole broadcast is queued at the press, so the limit has a backlog from its first
    arrival to its last: the fraction of the limit achieved is the arrivals after the first
    over that span (the achieved rate while there was work, per limit). Before the first
    arrival (the send call, the first claim) and after the last (recording the outcomes, the
    harness's polling) are reported apart, in seconds, as ramp-up and ramp-down; the overall
    figure, achieved_fraction_of_ceiling, keeps them in its denominator. ``busiest_1s``: the
    most arrivals in any one-second window (the platform's count; at most the limit).
    """
    times = sorted(arrivals)
    if len(times) < 2:
        return {"accepted": len(times)}
    span = times[-1] - times[0]
    busiest, low = 0, 0
    for high, t in enumerate(times):
        while t - times[low] >= 1.0:
            low += 1
        busiest = max(busiest, high - low + 1)
    return {"accepted": len(times), "first_to_last_s": round(span, 2),
            "fraction_of_limit_while_backlog": round((len(times) - 1) / span / limit, 3),
            "ramp_up_s": round(times[0] - pressed, 2), "ramp_down_s": round(done - times[-1], 2),
            "busiest_1s": busiest}


def teams_reference(conversation: str, service_url: str) -> ConversationReference:
    """A stored channel reference, as the bot keeps it after being added to a channel."""
    reference = {"channelId": "msteams", "serviceUrl": service_url,
                 "bot": {"id": "28:bench-bot", "name": "Electionbot"},
                 "conversation": {"id": conversation, "conversationType": "channel",
                                  "tenantId": "tenant1", "isGroup": True}}
    return ConversationReference(key=f"teams:tenant1:{conversation}", platform="teams",
                                 workspace="tenant1", channel=conversation,
                                 reference=json.dumps(reference))


def network(total: int) -> list[tuple[str, str]]:
    """(destination, jurisdiction): 40 % per Slack workspace (1 in 4 a DM), 20 % Teams."""
    teams = total // 5
    slack_each = (total - teams) // 2
    rows = []
    for ws in ("TA", "TB"):
        for i in range(slack_each):
            rows.append(f"slack:{ws}:@U{i}" if i % 4 == 0 else f"slack:{ws}:C{i}")
    rows += [f"teams:tenant1:conv{i}" for i in range(total - len(rows))]
    return [(d, "KS") for d in rows]


async def incident_latency(url: str, count: int, spacing: float) -> list[float]:
    """File ``count`` quick incident reports through the web chat; each one's latency."""
    out = []
    async with aiohttp.ClientSession() as session:
        for i in range(count):
            start = time.perf_counter()
            async with session.post(f"{url}/webchat/messages", json={
                    "user": f"reporter{i}",
                    "text": f"incident tabulator {i} jammed at KS-{i}"}) as r:
                await r.read()
                assert r.status == 200
            out.append(time.perf_counter() - start)
            await asyncio.sleep(spacing)
    return out


def reporter(url: str, count: int, spacing: float) -> list[float]:
    """The person filing incidents, in a process of their own (the first few warm up)."""
    return asyncio.run(incident_latency(url, count + WARM_UP, spacing))[WARM_UP:]


def latency(values: list[float]) -> dict[str, float]:
    """p50 / p99 / max in milliseconds."""
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 1)
    return {"reports": len(values), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": at(1.0)}


def rss_mb() -> dict[str, float]:
    """This process's resident memory now and at its peak (from /proc, in MB)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"now_mb": fields.get("VmRSS", 0.0), "peak_mb": fields.get("VmHWM", 0.0)}


def bot_process(total: int, database_url: str | None, split: bool, urls: dict[str, Any],
                conn: Connection, profile: str | None = None) -> None:
    """The bot (`electionbot serve`: web and outbox) in a process of its own, so its RSS and
    CPU are its own: it sets up the network, sends the alert on "send", and reports.

    With ``profile`` (a file name) the broadcast is profiled with cProfile (stats written there).
    """
    asyncio.run(_bot(total, database_url, split, urls, conn, profile))


async def _bot(total: int, database_url: str | None, split: bool, urls: dict[str, Any],
               conn: Connection, profile: str | None = None) -> None:
    loop = asyncio.get_running_loop()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DATABASE_URL": database_url} if database_url else None
        settings = alert_settings(Path(tmp), env, pacing={"slack_workspace_per_second":
                                                          SLACK_WORKSPACE_BUDGET})
        async with running_bot(settings, background=not split) as bot, \
                contextlib.AsyncExitStack() as stack:
            services = bot.services
            slack = ByWorkspace({
                ws: SlackTransport(build_send_client(url, "xoxb-bench"), services.db)
                for ws, url in urls["slack"].items()})
            services.outbox.register("slack", slack)
            here_w = None
            if split:  # the web process only takes requests; a worker process sends
                here_w, there_w = multiprocessing.get_context("spawn").Pipe()
                worker = multiprocessing.get_context("spawn").Process(
                    target=sender, daemon=True, args=(
                        str(settings.env.ELECTIONBOT_CONFIG), settings.env.DATABASE_URL,
                        urls["slack"], there_w))
                worker.start()
                stack.callback(worker.join, 20)
                assert here_w.recv() == "ready"
            dests = network(total)
            async with services.db.session() as s:
                for d, _j in dests:
                    if d.startswith("teams:"):
                        s.add(teams_reference(d.split(":", 2)[2], urls["teams"] + "/"))
                for d, j in dests:
                    s.add(NetworkMember(group_name="bench", tier="T1", destination=d,
                                        organisation="Org", jurisdiction=j))
                await s.commit()
            ready_to_serve()  # as `electionbot serve` does once it is ready
            cpu0 = time.process_time()
            conn.send({"url": bot.url, "rss_idle": rss_mb()})
            assert await loop.run_in_executor(None, conn.recv) == "send"
            print("bot process: sending", file=sys.stderr, flush=True)
            # The loop thread's CPU time, not the wall clock: on a loaded machine a wall-clock
            # profile bills the time the process waited for a core to whatever it was doing.
            profiler = cProfile.Profile(time.thread_time) if profile else None
            lags: list[float] = []
            watch = asyncio.create_task(loop_lag(lags))
            if profiler is not None:
                profiler.enable()
            app, now = settings.app, utcnow()
            clean, _ = validate(compose_values(tiers="", groups="bench"), app, now, child=False,
                                known_groups={"bench"})
            assert clean is not None
            actor = Actor("webchat:local:bc1", app)
            alert, _ = await service.create_draft(db=services.db, app=app, actor=actor,
                                                  clean=clean, reply_to="webchat:local:@bc1",
                                                  now=now)
            start, pressed = time.perf_counter(), utcnow()
            pressed_at = time.monotonic()  # the machine's clock, as the platforms' arrivals
            await service.send(db=services.db, app=app, actor=actor, public_id=alert.public_id,
                               now=now)
            send_call = time.perf_counter() - start
            elapsed = await wait_done(services, alert.public_id, total, start)
            done_at = time.monotonic()
            watch.cancel()
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(profile)
            groups = await group_timings(services, alert.public_id)
            last = max(utcnow().fromisoformat(t["last_sent_at"]) for t in groups.values())
            last = last if last.tzinfo else last.replace(tzinfo=pressed.tzinfo)  # SQLite: UTC
            result = {"completion_seconds": elapsed, "send_call_seconds": send_call,
                      "last_delivery_seconds": (last - pressed).total_seconds(),
                      "per_group": groups, "rss": rss_mb(),
                      "pressed_at": pressed_at, "done_at": done_at, "loop_lag": lag_summary(lags),
                      "cpu_seconds": round(time.process_time() - cpu0, 2),
                      "repaced": getattr(services.outbox, "repaced", None),
                      "gate": gate_stats(services.outbox)}
            if here_w is not None:
                here_w.send("stop")
                result["worker"] = here_w.recv()
            conn.send(result)  # the web keeps serving the reporter until told to stop
            assert await loop.run_in_executor(None, conn.recv) == "stop"
            for transport in slack.transports.values():
                await transport.aclose()


class LoadSampler:
    """The machine's 1-minute load average, sampled every second on a thread."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        return {"cores": os.cpu_count() or 0, "load1_start": self.samples[0],
                "load1_end": self.samples[-1], "load1_max": max(self.samples),
                "load1_mean": round(sum(self.samples) / len(self.samples), 2)}


async def run(total: int, database_url: str | None = None, reports: int = 300,
              split: bool = False, profile: str | None = None) -> dict[str, Any]:
    here, there = multiprocessing.Pipe()
    platforms = multiprocessing.Process(target=world, args=(there,), daemon=True)
    platforms.start()
    urls = here.recv()
    loop = asyncio.get_running_loop()
    spawn = multiprocessing.get_context("spawn")
    to_bot, bot_end = spawn.Pipe()
    bot = spawn.Process(target=bot_process, daemon=True,
                        args=(total, database_url, split, urls, bot_end, profile))
    bot.start()
    print(f"bot process: pid {bot.pid}", file=sys.stderr)  # for a sampling profiler (py-spy)
    with ProcessPoolExecutor(1) as people, LoadSampler() as load:
        ready = await loop.run_in_executor(None, to_bot.recv)
        idle = await loop.run_in_executor(people, reporter, ready["url"], reports, 0.02)
        # Reports are filed from the moment the broadcaster presses send.
        busy_run = loop.run_in_executor(people, reporter, ready["url"], reports, 0.1)
        to_bot.send("send")
        done = await loop.run_in_executor(None, to_bot.recv)
        busy = await busy_run
    to_bot.send("stop")
    bot.join(30)
    here.send("report")
    report = here.recv()
    here.send("stop")
    platforms.join(10)
    dests = network(total)
    wanted = {d for d, _ in dests}
    counts = Counter({d: report["delivered"].get(d, 0) for d in wanted})
    per_platform = Counter(d.split(":")[0] + ":" + d.split(":")[1] for d in wanted)
    limits = {f"slack:{ws}": SLACK_WORKSPACE_BUDGET for ws in urls["slack"]}
    limits["teams:tenant1"] = TEAMS_TENANT
    ideal = max(per_platform[g] / limit for g, limit in limits.items())
    elapsed = done["completion_seconds"]
    groups = done["per_group"]
    for group, timing in groups.items():  # each group's own rate against its limit
        span = timing["first_to_last_s_exact"]
        timing["fraction_of_limit"] = (round((timing["sent"] - 1) / span / limits[group], 3)
                                       if span else None)
    platform = {group: platform_view(report["arrivals"].get(group, []), limit,
                                     done["pressed_at"], done["done_at"])
                for group, limit in limits.items()}
    fair = [p["fraction_of_limit_while_backlog"] for p in platform.values()
            if "fraction_of_limit_while_backlog" in p]
    return {
        "destinations": total, "per_platform": dict(per_platform),
        "limits": {"slack_channel_per_s": 1, "slack_workspace_per_s": SLACK_WORKSPACE_BUDGET,
                   "teams_conversation": "7/1s, 60/30s", "teams_tenant_per_s": TEAMS_TENANT},
        "completion_seconds": round(elapsed, 1),
        "last_delivery_seconds": round(done["last_delivery_seconds"], 2),
        "send_call_seconds": round(done["send_call_seconds"], 2),
        "ceiling_seconds": round(ideal, 1),
        "achieved_fraction_of_ceiling": round(ideal / elapsed, 3),
        # From pressing send to the last delivery recorded (the completion above also holds the
        # harness's 0.25 s polling and the last outcomes' write).
        "fraction_of_ceiling_at_last_delivery": round(ideal / done["last_delivery_seconds"], 3),
        "fraction_of_limit_per_platform": {g: t["fraction_of_limit"] for g, t in groups.items()},
        # Per limit, as the platform counted (arrival times of accepted requests), over the
        # span it had a backlog; the least of them. The figures above are kept as they were.
        "platform_fraction_of_limit_while_backlog": {
            g: p.get("fraction_of_limit_while_backlog") for g, p in platform.items()},
        "platform_fraction_of_limit_while_backlog_min": min(fair) if fair else None,
        "platform_view": platform,
        "duplicates": sum(1 for n in counts.values() if n > 1),
        "lost": sum(1 for n in counts.values() if n == 0),
        "per_group": groups,
        "throttled_429": report["throttled"],
        "repaced_sends": done["repaced"],
        "gate_waits": done.get("gate"),
        "bot_loop_lag_during_broadcast": done.get("loop_lag"),
        "bot_process": {"rss_idle_mb": ready["rss_idle"]["now_mb"],
                        "rss_end_mb": done["rss"]["now_mb"],
                        "rss_peak_mb": done["rss"]["peak_mb"],
                        "cpu_seconds_during_broadcast": done["cpu_seconds"],
                        **({"worker": done["worker"]} if "worker" in done else {})},
        "bot_cpu_seconds_per_1000_sends": round(done["cpu_seconds"] / total * 1000, 2),
        "machine_load": load.summary(),
        "incident_latency": {"idle": latency(idle), "during_broadcast": latency(busy)},
        "database": "postgresql" if database_url else "sqlite file",
        "processes": ("bot web (serve --no-worker) + bot worker (outbox); platforms, reporter "
                      "and harness apart" if split else
                      "bot (serve: web and outbox) in its own process; platforms, reporter and "
                      "harness apart"),
        "transports": {"slack": "real SlackTransport vs fake Slack Web API (per workspace)",
                       "teams": "real TeamsTransport vs fake Bot Connector"},
    }


async def group_timings(services: Any, public_id: str) -> dict[str, Any]:
    """Per pacing group: seconds from the first to the last send, sends, rate, retried rows."""
    import sqlalchemy as sa

    async with services.db.engine.connect() as conn:
        rows = (await conn.execute(sa.text(
            "SELECT destination, sent_at, attempts FROM outbox_message WHERE key LIKE :p "
            "AND status = 'sent'"), {"p": f"alert:{public_id}:send:%"})).all()
    spans: dict[str, list[Any]] = {}
    for destination, sent_at, attempts in rows:
        group = ":".join(destination.split(":")[:2])
        spans.setdefault(group, []).append((str(sent_at), attempts))
    out = {}
    for group, items in sorted(spans.items()):
        times = sorted(utcnow().fromisoformat(t) for t, _ in items)
        span = (times[-1] - times[0]).total_seconds()
        out[group] = {"sent": len(items), "first_to_last_s": round(span, 1),
                      "last_sent_at": times[-1].isoformat(),
                      "first_to_last_s_exact": span,
                      "per_second": round(len(items) / span, 1) if span else None,
                      "retried": sum(1 for _, a in items if a > 1)}
    return out


async def wait_done(services: Any, public_id: str, total: int, start: float) -> float:
    import sqlalchemy as sa

    while True:
        async with services.db.engine.connect() as conn:
            done = (await conn.execute(sa.text(
                "SELECT count(*) FROM outbox_message WHERE key LIKE :p AND status IN "
                "('sent', 'dead')"), {"p": f"alert:{public_id}:send:%"})).scalar_one()
        if done >= total:
            return time.perf_counter() - start
        await asyncio.sleep(0.25)


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty database on the local PostgreSQL, dropped afterwards."""
    name = f"eb_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--destinations", type=int, default=5000)
    parser.add_argument("--reports", type=int, default=300,
                        help="incidents filed while idle, and again during the broadcast")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite",
                        help="the embedded default, or the scale path (local PostgreSQL)")
    parser.add_argument("--split", action="store_true",
                        help="web and sender in separate processes (needs --database postgresql)")
    parser.add_argument("--out", type=Path, help="also write the JSON document to this file")
    parser.add_argument("--profile", type=Path,
                        help="profile the bot process's broadcast (cProfile stats to this file)")
    args = parser.parse_args()
    profile = str(args.profile.resolve()) if args.profile else None
    if args.split and args.database != "postgresql":
        parser.error("--split needs --database postgresql (one process owns a SQLite file)")
    if args.database == "sqlite":
        result = asyncio.run(run(args.destinations, reports=args.reports, profile=profile))
    else:
        with fresh_postgres() as url:
            result = asyncio.run(run(args.destinations, url, args.reports, args.split, profile))
    result["commit"] = commit()
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def commit() -> str:
    """The checked-out commit of ROOT (which code was measured)."""
    import subprocess

    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True, check=False).stdout.strip()


if __name__ == "__main__":
    main()
