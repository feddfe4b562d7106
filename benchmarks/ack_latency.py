"""Ack latency of a signed `/ask` slash command: electionbot vs a bare slack-bolt app.

Both are served by aiohttp on 127.0.0.1 in this process, with Slack's Web API replaced by the
fake from tests/fakes. electionbot does its real work (dedupe row, knowledge search, answer
posted to response_url) after the ack, in the same event loop, so its numbers include that
competition; the bare app only acks. Prints one JSON document.

    .venv/bin/python benchmarks/ack_latency.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request  # noqa: E402, TID251
from slack_bolt.async_app import AsyncAck, AsyncApp  # noqa: E402, TID251
from slack_sdk.signature import SignatureVerifier  # noqa: E402, TID251
from slack_sdk.web.async_client import AsyncWebClient  # noqa: E402, TID251

from tests.fakes.slack_api import FakeSlackApi  # noqa: E402
from tests.support import make_settings, running_bot  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench-token"
CONCURRENCY = (1, 10, 50)


@asynccontextmanager
async def bare_bolt(fake: FakeSlackApi) -> AsyncIterator[str]:
    """A slack-bolt AsyncApp that only acks `/ask`, served by aiohttp the same way."""
    bolt = AsyncApp(signing_secret=SECRET, process_before_response=False,
                    client=AsyncWebClient(token=TOKEN, base_url=fake.api_url))

    @bolt.command("/ask")
    async def ask(ack: AsyncAck) -> None:
        await ack()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/slack/events", events)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/slack/events"
    finally:
        await runner.cleanup()


def signed_command(fake: FakeSlackApi, n: int) -> tuple[bytes, dict[str, str]]:
    """A distinct signed `/ask` (distinct trigger and text, so nothing is deduplicated)."""
    raw = urlencode({
        "team_id": "T0BENCH", "channel_id": "C0BENCH", "channel_name": "bench",
        "user_id": f"U{n:06d}", "user_name": "bench", "command": "/ask",
        "text": f"what is the pause method {n}", "response_url": fake.response_url(str(n)),
        "trigger_id": f"trigger-{n}", "api_app_id": "A0BENCH",
    }).encode()
    ts = str(int(time.time()))
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=raw)
    return raw, {"Content-Type": "application/x-www-form-urlencoded",
                 "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": str(signature)}


async def measure(http: aiohttp.ClientSession, url: str, fake: FakeSlackApi, start: int,
                  total: int, concurrency: int) -> dict[str, float | int]:
    """Send ``total`` commands, ``concurrency`` at a time; latency until the ack arrives."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(start, start + total):
        queue.put_nowait(n)

    async def worker() -> None:
        nonlocal failures
        while not queue.empty():
            raw, headers = signed_command(fake, queue.get_nowait())
            began = time.perf_counter()
            async with http.post(url, data=raw, headers=headers) as resp:
                await resp.read()
                ok = resp.status == 200
            latencies.append((time.perf_counter() - began) * 1000)
            failures += 0 if ok else 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    ordered = sorted(latencies)
    return {"requests": total, "non_200": failures,
            "p50_ms": round(statistics.median(ordered), 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
            "max_ms": round(ordered[-1], 2)}


async def run(total: int) -> dict[str, object]:
    """Both targets at each concurrency level, interleaved, in one process."""
    results: dict[str, dict[str, object]] = {"electionbot": {}, "bare_bolt": {}}
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeSlackApi() as fake:
            env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET,
                   "SLACK_API_URL": fake.api_url}
            settings = make_settings(Path(tmp), env)
            async with running_bot(settings) as bot, bare_bolt(fake) as bare_url, \
                    aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as http:
                ours, sent = f"{bot.url}/slack/events", 0
                await measure(http, ours, fake, 10**6, 20, 5)  # warm-up: auth.test, imports
                await measure(http, bare_url, fake, 2 * 10**6, 20, 5)
                for concurrency in CONCURRENCY:
                    key = f"concurrency_{concurrency}"
                    results["electionbot"][key] = await measure(
                        http, ours, fake, sent, total, concurrency)
                    sent += total
                    # Let the answers land so they do not load the next measurement.
                    await fake.wait_for("response", sent + 20, timeout=300)
                    results["bare_bolt"][key] = await measure(
                        http, bare_url, fake, 10**7 + sent, total, concurrency)
                answered = len(fake.calls_to("response"))
    return {"benchmark": "slack slash command ack latency (ms, real HTTP on 127.0.0.1)",
            "requests_per_configuration": total, "answers_delivered": answered,
            "results": results}


def main() -> None:
    """Parse arguments, run, print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.requests)), indent=2))


if __name__ == "__main__":
    main()
